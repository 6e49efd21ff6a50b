import AuthorityCore
import AuthorityStore
import AuthorityTesting
import Foundation
import Testing

@testable import AuthorityPostgres

/// A database found behind a version this daemon acknowledged (restored from a backup, failed
/// over to a replica that lacks the last commits) is never written to as if nothing happened.
@Suite(.serialized) struct LostChangesTests {
    @Test func aDatabaseBehindAnAcknowledgedVersionRefusesEveryLaterUseAndWrite() async throws {
        let cluster = try PostgresCluster()
        defer { cluster.remove() }
        let directory = try TemporaryDirectory("au-lost")
        defer { directory.remove() }
        let keyFile = directory.path + "/master.key"
        try Fixtures.writeMasterKey(to: keyFile)
        let store = try await FleetStoreTests.open(cluster, keyFile: keyFile, state: directory.path + "/a")
        defer { store.close() }
        let now = Int64(Date().timeIntervalSince1970)
        let id = LinkID.random()
        try await FleetStoreTests.result {
            store.recordIssue(epoch: 1, expiresAt: now + 600, linkID: id, detail: nil, state: LinkState(maxUses: 100), now: now, caller: .daemon, completion: $0)
        }
        for _ in 0..<5 { _ = try await FleetStoreTests.result { store.consumeUse(id, completion: $0) } }

        // Only the serial goes back (as after restoring a backup taken 3 uses ago, whose other
        // counters match what this daemon holds in memory).
        try cluster.psql("UPDATE store_meta SET head_serial = head_serial - 3")
        let after = try? await FleetStoreTests.result { store.consumeUse(id, completion: $0) }
        #expect(after == nil, "a use was acknowledged on a database behind this daemon")
        let later = try? await FleetStoreTests.result { store.consumeUse(id, completion: $0) }
        #expect(later == nil, "a later use was acknowledged")
        let write = try? await FleetStoreTests.result { store.revoke(.prefix("/x/"), reason: nil, now: now, caller: .daemon, completion: $0) }
        #expect(write == nil, "a write was acknowledged")
        #expect(store.unavailableReason?.contains("acknowledged") == true, "\(store.unavailableReason ?? "no reason")")
        do {
            _ = try await FleetStoreTests.result { store.consumeUse(id, completion: $0) }
        } catch {
            #expect(store.storageTrouble(error) != nil, "not answered as storage trouble (503): \(error)")
        }
    }
}
