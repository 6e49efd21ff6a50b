import AuthorityCore
import AuthorityStore
import AuthorityTesting
import Foundation
import Testing

@testable import AuthorityPostgres

/// Lifecycle events and link records in PostgreSQL, written by two stores of one fleet: one
/// sequence of serials in commit order, whichever daemon wrote.
@Suite(.serialized) struct FleetEventTests {
    /// Two stores of one fleet (a cluster of their own, one master key), closed and removed after `body`.
    static func withTwoStores(_ name: String, _ body: ([PostgresStore]) async throws -> Void) async throws {
        let cluster = try PostgresCluster()
        defer { cluster.remove() }
        let directory = try TemporaryDirectory(name)
        defer { directory.remove() }
        let keyFile = directory.path + "/master.key"
        try Fixtures.writeMasterKey(to: keyFile)
        let stores = [
            try await FleetStoreTests.open(cluster, keyFile: keyFile, state: directory.path + "/a"),
            try await FleetStoreTests.open(cluster, keyFile: keyFile, state: directory.path + "/b"),
        ]
        defer { for store in stores { store.close() } }
        try await body(stores)
    }

    @Test func twoDaemonsWriteOneOrderedEventSequence() async throws {
        try await Self.withTwoStores("au-fleet-events") { stores in try await Self.oneOrderedSequence(stores[0], stores[1]) }
    }

    static func oneOrderedSequence(_ a: PostgresStore, _ b: PostgresStore) async throws {
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
        #expect(events[0].ref == "ref/f/one" && events[0].issuerUID == 10 && events[0].usesLeft == nil && events[0].revocation == nil)
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
        try await Self.withTwoStores("au-fleet-expiry") { stores in try await Self.tellsEachExpiryOnce(stores) }
    }

    static func tellsEachExpiryOnce(_ stores: [PostgresStore]) async throws {
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

    /// Two daemons flush the checks they saw of the same links at once: the counts add up, the
    /// latest use and refusal win, a plain link's first use is told once, a use-limited link's
    /// not at all (its uses tell it), and a link with only refusals has no use.
    @Test func twoDaemonsFlushesAddUpAndTellAFirstUseOnce() async throws {
        try await Self.withTwoStores("au-fleet-activity") { stores in try await Self.flushesAddUp(stores) }
    }

    static func flushesAddUp(_ stores: [PostgresStore]) async throws {
        let now = Int64(Date().timeIntervalSince1970)
        var records: [LinkRecord] = []
        for (resource, maxUses) in [("/p/plain", nil), ("/p/counted", Int64(4)), ("/p/refused", nil)] as [(String, Int64?)] {
            let record = LinkRecord(id: .random(), epoch: 1, issuedAt: now, expiresAt: now + 600, resource: resource, maxUses: maxUses)
            try await FleetStoreTests.result {
                stores[0].recordIssue(
                    epoch: 1, expiresAt: record.expiresAt, linkID: record.id, detail: nil,
                    state: LinkState(maxUses: maxUses, record: record), now: now, caller: .daemon, completion: $0)
            }
            records.append(record)
        }
        let (plain, counted, refused) = (records[0], records[1], records[2])
        let logs = [ActivityLog(), ActivityLog()]
        for (index, log) in logs.enumerated() {
            let at = now + 10 + Int64(index)
            log.note(plain.id, allowed: true, reason: "ok", now: at)
            log.note(plain.id, allowed: true, reason: "ok", now: at + 2)
            log.note(counted.id, allowed: true, reason: "ok", now: at)
            log.note(refused.id, allowed: false, reason: index == 0 ? "expired" : "ip_mismatch", now: at)
            log.note(.random(), allowed: true, reason: "ok", now: at)  // no record: nothing to write
        }
        let told = try await withThrowingTaskGroup(of: Int.self) { group in
            for (store, log) in zip(stores, logs) {
                let activity = log.take().activity
                group.addTask { try await Task.detached { try store.recordActivity(activity) }.value }
            }
            return try await group.reduce(0, +)
        }
        #expect(told == 1)
        let events = try stores[1].events(after: 0, limit: 100, issuer: nil).events.filter { $0.kind != .issued }
        #expect(events.map { "\($0.kind.rawValue) \($0.resource)" } == ["first_used /p/plain"])
        // Absent values stay absent (the insert's arrays hold none of them).
        #expect(events.allSatisfy { $0.ref == nil && $0.issuerUID == nil && $0.usesLeft == nil && $0.revocation == nil })
        let usage = try #require(try stores[1].linkUsage(plain.id))
        #expect(usage.usesSeen == 4 && usage.lastUsedAt == now + 13 && [now + 10, now + 11].contains(usage.firstUsedAt ?? 0))
        #expect(events.first?.at == usage.firstUsedAt)
        #expect(try stores[0].linkUsage(counted.id)?.usesSeen == 2)
        let refusals = try #require(try stores[0].linkUsage(refused.id))
        #expect(refusals.usesSeen == 0 && refusals.firstUsedAt == nil && refusals.lastUsedAt == nil)
        #expect(["expired", "ip_mismatch"].contains(refusals.lastRefused ?? "") && refusals.lastRefusedAt != nil)
    }
}
