import AuthorityCore
import AuthorityTesting
import Foundation
import Synchronization
import Testing

@testable import AuthorityStore

/// Lifecycle events in SQLite (issue #18): written in the transaction of what they tell, in
/// commit order, filtered by issuer, and collected after the retention with the horizon recorded.
@Suite struct LinkEventTests {
    static func issue(
        _ store: SQLiteStore, _ resource: String, prefix: Bool = false, maxUses: Int64? = nil, uid: UInt32 = 1_000,
        expiresAt: Int64 = t0 + 600, password: String? = nil
    ) throws -> LinkRecord {
        let record = LinkRecord(
            id: .random(), epoch: 1, issuedAt: t0, expiresAt: expiresAt, resource: resource, isPrefix: prefix,
            maxUses: maxUses, password: password != nil, issuerUID: uid, ref: "r-\(resource)")
        try store.recordIssue(
            epoch: 1, expiresAt: expiresAt, linkID: record.id, detail: nil,
            state: LinkState(maxUses: maxUses, passwordHash: password.flatMap(PasswordHash.hash), record: record), now: t0,
            caller: Caller(uid: uid))
        return record
    }

    static func kinds(_ store: SQLiteStore, after: Int64 = 0, issuer: UInt32? = nil) throws -> [String] {
        try store.events(after: after, limit: 1_000, issuer: issuer).events.map { "\($0.kind.rawValue) \($0.resource)" }
    }

    @Test func usesOfAUseLimitedLinkAreFirstUsedUsedAndUsedUpInOrder() async throws {
        try await TemporaryDirectory.with { dir in
            let store = try open(dir)
            defer { store.close() }
            let counted = try Self.issue(store, "/one", maxUses: 2)
            _ = try store.consumeUses([counted.id, counted.id, counted.id])  // the third finds none left
            let events = try store.events(after: 0, limit: 100, issuer: nil).events
            #expect(events.map(\.kind) == [.issued, .firstUsed, .used, .used, .usedUp])
            #expect(events.map(\.usesLeft) == [nil, 1, 1, 0, 0])
            #expect(events.map(\.serial) == events.map(\.serial).sorted() && Set(events.map(\.serial)).count == 5)
            #expect(events.allSatisfy { $0.linkID == counted.id && $0.ref == "r-/one" && $0.issuerUID == 1_000 })
            // A page starts after the serial given.
            #expect(try store.events(after: events[2].serial, limit: 1, issuer: nil).events.map(\.kind) == [.used])
        }
    }

