import ArgumentParser
import AuthorityCore
import AuthorityEdge
import Foundation

extension BundleCommand {
    /// `authorityctl bundle verify --keys JWKS BUNDLE [URL …] [--now TIME]`: no daemon involved.
    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check a saved bundle offline with the edge verifier (AuthorityEdge), and a link against it.",
            discussion: """
                Accepts BUNDLE (binary or JSON) with the JWK set at --now (default: this machine's clock) \
                as docs/revocation-bundle.md §6 says, and prints `ok:` and its summary or `refused: CODE: …`. \
                With a URL, then checks the link as the edge would (§7) and prints `link: ok` or \
                `link: refused: REASON`. Exit 0 when the bundle and the link (if any) are ok, 1 when \
                either is refused, 2 for a file that cannot be read or a JWK set that does not parse. \
                A delta or a freshness object cannot be accepted alone (base_mismatch, newer).
                """)

        @Option(help: ArgumentHelp("The JWK set (bundle fetch --keys, or keys export).", valueName: "file"), completion: .file())
        var keys: String

        @Argument(help: ArgumentHelp("The bundle: a file saved by bundle fetch.", valueName: "bundle"), completion: .file())
        var bundle: String

        @Argument(help: ArgumentHelp("A link to check against it: absolute URL or origin form.", valueName: "url"))
        var url: String?

        @OptionGroup var request: RequestOptions

        @Option(help: ArgumentHelp("The verifier's clock: RFC 3339 or Unix seconds (default: now).", valueName: "time"))
        var now: TimeArgument?

        func validate() throws {
            if url == nil, request.method != nil || request.ip != nil || request.host != nil {
                throw ValidationError("--method, --ip and --host describe the request of a link: give its URL")
            }
        }

        func run() throws {
            let outcome = try outcome(at: now?.unixSeconds ?? Int64(Date().timeIntervalSince1970))
            Output.lines(outcome.lines)
            if outcome.status != .success { throw ExitCode(outcome.status.rawValue) }
        }

        /// What to print, and the exit status.
        struct Outcome: Equatable {
            var lines: [String]
            var status: ExitStatus
        }

        /// The files read and judged at `time`.
        func outcome(at time: Int64) throws(Failure) -> Outcome {
            let (keyBytes, bundleBytes) = (try Files.read(keys), try Files.read(bundle))
            var edge: EdgeVerifier
            do {
                edge = EdgeVerifier(keys: try JSONWebKeys(json: Data(keyBytes)))
            } catch {
                throw Failure(message: "\(keys): \(error)", status: .usage)
            }
            let (accepted, line) = Self.accept(bundleBytes, by: &edge, at: time)
            guard let url else { return Outcome(lines: [line], status: accepted ? .success : .refused) }
            let verdict = edge.check(request.linkRequest(url), now: time)
            var lines = [line, verdict.isValid ? "link: ok" : "link: refused: \(verdict.reason.code)"]
            if let detail = verdict.steps.detail { lines.append("detail: \(detail)") }
            return Outcome(lines: lines, status: accepted && verdict.isValid ? .success : .refused)
        }

        /// §6 at `time`: whether the object was accepted, and `ok: <summary>`, `newer: <summary>`
        /// or `refused: <code>: <why>`.
        static func accept(_ bytes: [UInt8], by edge: inout EdgeVerifier, at time: Int64) -> (Bool, String) {
            do {
                let object = try EdgeVerifier.object(bytes)
                let answer = try edge.accept(object, now: time)
                return (answer == .ok, "\(answer.rawValue): \(BundleCommand.summary(object))")
            } catch {
                return (false, "refused: \(refusal(error))")
            }
        }

        /// `code: why`, with a time in UTC as everywhere in authorityctl.
        static func refusal(_ error: BundleError) -> String {
            if case .stale(let notAfter) = error { return "\(error.code): not after \(Format.utc(notAfter))" }
            return error.description
        }
    }
}

extension RequestOptions {
    /// The request these options describe, for the link at `url`. A client address that does not
    /// parse counts as missing, as for the daemon.
    func linkRequest(_ url: String) -> LinkRequest {
        LinkRequest(target: url, host: host, method: upperMethod ?? "GET", clientAddress: ip.flatMap { IPAddress($0) })
    }
}
