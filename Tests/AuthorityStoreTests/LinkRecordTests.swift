import AuthorityCore
import AuthorityTesting
import Foundation
import GRDB
import Testing

@testable import AuthorityStore

/// The issue record (`link_record`, issue #18): written with the issue, read back as written,
/// the revocations that end it, and collected a retention time after its link's expiry.
@Suite struct LinkRecordTests {
    static func record(_ resource: String, prefix: Bool = false, issuedAt: Int64 = t0, expiresAt: Int64 = t0 + 600) -> LinkRecord {
        LinkRecord(
            id: .random(), epoch: 1, issuedAt: issuedAt, notBefore: issuedAt + 5, expiresAt: expiresAt, resource: resource,
            isPrefix: prefix, host: "files.example", methods: "GET,HEAD,PUT", ip: "192.0.2.0/24", maxUses: 3, password: true,
            cookie: prefix, issuerUID: 1_000, ref: "order:77")
    }

    @Test func aRecordIsWrittenWithTheIssueAndSurvivesAReopen() async throws {
        try await TemporaryDirectory.with { dir in
            let written = Self.record("/img/caf%C3%A9.jpg")
            do {
                let store = try open(dir)
                try store.recordIssue(
                    epoch: 1, expiresAt: written.expiresAt, linkID: written.id, detail: nil,
                    state: LinkState(maxUses: 3, record: written), now: t0, caller: Caller(uid: 1_000))
                #expect(try store.linkRecord(written.id) == written)
                #expect(try store.linkRecord(.random()) == nil)
                store.close()
            }
            let reopened = try open(dir)
            defer { reopened.close() }
            #expect(try reopened.linkRecord(written.id) == written)
            // A link issued without a record (a caller of the store that gives none) has none.
            let bare = LinkID.random()
            try reopened.recordIssue(epoch: 1, expiresAt: t0 + 60, linkID: bare, detail: nil, now: t0, caller: .daemon)
            #expect(try reopened.linkRecord(bare) == nil)
        }
    }

    @Test func theRevocationsThatEndALinkAreTheOnesCoveringAllItGrants() async throws {
        try await TemporaryDirectory.with { dir in
            let store = try open(dir)
            defer { store.close() }
            let folder = Self.record("/share/caf%C3%A9/", prefix: true)
            let file = Self.record("/share/caf%C3%A9/a.txt")
            for record in [folder, file] {
                try store.recordIssue(
                    epoch: 1, expiresAt: record.expiresAt, linkID: record.id, detail: nil, state: LinkState(record: record),
                    now: t0, caller: .daemon)
            }
            func revoke(_ revocation: Revocation) throws -> Int64 { try store.revoke(revocation, reason: nil, now: t0 + 1, caller: .daemon).id }
            let deeper = try revoke(.prefix("/share/caf%C3%A9/private/"))
            let sibling = try revoke(.prefix("/share/cafe/"))
            let tooEarly = try revoke(.issuedBefore(t0, prefix: "/share/"))  // the links were issued at t0: not before
            let covering = try revoke(.issuedBefore(t0 + 1, prefix: "/share/caf%C3%A9"))
            let byID = try revoke(.id(file.id))
            #expect(try store.revocations(ending: folder).map(\.id) == [covering])
            #expect(try store.revocations(ending: file).map(\.id) == [covering, byID])
            _ = (deeper, sibling, tooEarly)
            #expect(folder.isEnded(by: .prefix("/")) && !folder.isEnded(by: .prefix("/share/caf%C3%A9/private/")))
            #expect(file.isEnded(by: .prefix("/share/caf%C3%A9/a.txt")) && !file.isEnded(by: .prefix("/share/caf%C3%A9/a.txt/")))
        }
    }

    @Test func aRecordOutlivesItsLinkByTheRetentionTime() async throws {
        try await TemporaryDirectory.with { dir in
            var configuration = StoreConfiguration(stateDirectory: dir)
            configuration.eventRetention = 3_600
            let store = try SQLiteStore.open(configuration, now: t0, logger: logger)
            defer { store.close() }
            let record = Self.record("/r", expiresAt: t0 + 60)
            try store.recordIssue(
                epoch: 1, expiresAt: record.expiresAt, linkID: record.id, detail: nil,
                state: LinkState(maxUses: 3, record: record), now: t0, caller: .daemon)
            let log = ActivityLog()
            log.note(record.id, allowed: true, reason: "ok", now: t0 + 30)
            try store.recordActivity(log.take().activity)
            _ = try store.maintain(now: t0 + 61)
            #expect(try store.remainingUses(record.id) == nil)  // the counter goes with the link
            #expect(try store.linkUsage(record.id)?.usesSeen == 1)
            #expect(try store.linkRecord(record.id) == record)  // the record stays for the retention
            _ = try store.maintain(now: t0 + 60 + 3_600)
            #expect(try store.linkRecord(record.id) == nil)
            #expect(try store.export().first { $0.name == "link_record" }?.rows.isEmpty == true)
            // The record's activity (a table of its own since 0008) goes with it.
            #expect(try store.database.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM link_activity") } == 0)
        }
    }

    /// A flush keeps the writer's prepared statements: a CREATE in it (even IF NOT EXISTS of a
    /// table that exists) would make GRDB empty its statement caches at every flush.
    @Test func aFlushKeepsTheWritersCachedStatements() async throws {
        try await TemporaryDirectory.with { dir in
            let store = try open(dir)
            defer { store.close() }
            let record = Self.record("/cached", expiresAt: t0 + 60)
            try store.recordIssue(
                epoch: 1, expiresAt: record.expiresAt, linkID: record.id, detail: nil,
                state: LinkState(maxUses: nil, record: record), now: t0, caller: .daemon)
            let cached = { try store.database.writeWithoutTransaction { db in try db.cachedStatement(sql: "SELECT 1") } }
            let before = try cached()
            for second in 1...2 {
                let log = ActivityLog()
                log.note(record.id, allowed: true, reason: "ok", now: t0 + Int64(second))
                try store.recordActivity(log.take().activity)
            }
            #expect(try cached() === before)
            #expect(try store.linkUsage(record.id)?.usesSeen == 2)
        }
    }

    @Test func refsAreVisibleASCIIOfBoundedLength() {
        for good in ["a", "order:77", "user/42/photo.jpg", "~!@#$%^&*()_+{}|:\"<>?`-=[]\\;',./", String(repeating: "x", count: 128)] {
            #expect(LinkRecord.isValidRef(good), "\(good)")
        }
        for bad in ["", " ", "a b", "tab\t", "new\nline", "caf\u{E9}", "\u{FF41}", "\u{7F}", String(repeating: "x", count: 129)] {
            #expect(!LinkRecord.isValidRef(bad), "\(bad.debugDescription)")
        }
    }
}
