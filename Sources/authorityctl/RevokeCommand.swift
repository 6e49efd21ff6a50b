import ArgumentParser
import AuthorityAPI
import Foundation

/// `authorityctl revoke --id ID | --prefix PATH | --issued-before TIME [--prefix PATH]`.
struct Revoke: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Revoke one link, every link under a path, or links issued before a time (POST /v1/revocations).",
        usage: """
            authorityctl revoke --id <id> [--reason <text>]
            authorityctl revoke --prefix <path> [--reason <text>]
            authorityctl revoke --issued-before <time> [--prefix <path>] [--reason <text>]
            """,
        discussion: "Effective on the very next check. Prints the revocation's serial and what it covers.")

    @OptionGroup var global: GlobalOptions

    // Unconditional: one link id in 64 starts with "-", and it is still the value, not an option.
    @Option(parsing: .unconditional, help: ArgumentHelp("The link id (au_id) to revoke.", valueName: "id"))
    var id: String?

    @Option(
        help: ArgumentHelp(
            "A path: a standing block. Every request under it is refused, whatever link it carries and whenever "
                + "that link was issued, and no link is issued under it, until an admin lifts it "
                + "(authorityctl revocations lift SERIAL).",
            valueName: "path"))
    var prefix: String?

    @Option(
        help: ArgumentHelp(
            "Revoke links issued strictly before this time (RFC 3339 or Unix seconds), under --prefix or /.",
            valueName: "time"))
    var issuedBefore: TimeArgument?

    @Option(parsing: .unconditional, help: ArgumentHelp("Why (kept with the revocation, at most 500 bytes).", valueName: "text"))
    var reason: String?

    func validate() throws {
        switch (id, prefix, issuedBefore) {
        case (_?, nil, nil), (nil, _?, _), (nil, nil, _?): break
        case (_?, _, _): throw ValidationError("--id cannot be combined with --prefix or --issued-before")
        case (nil, nil, nil): throw ValidationError("give one of --id, --prefix or --issued-before")
        }
    }

    func run() async throws {
        let body = RevokeRequest(id: id, prefix: prefix, issuedBefore: issuedBefore?.unixSeconds, reason: reason)
        let client = global.client
        let answer = try await client.request(.POST, "/v1/revocations", json: body, success: 201)
        if global.json { return Output.raw(answer.body) }
        let entry = try client.decode(RevocationEntry.self, answer, "POST /v1/revocations")
        var line = "revocation \(entry.serial): \(Self.covered(entry))"
        if let reason = entry.reason { line += " (reason: \(reason))" }
        Output.line(line)
    }

    /// What a revocation covers, in words.
    static func covered(_ entry: RevocationEntry) -> String {
        switch entry.kind {
        case "id": "link \(entry.id ?? "?")"
        case "prefix": "every request under \(entry.prefix ?? "?") (standing block)"
        case "issued_before":
            "links issued before \(Format.utc(entry.issuedBefore)) under \(entry.prefix ?? "/")"
        default: entry.kind
        }
    }
}

/// `authorityctl revocations list [--after N] [--limit N] [--all]`.
struct Revocations: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "revocations",
        abstract: "List the revocations, or lift one.",
        subcommands: [List.self, Lift.self],
        defaultSubcommand: List.self
    )

    /// `authorityctl revocations lift SERIAL`: the audited end of a revocation (admin).
    struct Lift: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Lift one revocation by its serial (DELETE /v1/revocations/{serial}, admin right).",
            discussion: """
                The only way a standing prefix block ends. The links it covered pass again from the next \
                check. Recorded in the audit log as revoke.lift.
                """)

        @OptionGroup var global: GlobalOptions

        @Argument(help: ArgumentHelp("The revocation's serial (see authorityctl revocations list).", valueName: "serial"))
        var serial: Int64

        func validate() throws {
            if serial < 1 { throw ValidationError("the serial must be a positive integer") }
        }

        func run() async throws {
            let client = global.client
            let answer = try await client.request(.DELETE, "/v1/revocations/\(serial)")
            if global.json { return Output.raw(answer.body) }
            let entry = try client.decode(RevocationEntry.self, answer, "DELETE /v1/revocations/\(serial)")
            Output.line("lifted revocation \(entry.serial): \(Revoke.covered(entry))")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List revocations, oldest first (GET /v1/revocations).")

        @OptionGroup var global: GlobalOptions

        @Option(help: ArgumentHelp("Only revocations with a serial above this.", valueName: "serial"))
        var after: Int64?

        @Option(help: ArgumentHelp("At most this many per page, 1-1000 (default 100).", valueName: "n"))
        var limit: Int?

        @Flag(help: "Follow every page to the end.")
        var all = false

        func validate() throws {
            if let limit, !(1...1_000).contains(limit) { throw ValidationError("--limit must be 1 to 1000") }
            if let after, after < 0 { throw ValidationError("--after must not be negative") }
        }

        func run() async throws {
            let client = global.client
            var entries: [RevocationEntry] = []
            var cursor = after
            var pages = 0
            while true {
                let query = [cursor.map { "after=\($0)" }, limit.map { "limit=\($0)" }].compactMap(\.self)
                let target = "/v1/revocations" + (query.isEmpty ? "" : "?" + query.joined(separator: "&"))
                let (page, answer) = try await client.get(target, as: RevocationPage.self)
                pages += 1
                if global.json && !all { return Output.raw(answer.body) }
                entries += page.revocations
                cursor = page.nextAfter
                guard all, let next = page.nextAfter, pages < 100_000 else { break }
                cursor = next
            }
            if global.json {
                let merged = RevocationPage(revocations: entries, nextAfter: nil)
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.withoutEscapingSlashes]
                return Output.raw(try encoder.encode(merged))
            }
            Output.lines(Self.table(entries))
            if let cursor { Output.error("authorityctl: more revocations follow: --after \(cursor) (or --all)") }
        }

        static func table(_ entries: [RevocationEntry]) -> [String] {
            Format.table(
                ["SERIAL", "KIND", "COVERS", "CREATED", "BY_UID", "REASON"],
                entries.map {
                    [
                        String($0.serial), $0.kind, Revoke.covered($0), Format.utc($0.createdAt),
                        $0.createdByUID.map(String.init) ?? "-", $0.reason ?? "",
                    ]
                })
        }
    }
}
