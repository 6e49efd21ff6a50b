import ArgumentParser
import AuthorityAPI
import Foundation

/// The request a link is checked or explained against: method, client address, host.
struct RequestOptions: ParsableArguments {
    @Option(help: ArgumentHelp("The request's method (default GET).", valueName: "method"))
    var method: String?

    @Option(
        name: [.customLong("ip"), .customLong("client-ip")],
        help: ArgumentHelp("The client's address (needed for IP-bound links).", valueName: "addr"))
    var ip: String?

    @Option(help: ArgumentHelp("The request's host, for an origin-form URL (/path?…).", valueName: "host"))
    var host: String?

    var upperMethod: String? { method?.uppercased() }
}

/// `authorityctl check URL …`: exit 0 when the link lets the request pass, 1 when it is refused.
struct Check: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check whether a link lets a request pass (POST /v1/links/check).",
        discussion: """
            Prints `ok` or `refused: REASON` and the link's id, epoch and expiry. Exit status 0 when \
            valid, 1 when refused. A use-limited link uses one use on `ok` unless --no-consume.
            """)

    @OptionGroup var global: GlobalOptions

    @Argument(help: "The link: absolute URL or origin form (/path?…&au_sig=…).")
    var url: String

    @OptionGroup var request: RequestOptions

    @Flag(help: "Do not use up a use of a use-limited link.")
    var noConsume = false

    @Flag(help: "Read the link's password from the first line of stdin.")
    var passwordStdin = false

    func run() async throws {
        let body = CheckLinkRequest(
            url: url, method: request.upperMethod, clientIP: request.ip, host: request.host,
            password: passwordStdin ? try PasswordInput.readLine() : nil, consume: !noConsume)
        let client = global.client
        let answer = try await client.request(.POST, "/v1/links/check", json: body)
        let result = try client.decode(CheckLinkResponse.self, answer, "POST /v1/links/check")
        if global.json {
            Output.raw(answer.body)
        } else {
            Output.line(result.valid ? "ok" : "refused: \(result.reason)")
            let now = Int64(Date().timeIntervalSince1970)
            var fields: [(String, String)] = []
            if let id = result.id { fields.append(("id", id)) }
            if let epoch = result.epoch { fields.append(("epoch", String(epoch))) }
            if let expiresAt = result.expiresAt {
                fields.append(("expires", Format.utcAndRelative(expiresAt, now: now)))
            }
            if let remaining = result.remainingUses { fields.append(("uses left", String(remaining))) }
            if let detail = result.detail { fields.append(("detail", detail)) }
            Output.lines(Format.fields(fields))
        }
        if !result.valid { throw ExitCode(ExitStatus.refused.rawValue) }
    }
}
