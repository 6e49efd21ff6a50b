import ArgumentParser
import AuthorityAPI
import Foundation

/// `authorityctl explain URL …`: what a link grants, what was signed, and how every check goes.
struct Explain: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show what a link grants and every check with its outcome (POST /v1/links/explain).",
        discussion: """
            Prints the decoded grant (times in UTC and relative), the canonical message that was \
            signed, and every check in order with the first failure marked. Never shows the \
            signature or any secret, and never uses a use. Exit status 0 when valid, 1 when refused.
            """)

    @OptionGroup var global: GlobalOptions

    @Argument(help: "The link: absolute URL or origin form (/path?…&au_sig=…).")
    var url: String

    @OptionGroup var request: RequestOptions

    func run() async throws {
        let body = ExplainLinkRequest(url: url, method: request.upperMethod, clientIP: request.ip, host: request.host)
        let client = global.client
        let answer = try await client.request(.POST, "/v1/links/explain", json: body)
        let explained = try client.decode(ExplainLinkResponse.self, answer, "POST /v1/links/explain")
        if global.json {
            Output.raw(answer.body)
        } else {
            Output.lines(Self.render(explained))
        }
        if !explained.valid { throw ExitCode(ExitStatus.refused.rawValue) }
    }

    /// The whole explanation as lines of text.
    static func render(_ explained: ExplainLinkResponse) -> [String] {
        let now = explained.now
        var fields: [(String, String)] = [("verdict", explained.valid ? "valid" : "refused: \(explained.reason)")]
        if let grant = explained.grant {
            fields += grantFields(grant, now: now)
        } else {
            fields.append(("grant", "none: the link does not parse"))
        }
        fields.append(("checked at", "\(Format.utc(now)) (the daemon's clock)"))
        var lines = Format.fields(fields)
        if let message = explained.signedMessage {
            lines.append("")
            lines.append("signed message:")
            lines += message.split(separator: "\n", omittingEmptySubsequences: false)
                .dropLast(message.hasSuffix("\n") ? 1 : 0)
                .map { "    " + $0 }
        }
        lines.append("")
        lines.append("checks:")
        lines += checkLines(explained.checks)
        return lines
    }

    static func grantFields(_ grant: ExplainedGrant, now: Int64) -> [(String, String)] {
        var fields: [(String, String)] = []
        if grant.scope == "prefix" {
            fields.append(("resource", "every path under \(grant.prefix ?? grant.path) (prefix link)"))
        } else {
            fields.append(("resource", grant.query.isEmpty ? grant.path : "\(grant.path)?\(grant.query)"))
        }
        fields.append(("methods", grant.methods.joined(separator: ", ")))
        fields.append(("epoch", String(grant.epoch)))
        fields.append(("link id", grant.id))
        fields.append(("issued", Format.utcAndRelative(grant.issuedAt, now: now)))
        fields.append(("not before", grant.notBefore.map { Format.utcAndRelative($0, now: now) } ?? "-"))
        fields.append(("expires", Format.utcAndRelative(grant.expiresAt, now: now)))
        fields.append(("host", grant.host.map { "\($0) (bound)" } ?? "any"))
        fields.append(("client ip", grant.ip.map { "\($0) (bound)" } ?? "any"))
        var flags: [String] = []
        if grant.useLimited { flags.append("use-limited") }
        if grant.passwordProtected { flags.append("password-protected") }
        fields.append(("flags", flags.isEmpty ? "none" : flags.joined(separator: ", ")))
        return fields
    }

    /// `✓ name  pass`, `- name  skipped  why`, `✗ name  fail  reason  ← first failure` with the
    /// failure's detail on the next line.
    static func checkLines(_ checks: [ExplainedCheck]) -> [String] {
        let rows = checks.map { check -> [String] in
            switch check.outcome {
            case "pass": return ["✓ \(check.name)", "pass"]
            case "fail": return ["✗ \(check.name)", "fail", check.reason + (check.decisive ? "  ← first failure" : "")]
            default: return ["- \(check.name)", check.outcome, check.detail ?? ""]
            }
        }
        let width = rows.map { $0[0].count }.max() ?? 0
        var lines: [String] = []
        for (check, line) in zip(checks, Format.table([], rows, indent: "  ").dropFirst()) {
            lines.append(line)
            if check.outcome == "fail", let detail = check.detail, !detail.isEmpty {
                lines.append(String(repeating: " ", count: width + 4) + detail)
            }
        }
        return lines
    }
}
