import ArgumentParser
import AuthorityAPI
import AuthorityCore
import AuthorityEdge
import Foundation

extension BundleCommand {
    /// `authorityctl bundle fetch -o FILE [--since SERIAL | --freshness] [--keys FILE]`.
    struct Fetch: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Save the revocation bundle (GET /v1/revocations/bundle) to a file and summarise it.",
            discussion: """
                Writes the daemon's answer unchanged, binary (with --json: the JSON twin), to --output \
                atomically (mode 0644: a bundle is public), then prints one line: kind, serial, times in \
                UTC and the size of its lists. The signature is not checked here: use bundle verify. \
                With -o -, the answer goes to stdout and nothing else is printed. Needs the check right.
                """)

        @OptionGroup var global: GlobalOptions

        @Option(
            name: [.short, .long],
            help: ArgumentHelp("The file to write ('-': stdout).", valueName: "file"), completion: .file())
        var output: String

        @Option(help: ArgumentHelp("A delta from this serial (the daemon answers a full bundle when it cannot).", valueName: "serial"))
        var since: Int64?

        @Flag(help: "The freshness object (GET /v1/revocations/bundle/freshness) instead of the bundle.")
        var freshness = false

        @Option(help: ArgumentHelp("Also save the JWK set (GET /v1/keys) to this file.", valueName: "file"), completion: .file())
        var keys: String?

        func validate() throws {
            if let since, since < 0 { throw ValidationError("--since must not be negative") }
            if freshness && since != nil { throw ValidationError("--since cannot be combined with --freshness") }
            if output.isEmpty || keys?.isEmpty == true { throw ValidationError("a file name must not be empty") }
            if keys == "-" { throw ValidationError("--keys needs a file (the JWK set is also `authorityctl keys export`)") }
        }

        /// The route and query asked for.
        var target: String {
            let path = freshness ? "/v1/revocations/bundle/freshness" : "/v1/revocations/bundle"
            let query = [since.map { "since=\($0)" }, global.json ? "format=json" : nil].compactMap(\.self)
            return path + (query.isEmpty ? "" : "?" + query.joined(separator: "&"))
        }

        func run() async throws {
            let bundleFile = output == "-" ? nil : try AtomicFile(output)
            let keysFile = try keys.map { path throws(Failure) in try AtomicFile(path) }
            let client = global.client
            let answer = try await client.request(
                .GET, target, accept: global.json ? "application/json" : RevocationBundle.binaryMediaType)
            let object: BundleObject
            do {
                object = try EdgeVerifier.object(Array(answer.body))
            } catch {
                throw Failure.unexpectedBody("GET \(target)", error)
            }
            var lines = [BundleCommand.summary(object)]
            if let keysFile {
                let (set, keysAnswer) = try await client.get("/v1/keys", as: JSONWebKeySet.self)
                try keysFile.commit(keysAnswer.body)
                lines.append("JWK set: \(BundleCommand.count(set.keys.count, "key")) in \(keysFile.path)")
            }
            guard let bundleFile else { return Output.bytes(answer.body) }
            try bundleFile.commit(answer.body)
            Output.lines(lines)
        }
    }
}
