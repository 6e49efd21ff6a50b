import ArgumentParser
import AuthorityAPI
import Foundation

/// `authorityctl keys list|rotate|retire|export`.
struct Keys: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys",
        abstract: "List, rotate, retire and export the signing key epochs.",
        subcommands: [List.self, Rotate.self, Retire.self, Export.self],
        defaultSubcommand: List.self
    )

    /// The `keys list` table: EPOCH STATUS CREATED RETIRE_AFTER RETIRED, times in UTC.
    static func table(_ keys: [JSONWebKey], indent: String = "") -> [String] {
        Format.table(
            ["EPOCH", "STATUS", "CREATED", "RETIRE_AFTER", "RETIRED"],
            keys.map {
                [$0.kid, $0.status, Format.utc($0.createdAt), Format.utc($0.retireAfter), Format.utc($0.retiredAt)]
            },
            indent: indent)
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Every epoch with its status (active, verify_only, retired) and times (GET /v1/keys).")

        @OptionGroup var global: GlobalOptions

        func run() async throws {
            let (set, answer) = try await global.client.get("/v1/keys", as: JSONWebKeySet.self)
            if global.json { return Output.raw(answer.body) }
            Output.lines(Keys.table(set.keys))
        }
    }

    struct Rotate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make a new active epoch; the previous one stays valid as verify_only (POST /v1/keys/rotate).")

        @OptionGroup var global: GlobalOptions

        func run() async throws {
            let client = global.client
            let answer = try await client.request(.POST, "/v1/keys/rotate", success: 201)
            if global.json { return Output.raw(answer.body) }
            let rotated = try client.decode(RotateResponse.self, answer, "POST /v1/keys/rotate")
            Output.line("epoch \(rotated.epoch) is active")
            guard let previous = rotated.previousEpoch else { return }
            // The previous epoch's retire time is worth showing; the rotation itself is done.
            let keys = try? await client.get("/v1/keys", as: JSONWebKeySet.self).0
            let old = keys?.keys.first { $0.kid == String(previous) }
            let until =
                old.map { key in
                    key.retireAfter.map { ", retire after \(Format.utc($0))" } ?? ", no live links"
                } ?? ""
            Output.line("epoch \(previous) is \(old?.status ?? "verify_only")\(until)")
        }
    }

    struct Retire: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Retire an epoch: its links stop verifying (POST /v1/keys/EPOCH/retire).",
            discussion: """
                The active epoch cannot be retired (rotate first). An epoch whose links may still be \
                live is refused unless --force, which ends every link of that epoch at once.
                """)

        @OptionGroup var global: GlobalOptions

        @Argument(help: "The epoch to retire.")
        var epoch: UInt64

        @Flag(help: "Retire even if links of this epoch may still be live (they are refused at once).")
        var force = false

        func validate() throws {
            guard epoch >= 1 else { throw ValidationError("epochs start at 1") }
        }

        func run() async throws {
            let client = global.client
            let target = "/v1/keys/\(epoch)/retire"
            let answer = try await client.request(.POST, target, json: RetireRequest(force: force ? true : nil))
            if global.json { return Output.raw(answer.body) }
            let key = try client.decode(JSONWebKey.self, answer, "POST \(target)")
            Output.line("epoch \(key.kid) is \(key.status)\(key.retiredAt.map { " since \(Format.utc($0))" } ?? "")")
        }
    }

    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the public keys as a JWK set, for edge verifiers (GET /v1/keys).",
            discussion: "Always JSON: {\"keys\": [...]}, exactly as the daemon sends it. Public material only.")

        @OptionGroup var global: GlobalOptions

        func run() async throws {
            let (_, answer) = try await global.client.get("/v1/keys", as: JSONWebKeySet.self)
            Output.raw(answer.body)
        }
    }
}
