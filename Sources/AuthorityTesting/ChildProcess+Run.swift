import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// How a command run to its end by `ChildProcess.run` ended, and what it printed.
public struct CommandResult: Sendable, CustomStringConvertible {
    /// How it ended; nil only when it survived even SIGKILL for 5 s.
    public var exit: ExitStatus?
    /// It was still running after the timeout and was killed.
    public var timedOut: Bool
    public var stdout: String
    public var stderr: String

    /// What a shell reports: the exit status, 128 + the signal, or -1 when it did not end.
    public var status: Int32 {
        switch exit {
        case .exited(let code): code
        case .signalled(let signal): 128 + signal
        case nil: -1
        }
    }

    public var description: String {
        "\(exit.map { "\($0)" } ?? "still running")\(timedOut ? " (timed out)" : "")\nstdout: \(stdout)\nstderr: \(stderr)"
    }
}

extension ChildProcess {
    /// Runs `command` (an absolute path and its arguments) to its end, killed after `timeout`
    /// seconds. `stdin` is written to a file the command reads; both outputs go through files, so
    /// a chatty command never blocks on a full pipe.
    public static func run(
        _ command: [String], environment: [String: String] = ProcessInfo.processInfo.environment,
        stdin: String? = nil, timeout: Double = 30
    ) throws -> CommandResult {
        let directory = try TemporaryDirectory("au-run")
        defer { directory.remove() }
        let (inPath, outPath, errPath) = (directory.path + "/in", directory.path + "/out", directory.path + "/err")
        if let stdin { try stdin.write(toFile: inPath, atomically: false, encoding: .utf8) }
        let child = try ChildProcess(
            command, environment: environment, stdin: stdin == nil ? "/dev/null" : inPath, stdout: outPath,
            stderr: errPath)
        var exit = child.wait(timeout: timeout)
        let timedOut = exit == nil
        if timedOut {
            child.signal(SIGKILL)
            exit = child.wait(timeout: 5)
        }
        /// Decoded leniently: a command that prints invalid UTF-8 still shows what it printed.
        func text(_ path: String) -> String {
            String(decoding: (try? Data(contentsOf: URL(fileURLWithPath: path))) ?? Data(), as: UTF8.self)
        }
        return CommandResult(exit: exit, timedOut: timedOut, stdout: text(outPath), stderr: text(errPath))
    }
}