    @Test func aPrefixRevocationTellsEachLiveLinkItEndsOnce() async throws {
        try await TemporaryDirectory.with { dir in
            let store = try open(dir)
            defer { store.close() }
            let a = try Self.issue(store, "/e/3/a")
            _ = try Self.issue(store, "/e/3/b/", prefix: true)
            _ = try Self.issue(store, "/e/30/c")  // not under /e/3/
            _ = try Self.issue(store, "/e/", prefix: true)  // wider than the rule: not ended by it
            _ = try Self.issue(store, "/e/3/old", expiresAt: t0 + 1)  // expired when revoked
            let spent = try Self.issue(store, "/e/3/spent", maxUses: 1)
            _ = try store.consumeUses([spent.id])  // used up: ended already
            let after = try store.events(after: 0, limit: 100, issuer: nil).events.last?.serial ?? 0
            let rule = try store.revoke(.prefix("/e/3/"), reason: nil, now: t0 + 10, caller: .daemon)
            _ = try store.revoke(.id(a.id), reason: nil, now: t0 + 11, caller: .daemon)  // already ended: no second event
            _ = try store.revoke(.prefix("/e/"), reason: nil, now: t0 + 12, caller: .daemon)
            // One revocation's events come in resource order (bytes).
            let revoked = try store.events(after: after, limit: 100, issuer: nil).events
            #expect(revoked.map { "\($0.resource) \($0.revocation ?? 0)" } == [
                "/e/3/a \(rule.id)", "/e/3/b/ \(rule.id)", "/e/ \(rule.id + 2)", "/e/30/c \(rule.id + 2)",
            ])
            #expect(revoked.allSatisfy { $0.kind == .revoked && $0.at >= t0 + 10 })
        }
    }

    @Test func aPasswordLockIsAnEventAndReadersSeeTheirOwnLinks() async throws {
        try await TemporaryDirectory.with { dir in
            let store = try open(dir)
            defer { store.close() }
            let locked = try Self.issue(store, "/secret", uid: 2_000, password: "right")
            for _ in 0..<2 {
                _ = try store.recordPasswordAttempt(locked.id, success: false, now: t0 + 5, maxFailures: 2, baseLockout: 60)
            }
            _ = try Self.issue(store, "/other", uid: 3_000)
            #expect(try Self.kinds(store, issuer: 2_000) == ["issued /secret", "password_locked /secret"])
            #expect(try Self.kinds(store, issuer: 3_000) == ["issued /other"])
            #expect(try Self.kinds(store).count == 3)
        }
    }

    @Test func retentionDeletesTheOldestAndRecordsTheHorizon() async throws {
        try await TemporaryDirectory.with { dir in
            var configuration = StoreConfiguration(stateDirectory: dir)
            configuration.eventRetention = 3_600
            let store = try SQLiteStore.open(configuration, now: t0, logger: logger)
            defer { store.close() }
            let old = try Self.issue(store, "/old", expiresAt: t0 + 60)
            #expect(try store.events(after: 0, limit: 10, issuer: nil).collected == 0)
            _ = try store.maintain(now: t0 + 3_599)
            #expect(try Self.kinds(store) == ["issued /old", "expired /old"])  // told at t0 + 3599
            _ = try store.maintain(now: t0 + 3_601)
            let batch = try store.events(after: 0, limit: 10, issuer: nil)
            #expect(batch.events.map(\.kind) == [.expired] && batch.collected == 1, "\(batch)")
            #expect(try store.linkRecord(old.id) != nil)  // kept until an hour after its expiry
            // Serials are never reused: the next event comes after the deleted one.
            _ = try Self.issue(store, "/new", expiresAt: t0 + 7_200)
            #expect(try store.events(after: 0, limit: 10, issuer: nil).events.map(\.serial) == [2, 3])
        }
    }

    @Test func maintenanceTellsExpiriesOnceAndRetirementEndsLiveLinks() async throws {
        try await TemporaryDirectory.with { dir in
            var configuration = StoreConfiguration(stateDirectory: dir)
            configuration.expiringSoon = 3_600
            let store = try SQLiteStore.open(configuration, now: t0, logger: logger)
            defer { store.close() }
            _ = try Self.issue(store, "/short", expiresAt: t0 + 600)  // lives less than the lead: no warning
            _ = try Self.issue(store, "/long", expiresAt: t0 + 7_200)
            let spent = try Self.issue(store, "/spent", maxUses: 1, expiresAt: t0 + 600)
            _ = try store.consumeUses([spent.id])
            let revoked = try Self.issue(store, "/gone", expiresAt: t0 + 600)
            _ = try store.revoke(.id(revoked.id), reason: nil, now: t0 + 1, caller: .daemon)
            let before = try store.events(after: 0, limit: 100, issuer: nil).events.last?.serial ?? 0
            #expect(try store.maintain(now: t0 + 3_601).eventsTold == 2)
            // Ended links (used up, revoked) are not told again as expired.
            #expect(try Self.kinds(store, after: before) == ["expired /short", "expiring_soon /long"])
            #expect(try store.maintain(now: t0 + 3_602).eventsTold == 0)
            // A forced retirement ends the live links of its epoch.
            _ = try store.rotate(now: t0 + 3_603, caller: .daemon)
            try store.retire(epoch: 1, force: true, now: t0 + 3_604, caller: .daemon)
            #expect(try Self.kinds(store, after: before + 2) == ["retired /long"])
            #expect(try store.maintain(now: t0 + 7_300).eventsTold == 0)  // retired: not told as expired
        }
    }

    @Test func checksAreAggregatedAndAPlainLinksFirstUseIsToldOnce() async throws {
        try await TemporaryDirectory.with { dir in
            let store = try open(dir)
            defer { store.close() }
            let plain = try Self.issue(store, "/plain")
            let counted = try Self.issue(store, "/counted", maxUses: 5)
            let log = ActivityLog(limit: 3)
            log.note(plain.id, allowed: true, reason: "ok", now: t0 + 10)
            log.note(plain.id, allowed: true, reason: "ok", now: t0 + 12)
            log.note(plain.id, allowed: false, reason: "ip_mismatch", now: t0 + 13)
            log.note(counted.id, allowed: true, reason: "ok", now: t0 + 14)
            log.note(.random(), allowed: true, reason: "ok", now: t0 + 14)  // a link with no record here
            log.note(.random(), allowed: true, reason: "ok", now: t0 + 14)  // past the limit: not noted
            let (activity, dropped) = log.take()
            #expect(activity.count == 3 && dropped == 1 && log.take().activity.isEmpty)
            #expect(try store.recordActivity(activity) == 1)  // the use-limited link's first use comes with its use
            #expect(try store.linkUsage(plain.id) == LinkUsage(
                firstUsedAt: t0 + 10, lastUsedAt: t0 + 12, usesSeen: 2, lastRefused: "ip_mismatch", lastRefusedAt: t0 + 13))
            // A link refused before its first allowed check: the refusal alone is no first use.
            let late = try Self.issue(store, "/late")
            let refusal = ActivityLog()
            refusal.note(late.id, allowed: false, reason: "expired", now: t0 + 15)
            #expect(try store.recordActivity(refusal.take().activity) == 0)
            #expect(try store.linkUsage(late.id) == LinkUsage(lastRefused: "expired", lastRefusedAt: t0 + 15))
            let later = ActivityLog()
            later.note(plain.id, allowed: true, reason: "ok", now: t0 + 20)
            later.note(late.id, allowed: true, reason: "ok", now: t0 + 21)
            #expect(try store.recordActivity(later.take().activity) == 1)  // the plain link's told once; the late one's now
            #expect(try store.linkUsage(plain.id)?.lastUsedAt == t0 + 20 && store.linkUsage(plain.id)?.firstUsedAt == t0 + 10)
            #expect(try store.linkUsage(late.id) == LinkUsage(
                firstUsedAt: t0 + 21, lastUsedAt: t0 + 21, usesSeen: 1, lastRefused: "expired", lastRefusedAt: t0 + 15))
            #expect(try Self.kinds(store).filter { $0.hasPrefix("first_used") } == ["first_used /plain", "first_used /late"])
            #expect(try store.events(after: 0, limit: 10, issuer: nil).events.first { $0.kind == .firstUsed }?.at == t0 + 10)
        }
    }

    /// A reader of its own links moves on past the others' events it was shown none of, so the
    /// retention collecting those does not make it look behind; each link's end is told once.
    @Test func aFilteredReaderMovesOnAndEachEndIsToldOnce() async throws {
        try await TemporaryDirectory.with { dir in
            let store = try open(dir)
            defer { store.close() }
            _ = try Self.issue(store, "/mine", uid: 2_000)
            for index in 0..<3 { _ = try Self.issue(store, "/theirs/\(index)", uid: 3_000) }
            let page = try store.events(after: 0, limit: 100, issuer: 2_000)
            #expect(page.events.count == 1 && page.next(after: 0, limit: 100) == 4)
            #expect(try store.events(after: 0, limit: 1, issuer: nil).next(after: 0, limit: 1) == 1)  // a full page: its last
            // Revoked first, then its last use: the use is told, the end is not told twice.
            let counted = try Self.issue(store, "/once", maxUses: 1)
            _ = try store.revoke(.id(counted.id), reason: nil, now: t0 + 1, caller: .daemon)
            _ = try store.consumeUses([counted.id])
            let told = try store.events(after: 0, limit: 100, issuer: nil).events.filter { $0.linkID == counted.id }.map(\.kind)
            #expect(told == [.issued, .revoked, .firstUsed, .used], "\(told)")
            _ = try store.maintain(now: t0 + 700)  // the others expire; the revoked link is not told as expired
            #expect(try store.events(after: 0, limit: 100, issuer: nil).events.filter { $0.linkID == counted.id }.count == 4)
        }
    }

    /// A flush and a revocation past one statement's rows (`rowsPerStatement`): every link's
    /// first use told once, in the order of the uses; every link the rule ends told once.
    @Test func flushesAndRevocationsPastOneStatementTellEachLinkOnce() async throws {
        try await TemporaryDirectory.with { dir in
            let store = try open(dir)
            defer { store.close() }
            let count = SQLiteStore.rowsPerStatement + 1
            let links = try (0..<count).map { try Self.issue(store, "/many/\($0)") }
            let counted = try Self.issue(store, "/many/counted", maxUses: 3)
            let log = ActivityLog()
            for (index, link) in links.enumerated().reversed() {
                log.note(link.id, allowed: true, reason: "ok", now: t0 + 10 + Int64(index % 7))
            }
            log.note(counted.id, allowed: true, reason: "ok", now: t0 + 10)
            let issued = try store.events(after: 0, limit: 10_000, issuer: nil).events.last?.serial ?? 0
            #expect(try store.recordActivity(log.take().activity) == count)
            let firstUses = try store.events(after: issued, limit: 10_000, issuer: nil).events
            #expect(firstUses.allSatisfy { $0.kind == .firstUsed } && Set(firstUses.map(\.linkID)) == Set(links.map(\.id)))
            #expect(firstUses.map(\.at) == firstUses.map(\.at).sorted())  // in the order of the uses
            #expect(firstUses.map(\.serial) == Array((issued + 1)...(issued + Int64(count))))
            #expect(try store.linkUsage(links[9].id)?.firstUsedAt == t0 + 12)
            let rule = try store.revoke(.prefix("/many/"), reason: nil, now: t0 + 20, caller: .daemon)
            let revoked = try store.events(after: issued + Int64(count), limit: 10_000, issuer: nil).events
            #expect(revoked.count == count + 1 && revoked.allSatisfy { $0.kind == .revoked && $0.revocation == rule.id })
            #expect(Set(revoked.map(\.linkID)) == Set(links.map(\.id) + [counted.id]))
            _ = try store.revoke(.prefix("/many/"), reason: nil, now: t0 + 21, caller: .daemon)  // ended already
            #expect(try store.events(after: revoked.last?.serial ?? 0, limit: 10, issuer: nil).events.isEmpty)
            #expect(try store.linkUsage(counted.id)?.ended == "revoked")
        }
    }

    /// Every commit observer is called (the metrics and the event streams both observe commits).
    @Test func everyCommitObserverIsCalled() async throws {
        try await TemporaryDirectory.with { dir in
            let store = try open(dir)
            defer { store.close() }
            let counts = Mutex([0, 0])
            store.observeCommits { _ in counts.withLock { $0[0] += 1 } }
            store.observeCommits { _ in counts.withLock { $0[1] += 1 } }
            _ = try Self.issue(store, "/observed")
            #expect(counts.withLock { $0 } == [1, 1])
        }
    }
}
