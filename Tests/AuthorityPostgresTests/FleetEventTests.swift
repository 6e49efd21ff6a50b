import AuthorityCore
import AuthorityStore
import AuthorityTesting
import Foundation
import Testing

@testable import AuthorityPostgres

/// Lifecycle events and link records in PostgreSQL, written by two stores of one fleet: one
/// sequence of serials in commit order, whichever daemon wrote.
@Suite(.serialized) struct FleetEventTests {
    @Test func twoDaemonsWriteOneOrderedEventSequence() async throws {
        let cluster = try PostgresCluster()
        defer { cluster.remove() }
        let directory = try TemporaryDirectory("au-fleet-events")
        defer { directory.remove() }
        let keyFile = directory.path + "/master.key"
        try Fixtures.writeMasterKey(to: keyFile)
        let a = try await FleetStoreTests.open(cluster, keyFile: keyFile, state: directory.path + "/a")
        let b = try await FleetStoreTests.open(cluster, keyFile: keyFile, state: directory.path + "/b")
        defer {
            a.close()
            b.close()
        }
        let now = Int64(Date().timeIntervalSince1970)
        func issue(_ store: PostgresStore, _ resource: String, maxUses: Int64? = nil, uid: UInt32, prefix: Bool = false) async throws
            -> LinkRecord
        {
            let record = LinkRecord(
                id: .random(), epoch: 1, issuedAt: now, expiresAt: now + 600, resource: resource, isPrefix: prefix,
                maxUses: maxUses, issuerUID: uid, ref: "ref\(resource)")
            try await FleetStoreTests.result {
                store.recordIssue(
                    epoch: 1, expiresAt: record.expiresAt, linkID: record.id, detail: nil,
                    state: LinkState(maxUses: maxUses, record: record), now: now, caller: Caller(uid: uid), completion: $0)
            }
            return record
        }
        let counted = try await issue(a, "/f/one", maxUses: 3, uid: 10)
        let folder = try await issue(b, "/f/dir/", uid: 20, prefix: true)
        #expect(try b.linkRecord(counted.id) == counted && a.linkRecord(folder.id) == folder)

        // Uses spread over both daemons, concurrently: three counted, in commit order.
        _ = try await withThrowingTaskGroup(of: UseOutcome.self) { group in
            for index in 0..<6 {
                let store = index % 2 == 0 ? a : b
                group.addTask { try await FleetStoreTests.result { store.consumeUse(counted.id, completion: $0) } }
            }
            return try await group.reduce(into: [UseOutcome]()) { $0.append($1) }
        }
        let rule = try await FleetStoreTests.result { a.revoke(.prefix("/f/"), reason: nil, now: now + 1, caller: .daemon, completion: $0) }
        let events = try b.events(after: 0, limit: 100, issuer: nil).events
        #expect(events.map(\.serial) == Array(1...Int64(events.count)), "one gapless sequence: \(events.map(\.serial))")
        #expect(events.map { "\($0.kind.rawValue) \($0.resource)" } == [
            "issued /f/one", "issued /f/dir/", "first_used /f/one", "used /f/one", "used /f/one", "used /f/one", "used_up /f/one",
            "revoked /f/dir/",  // the used-up link is ended already: no `revoked` for it
        ])
        #expect(events.filter { $0.kind == .used }.map(\.usesLeft) == [2, 1, 0])
        #expect(events.filter { $0.kind == .revoked }.allSatisfy { $0.revocation == rule.id })
        #expect(try a.events(after: 0, limit: 100, issuer: 20).events.map(\.kind) == [.issued, .revoked])
        #expect(try a.revocations(ending: folder).map(\.id) == [rule.id])

        // Retention: everything older than the cut goes, the horizon is recorded, serials go on.
        _ = try a.maintain(now: now + 604_802)
        let after = try b.events(after: 0, limit: 100, issuer: nil)
        #expect(after.events.isEmpty && after.collected == Int64(events.count), "\(after)")
        let late = try await issue(b, "/g/late", uid: 10)
        #expect(try a.events(after: 0, limit: 10, issuer: nil).events.map(\.serial) == [Int64(events.count) + 1])
        _ = late
    }

    /// Maintenance runs on every daemon at once: each expiry is told once, by one of them.
    @Test func concurrentMaintenanceTellsEachExpiryOnce() async throws {
        let cluster = try PostgresCluster()
        defer { cluster.remove() }
        let directory = try TemporaryDirectory("au-fleet-expiry")
        defer { directory.remove() }
        let keyFile = directory.path + "/master.key"
        try Fixtures.writeMasterKey(to: keyFile)
        let stores = [
            try await FleetStoreTests.open(cluster, keyFile: keyFile, state: directory.path + "/a"),
            try await FleetStoreTests.open(cluster, keyFile: keyFile, state: directory.path + "/b"),
        ]
        defer { for store in stores { store.close() } }
        let now = Int64(Date().timeIntervalSince1970)
        for index in 0..<40 {
            let record = LinkRecord(id: .random(), epoch: 1, issuedAt: now, expiresAt: now + 60 + Int64(index % 2) * 7_200, resource: "/x/\(index)")
            try await FleetStoreTests.result {
                stores[index % 2].recordIssue(
                    epoch: 1, expiresAt: record.expiresAt, linkID: record.id, detail: nil, state: LinkState(record: record), now: now,
                    caller: .daemon, completion: $0)
            }
        }
        let told = try await withThrowingTaskGroup(of: Int.self) { group in
            for round in 0..<6 {
                let store = stores[round % 2]
                group.addTask { try await Task.detached { try store.maintain(now: now + 3_700).eventsTold }.value }
            }
            return try await group.reduce(0, +)
        }
        let events = try stores[0].events(after: 0, limit: 1_000, issuer: nil).events.filter { $0.kind != .issued }
        #expect(told == 40 && events.count == 40, "\(told) told, \(events.count) events")
        #expect(events.filter { $0.kind == .expired }.count == 20 && events.filter { $0.kind == .expiringSoon }.count == 20)
        #expect(Set(events.map(\.linkID)).count == 40, "an expiry told twice")
    }
}
