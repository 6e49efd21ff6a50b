import AuthorityAPI
import AuthorityTesting
import Foundation
import Testing

/// How one run of `authorityctl` ended.
struct CtlResult: CustomStringConvertible {
    var arguments: [String]
    var status: Int32
    var stdout: String
    var stderr: String

    var description: String {
        "authorityctl \(arguments.joined(separator: " ")) → exit \(status)\nstdout: \(stdout)\nstderr: \(stderr)"
    }

    /// stdout split into lines (without the final empty one).
    var lines: [String] { stdout.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map(String.init) }
}

/// Runs the built `authorityctl` binary as a separate process.
enum Ctl {
    static let nobody = "65534"

    static var executable: String { Fixtures.executable(named: "authorityctl") }

    /// Runs `authorityctl arguments` with `stdin` fed to it, `$AUTHORITY_SOCKET` removed from the
    /// inherited environment (then `environment` added), optionally as uid/gid 65534 through
    /// `setpriv`. Waits at most `timeout` seconds.
    static func run(
        _ arguments: [String], stdin: String? = nil, environment: [String: String] = [:], asNobody: Bool = false,
        timeout: Double = 40
    ) throws -> CtlResult {
        let command = asNobody
            ? ["/usr/bin/setpriv", "--reuid", nobody, "--regid", nobody, "--clear-groups", executable] + arguments
            : [executable] + arguments
        var inherited = ProcessInfo.processInfo.environment
        inherited["AUTHORITY_SOCKET"] = nil
        let result = try ChildProcess.run(
            command, environment: inherited.merging(environment) { $1 }, stdin: stdin, timeout: timeout)
        if result.timedOut { Issue.record("authorityctl \(arguments) still running after \(timeout) s") }
        return CtlResult(arguments: arguments, status: result.status, stdout: result.stdout, stderr: result.stderr)
    }

    /// Expects `result` to have ended with `status`, and returns it.
    @discardableResult
    static func expect(
        _ result: CtlResult, _ status: Int32, sourceLocation: SourceLocation = #_sourceLocation
    ) -> CtlResult {
        #expect(result.status == status, "\(result)", sourceLocation: sourceLocation)
        return result
    }

    /// Expects exactly one line on stderr, `authorityctl: CODE: …`, and nothing on stdout.
    static func expectAPIError(
        _ result: CtlResult, _ status: Int32, _ code: String, sourceLocation: SourceLocation = #_sourceLocation
    ) {
        #expect(result.status == status, "\(result)", sourceLocation: sourceLocation)
        #expect(result.stderr.hasPrefix("authorityctl: \(code): "), "\(result)", sourceLocation: sourceLocation)
        #expect(result.stderr.filter { $0 == "\n" }.count == 1, "one line: \(result)", sourceLocation: sourceLocation)
        #expect(result.stdout.isEmpty, "\(result)", sourceLocation: sourceLocation)
    }

    /// Decodes the JSON on stdout.
    static func decode<T: Decodable>(_ type: T.Type, _ result: CtlResult) throws -> T {
        try JSONDecoder().decode(type, from: Data(result.stdout.utf8))
    }
}

extension DaemonProcess {
    /// `authorityctl --socket SOCKET arguments…` against this daemon.
    func ctl(_ arguments: String..., stdin: String? = nil, asNobody: Bool = false) throws -> CtlResult {
        try Ctl.run(["--socket", socketPath] + arguments, stdin: stdin, asNobody: asNobody)
    }

    /// `authorityctl issue …`, requiring exit 0; the link it printed.
    func ctlIssue(_ arguments: String..., sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
        let result = try Ctl.run(["--socket", socketPath, "issue"] + arguments)
        #expect(result.status == 0, "\(result)", sourceLocation: sourceLocation)
        #expect(result.lines.count == 1, "only the link: \(result)", sourceLocation: sourceLocation)
        return result.stdout.trimmingCharacters(in: .newlines)
    }
}

/// `YYYY-MM-DD HH:MM:SSZ` as authorityctl prints times.
func ctlTime(_ seconds: Int64) -> String {
    let formatter = DateFormatter()
    formatter.locale = Locale(identifier: "en_US_POSIX")
    formatter.timeZone = TimeZone(identifier: "UTC")
    formatter.dateFormat = "yyyy-MM-dd HH:mm:ss'Z'"
    return formatter.string(from: Date(timeIntervalSince1970: TimeInterval(seconds)))
}

/// The whitespace-separated columns of a table row.
func columns(_ line: String) -> [String] { line.split(separator: " ").map(String.init) }

/// A link with one character of its path changed: the path's last `a` becomes `b`.
func tampered(_ link: String) -> String {
    guard let query = link.firstIndex(of: "?"), let a = link[..<query].lastIndex(of: "a") else { return link + "x" }
    var changed = link
    changed.replaceSubrange(a...a, with: "b")
    return changed
}
