import ArgumentParser
import AuthorityAPI
import Foundation

/// `authorityctl links show ID`: one issued link's record and state.
struct Links: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show what the daemon keeps of the links it issued.",
        subcommands: [Show.self])

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show one link's grant, reference, uses and state (GET /v1/links/{id}).",
            discussion: """
                The link's issuer may ask, and the admin right for any link. ID is the link's au_id \
                (22 base64url characters, as `authorityctl issue --json` prints it). Exit 5 with \
                link.not_found when no such link of yours is on record.
                """)

        @OptionGroup var global: GlobalOptions

        @Argument(help: "The link id (au_id).")
        var id: String

        func validate() throws {
            let alphabet = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
            guard id.count == 22, id.allSatisfy(alphabet.contains) else {
                throw ValidationError("ID must be the 22 base64url characters of a link's au_id")
            }
        }

        func run() async throws {
            let client = global.client
            let (link, answer) = try await client.get("/v1/links/\(id)", as: LinkStateResponse.self)
            if global.json { return Output.raw(answer.body) }
            let now = Int64(Date().timeIntervalSince1970)
            var fields: [(String, String)] = [
                ("id", link.id),
                ("status", link.status),
                ("ref", link.ref ?? "-"),
                ("resource", link.resource + (link.prefix ? " (prefix)" : "")),
                ("methods", link.methods.joined(separator: ", ")),
                ("host", link.host ?? "any"),
                ("ip", link.ip ?? "any"),
                ("epoch", String(link.epoch)),
                ("issued", Format.utcAndRelative(link.issuedAt, now: now)),
                ("expires", Format.utcAndRelative(link.expiresAt, now: now)),
            ]
            if let notBefore = link.notBefore { fields.append(("not before", Format.utcAndRelative(notBefore, now: now))) }
            fields.append(("issuer uid", link.issuerUID.map { String($0) } ?? "-"))
            if let maxUses = link.maxUses {
                let counts = link.uses.map { "\($0) of \(maxUses) used, \(link.usesLeft ?? 0) left" } ?? "\(maxUses) (counter collected)"
                fields.append(("uses", counts))
            }
            if link.password { fields.append(("password", link.lockedUntil.map { "locked until \(Format.utc($0))" } ?? "yes")) }
            if link.cookie { fields.append(("grant cookie", "yes")) }
            fields.append(("revoked by", link.revokedBy.isEmpty ? "-" : link.revokedBy.map { "#\($0)" }.joined(separator: ", ")))
            Output.lines(Format.fields(fields))
        }
    }
}
