import AuthorityAPI
import AuthorityTesting
import Foundation
import Testing

/// `authorityd --import-sqlite`: a SQLite daemon's state moved into PostgreSQL, then served by
/// a fleet (docs/fleet.md).
extension EndToEnd {
    @Suite(.serialized) struct FleetImportTests {
        static func importing(_ arguments: [String]) throws -> CommandResult {
            try ChildProcess.run([DaemonProcess.executable] + arguments, timeout: 120)
        }

        @Test func aSQLiteStateMovesIntoPostgreSQLAndAFleetServesItAsItWas() async throws {
            let cluster = try PostgresCluster()
            defer { cluster.remove() }
            try await DaemonProcess.with { sqlite in
                let client = sqlite.client()
                let kept = try client.issue(IssueLinkRequest(resource: "/moved/kept", ttl: 3_600, ref: "moved:kept"))
                let revoked = try client.issue("/moved/revoked", ttl: 3_600)
                _ = try client.revoke(RevokeRequest(id: revoked.id))
                _ = try client.revoke(RevokeRequest(prefix: "/moved/blocked/"))
                let counted = try client.issue(IssueLinkRequest(resource: "/moved/counted", ttl: 3_600, maxUses: 3))
                #expect(try client.check(CheckLinkRequest(url: counted.url)).remainingUses == 2)
                #expect(try client.post("/v1/keys/rotate").status == 201)
                let after = try client.issue("/moved/after", ttl: 3_600)
                #expect(after.epoch == 2)
                let source = sqlite.stateDirectory
                let target = try TemporaryDirectory("au-import")
                defer { target.remove() }
                let arguments = ["--state-dir", target.path + "/state", "--database", cluster.url, "--import-sqlite", source]

                // While the source daemon runs, its state directory is locked: nothing is copied.
                let running = try Self.importing(arguments)
                #expect(running.status == 1 && running.stderr.contains("another authorityd is using"), "\(running)")
                sqlite.terminate()

                // Another master key cannot open the source: refused before anything is copied.
                let wrongKey = target.path + "/wrong.key"
                try Fixtures.writeMasterKey(to: wrongKey)
                let refused = try Self.importing(arguments + ["--master-key-file", wrongKey])
                #expect(refused.status == 1 && !refused.stderr.isEmpty, "\(refused)")

                // A target state directory that records another store (here: another daemon's) is
                // refused before anything is copied: a fleet daemon would refuse it at its start.
                let other = try DaemonProcess()
                defer { other.remove() }
                try other.start()
                other.terminate()
                let foreign = try Self.importing(["--state-dir", other.stateDirectory, "--database", cluster.url, "--import-sqlite", source])
                #expect(foreign.status == 1 && foreign.stderr.contains("records another store"), "\(foreign)")

                #expect(try cluster.psql("SELECT count(*) FROM pg_tables WHERE tablename = 'signing_key'") == "0"
                    || cluster.psql("SELECT count(*) FROM signing_key") == "0", "a refused import copied rows")
                let moved = try Self.importing(arguments)
                #expect(moved.status == 0, "\(moved)")
                #expect(moved.stdout.contains("2 signing_key") && moved.stdout.contains("2 revocation") && moved.stdout.contains("1 link_use")
                    && moved.stdout.contains("4 link_record"), "\(moved.stdout)")
                #expect(!moved.stdout.contains("au_sig") && !moved.stderr.contains("au_sig"), "a link was printed")

                // An import never merges: the second one is refused.
                let again = try Self.importing(arguments)
                #expect(again.status == 1 && again.stderr.contains("already holds a state"), "\(again)")

                // Two fleet daemons on the moved state, with the source's master key.
                let key = ["--master-key-file", source + "/master.key"]
                let first = try DaemonProcess(arguments: ["--database", cluster.url] + key)
                let second = try DaemonProcess(arguments: ["--database", cluster.url] + key)
                defer {
                    first.remove()
                    second.remove()
                }
                try first.start(timeout: 60)
                try second.start(timeout: 60)
                for daemon in [first, second] {
                    let fleet = daemon.client()
                    #expect(try fleet.reason(kept.url) == "ok")
                    #expect(try fleet.reason(after.url) == "ok")
                    #expect(try fleet.reason(revoked.url) == "revoked")
                    #expect(try fleet.health().activeEpoch == 2)
                    #expect(try fleet.health().revocations == 2)
                    #expect(try fleet.issue("/moved/new", ttl: 60).epoch == 2)
                }
                let fleet = first.client()
                #expect(try fleet.check(CheckLinkRequest(url: counted.url)).remainingUses == 1)
                #expect(try second.client().check(CheckLinkRequest(url: counted.url)).remainingUses == 0)
                #expect(try fleet.check(CheckLinkRequest(url: counted.url)).reason == "uses_exhausted")
                // The issue records moved too, and a fleet daemon writes and reads them in PostgreSQL.
                let keptState = try second.client().getDecoded("/v1/links/\(kept.id)", LinkStateResponse.self)
                #expect(keptState.ref == "moved:kept" && keptState.status == "active", "\(keptState)")
                let countedState = try second.client().getDecoded("/v1/links/\(counted.id)", LinkStateResponse.self)
                #expect(countedState.status == "used_up" && countedState.uses == 3 && countedState.usesLeft == 0, "\(countedState)")
                #expect(try fleet.getDecoded("/v1/links/\(revoked.id)", LinkStateResponse.self).revokedBy.count == 1)
                let folder = try fleet.issue(IssueLinkRequest(resource: "/moved/blocked-not/", ttl: 600, prefix: true, ref: "fleet"))
                // Another daemon learns the link's ref once it has checked it (the next activity flush).
                func auth(_ url: String) throws -> HTTPResponse {
                    try second.client().request("GET", "/v1/auth/nginx", headers: [
                        ("X-Original-URI", url), ("X-Original-Method", "GET"), ("X-Original-Host", "h"), ("X-Real-IP", "192.0.2.1"),
                    ])
                }
                #expect(try auth(folder.url).status == 204)
                let deadline = Date().addingTimeInterval(5)
                var answer = try auth(folder.url)
                while answer.header("X-Authority-Ref") == nil, Date() < deadline {
                    usleep(200_000)
                    answer = try auth(folder.url)
                }
                #expect(answer.header("X-Authority-Ref") == "fleet", "\(answer.headers)")
                let covering = try second.client().revoke(RevokeRequest(prefix: "/moved/"))
                let folderState = try second.client().getDecoded("/v1/links/\(folder.id)", LinkStateResponse.self)
                #expect(folderState.ref == "fleet" && folderState.status == "revoked" && folderState.revokedBy == [covering.serial], "\(folderState)")
                let integrity = try fleet.get("/v1/integrity")
                #expect(integrity.status == 200 && integrity.text.contains("\"ok\":true"), "\(integrity.text)")
            }
        }
    }
}
