import AuthorityCore
import AuthorityTesting
import Foundation
import GRDB
import Logging
import Testing

@testable import AuthorityStore

let logger = Logger(label: "test")
let t0: Int64 = 1_800_000_000

func open(_ state: String, now: Int64 = t0, revocations: Bool = true, masterKeyFile: String? = nil,
          credentials: String? = nil) throws -> SQLiteStore {
    try SQLiteStore.open(
        StoreConfiguration(stateDirectory: state, masterKeyFile: masterKeyFile, credentialsDirectory: credentials,
                           revocationsEnabled: revocations),
        now: now, logger: logger)
}

@Suite struct MigrationTests {
    /// A shipped migration is never edited: add a new file instead. Pin each new file here.
    static let pinned: [String: String] = [
        "0001_initial.sql": "86893307457981a5ade0f6be9c436a77f81d9fdb5f727ebe1616fbf7a70371db",
        "0002_uses_and_passwords.sql": "343948d080c587785852923505dbbaa5c0f9f5b4f62a438deae71d976fe7f0de",
        "0003_standing_prefix_blocks.sql": "1faad6ad36bfa46e9c71e4bbe09a11dad20e470d702d37f46c40bd7100a60fcf",
        "0004_durable_truth.sql": "7c4e59944f91cc0c4b610cdb41ceeb26dae7614fcf61865899794a1aa097161a",
        "0005_link_records.sql": "b5f61feae836fce62676d7eada39d9404a6365a96876802e698cc02286dca8e3",
        "0006_link_events.sql": "8ea1af0024ac17f9e13e5d429dc44deb77c215807add9847ed1b55ba4b6d1016",
        "0007_link_records_in_issue_order.sql": "6a6db049e51c3b8312db7ec7e35e28ae6d935467dc21d8593faaef7eced65021",
        "0008_link_activity_apart.sql": "f2e4287835c6e2e2e7de524f8fd82fb3e41e55125490acb2da75ab88bb03952b",
    ]

    @Test func shippedMigrationsArePinned() throws {
        let embedded = SchemaMigrations.files
        #expect(embedded.map(\.name) == Self.pinned.keys.sorted())
        for file in embedded {
            #expect(Fixtures.sha256Hex(Array(file.sql.utf8)) == Self.pinned[file.name], "\(file.name) was edited")
        }
    }

    @Test func everyFileInMigrationsIsEmbeddedAsIs() throws {
        let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Migrations")
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasSuffix(".sql") }
        #expect(names.sorted() == SchemaMigrations.files.map(\.name))
        for file in SchemaMigrations.files {
            let onDisk = try String(contentsOf: directory.appendingPathComponent(file.name), encoding: .utf8)
            #expect(onDisk == file.sql)
        }
    }

    /// 0007 rebuilds link_record in issue order: every row and column of a 0006 database is kept,
    /// the link id stays unique, and the indexes are back.
    @Test func linkRecordsKeepEveryColumnInIssueOrder() async throws {
        try await TemporaryDirectory.with { dir in
            let queue = try DatabaseQueue(path: dir + "/old.sqlite")
            let migrator = SchemaMigrations.migrator()
            try migrator.migrate(queue, upTo: "0006_link_events")
            let (late, early) = (Data(repeating: 1, count: 16), Data(repeating: 2, count: 16))
            let columns = LinkRecord.columns + LinkUsage.columns
            let full: [(any DatabaseValueConvertible)?] = [
                late, Int64(1), t0 + 5, t0, t0 + 600, "/a/", Int64(1), "h.example", "GET", "10.0.0.0/8", Int64(3), Int64(1),
                Int64(1), Int64(1_000), "ref-a", "revoked", Int64(1), t0 + 6, t0 + 7, Int64(2), "expired", t0 + 8,
            ]
            var sparse: [(any DatabaseValueConvertible)?] = Array(repeating: nil, count: columns.count)
            for (index, value) in [
                (0, early), (1, Int64(2)), (2, t0), (4, t0 + 60), (5, "/b"), (6, Int64(0)), (8, "GET,HEAD"), (11, Int64(0)),
                (12, Int64(0)), (16, Int64(0)), (19, Int64(0)),
            ] as [(Int, any DatabaseValueConvertible)] {
                sparse[index] = value
            }
            let rows = [full, sparse].map { $0.map { $0?.databaseValue ?? .null } }
            let list = columns.joined(separator: ", ")
            try queue.write { db in
                for row in rows {
                    try db.execute(
                        sql: "INSERT INTO link_record (\(list)) VALUES (\(columns.map { _ in "?" }.joined(separator: ", ")))",
                        arguments: StatementArguments(row))
                }
            }
            try migrator.migrate(queue, upTo: "0007_link_records_in_issue_order")
            try queue.read { db in
                let kept = try Row.fetchAll(db, sql: "SELECT \(list) FROM link_record ORDER BY record").map { Array($0.databaseValues) }
                #expect(kept == [rows[1], rows[0]])  // in issue order
                let indexes = try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'link_record'")
                #expect(Set(indexes).isSuperset(of: ["link_record_expires_at", "link_record_resource", "link_record_live"]))
            }
            #expect(throws: DatabaseError.self) {
                try queue.write { db in
                    try db.execute(sql: "INSERT INTO link_record (\(list)) VALUES (\(columns.map { _ in "?" }.joined(separator: ", ")))",
                                   arguments: StatementArguments(rows[0]))
                }
            }
        }
    }

    /// 0008 moves the activity columns out of link_record: a 0007 database's rows read the same
    /// through link_record_with_activity, the records keep their rowids and indexes, and only
    /// the rows with activity have a link_activity row.
    @Test func activityMovesToItsOwnTableAndReadsTheSame() async throws {
        try await TemporaryDirectory.with { dir in
            let queue = try DatabaseQueue(path: dir + "/old.sqlite")
            let migrator = SchemaMigrations.migrator()
            try migrator.migrate(queue, upTo: "0007_link_records_in_issue_order")
            let columns = LinkRecord.columns + LinkUsage.columns
            let list = columns.joined(separator: ", ")
            try queue.write { db in
                let insert = "INSERT INTO link_record (record, \(list)) VALUES (\(SQLiteStore.marks(columns.count + 1)))"
                try db.execute(sql: insert, arguments: [
                    7, Data(repeating: 1, count: 16), 1, t0, t0, t0 + 600, "/a/", 1, "h.example", "GET", "10.0.0.0/8", 3, 1, 1,
                    1_000, "ref-a", "revoked", 1, t0 + 6, t0 + 7, 2, "expired", t0 + 8,
                ])
                try db.execute(sql: insert, arguments: [
                    9, Data(repeating: 2, count: 16), 2, t0, nil, t0 + 60, "/b", 0, nil, "GET,HEAD", nil, nil, 0, 0, nil, nil,
                    nil, 0, nil, nil, 0, nil, nil,
                ])
                try db.execute(sql: insert, arguments: [
                    11, Data(repeating: 3, count: 16), 2, t0, nil, t0 + 60, "/c", 0, nil, "GET", nil, nil, 0, 0, nil, nil,
                    nil, 0, nil, nil, 0, "ip_mismatch", t0 + 9,
                ])
            }
            let before = try queue.read { db in
                try Row.fetchAll(db, sql: "SELECT record, \(list) FROM link_record ORDER BY record").map { Array($0.databaseValues) }
            }
            try migrator.migrate(queue)
            try queue.read { db in
                let after = try Row.fetchAll(db, sql: "SELECT record, \(list) FROM link_record_with_activity ORDER BY record")
                #expect(after.map { Array($0.databaseValues) } == before)
                #expect(try Int.fetchAll(db, sql: "SELECT record FROM link_activity ORDER BY record") == [7, 11])
                let kept = try String.fetchAll(db, sql: "SELECT name FROM pragma_table_info('link_record')")
                #expect(kept == ["record"] + LinkRecord.columns + ["ended", "warned"])
                let indexes = try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'link_record'")
                #expect(Set(indexes).isSuperset(of: ["link_record_expires_at", "link_record_resource", "link_record_live"]))
            }
        }
    }

    @Test func namesAreNumberedInOrder() {
        for (index, file) in SchemaMigrations.files.enumerated() {
            #expect(file.name.hasPrefix(String(format: "%04d_", index + 1)))
        }
    }
}

@Suite struct StoreTests {
    @Test func openCreatesPrivateStateAndTheFirstEpoch() async throws {
        try await TemporaryDirectory.with { dir in
            let state = dir + "/state/sub"
            let store = try open(state)
            #expect(Fixtures.mode(of: state) == 0o700)
            #expect(Fixtures.mode(of: state + "/master.key") == 0o600)
            #expect(try Data(contentsOf: URL(fileURLWithPath: state + "/master.key")).count == 65)
            #expect(Fixtures.mode(of: state + "/authority.sqlite") == 0o600)
            #expect(Fixtures.mode(of: state + "/authority.sqlite-wal") == 0o600)
            #expect(store.keyRing.activeEpoch == 1)
            #expect(store.signingKey.epoch == 1)
            #expect(try store.auditLog().map(\.action) == ["keys.init"])
            let (journal, readerSync) = try store.database.read { db in
                (try String.fetchOne(db, sql: "PRAGMA journal_mode"), try Int.fetchOne(db, sql: "PRAGMA synchronous"))
            }
            let writerSync = try store.database.write { db in try Int.fetchOne(db, sql: "PRAGMA synchronous") }
            #expect(journal == "wal")
            #expect(readerSync == 2 && writerSync == 2)  // FULL
        }
    }

    @Test func reopenKeepsKeysRevocationsAndAudit() async throws {
        try await TemporaryDirectory.with { dir in
            let id = LinkID.random()
            do {
                let store = try open(dir)
                try store.rotate(now: t0 + 1, caller: Caller(uid: 1000, pid: 42))
                try store.revoke(.id(id), reason: "leaked", now: t0 + 2, caller: Caller(uid: 1000, pid: 42))
                try store.revoke(.prefix("/private/"), reason: nil, now: t0 + 3, caller: .daemon)
                try store.revoke(.issuedBefore(t0, prefix: "/old/"), reason: nil, now: t0 + 4, caller: .daemon)
            }
            let store = try open(dir)
            #expect(store.keyRing.activeEpoch == 2)
            #expect(store.keyRing.records[1]?.status == .verifyOnly)
            let revocations = try #require(store.revocations)
            #expect(revocations.count == 3)
            #expect(revocations.isRevoked(id: id, path: "/x", issuedAt: t0))
            #expect(revocations.isRevoked(id: .random(), path: "/private/a", issuedAt: t0 + 3))
            // A prefix revocation is a standing block: links issued under it later are revoked too,
            // after a restart as before it.
            #expect(revocations.isRevoked(id: .random(), path: "/private/a", issuedAt: t0 + 4))
            #expect(revocations.isRevoked(id: .random(), path: "/private/a", issuedAt: t0 + 86_400 * 365))
            #expect(revocations.isBlocked(path: "/private/new.txt", issuedAt: t0 + 10))
            #expect(!revocations.isBlocked(path: "/public/new.txt", issuedAt: t0 + 10))
            #expect(revocations.isRevoked(id: .random(), path: "/old/a", issuedAt: t0 - 1))
            #expect(!revocations.isRevoked(id: .random(), path: "/old/a", issuedAt: t0))
            let audit = try store.auditLog()
            #expect(audit.map(\.action) == ["revoke", "revoke", "revoke", "keys.rotate", "keys.init"])
            #expect(audit[3].actorUID == 1000 && audit[3].actorPID == 42 && audit[3].epoch == 2)
            #expect(audit[2].linkID == id.description)
            let listed = try store.listRevocations()
            #expect(listed.map(\.revocation) == [.id(id), .prefix("/private/"), .issuedBefore(t0, prefix: "/old/")])
            #expect(listed[0].reason == "leaked" && listed[0].actorUID == 1000)
            #expect(try store.listRevocations(after: listed[0].id, limit: 1).map(\.id) == [listed[1].id])
        }
    }

    @Test func standingBlocksAreNeverCollectedAndOnlyALiftEndsThem() async throws {
        try await TemporaryDirectory.with { dir in
            let store = try open(dir)
            let block = try store.revoke(.prefix("/p/"), reason: nil, now: t0, caller: .daemon)
            try store.revoke(.id(.random()), reason: nil, now: t0, caller: .daemon)
            #expect(try store.collectRevocations(now: t0 + 86_400 * 3_650) == 1)
            #expect(try store.listRevocations().map(\.id) == [block.id])
            #expect(try open(dir).revocations?.isRevoked(id: .random(), path: "/p/x", issuedAt: t0 + 1) == true)
            #expect(try store.liftRevocation(serial: block.id + 100, reason: nil, now: t0, caller: .daemon) == nil)
            let lifted = try #require(try store.liftRevocation(serial: block.id, reason: "false alarm", now: t0 + 5, caller: Caller(uid: 3)))
            #expect(lifted.revocation == .prefix("/p/"))
            #expect(store.revocations?.isRevoked(id: .random(), path: "/p/x", issuedAt: t0 + 1) == false)
            #expect(try open(dir).revocations?.isRevoked(id: .random(), path: "/p/x", issuedAt: t0 + 1) == false)
            let audit = try #require(try store.auditLog().first)
            #expect(audit.action == "revoke.lift" && audit.actorUID == 3 && audit.detail?.contains("false alarm") == true)
        }
    }

    /// Daemons before migration 0003 gave prefix revocations a `live_until` and collected them.
    @Test func migrationThreeTurnsOldPrefixRevocationsIntoStandingBlocks() async throws {
        try await TemporaryDirectory.with { dir in
            do {
                let store = try open(dir)
                try store.revoke(.prefix("/old/"), reason: nil, now: t0, caller: .daemon)
                try store.revoke(.issuedBefore(t0, prefix: "/ib/"), reason: nil, now: t0, caller: .daemon)
            }
            // Undo 0003 as if this database came from the daemon before it.
            let queue = try DatabaseQueue(path: dir + "/authority.sqlite")
            try queue.write { db in
                try db.execute(sql: "DELETE FROM grdb_migrations WHERE identifier LIKE '0003%'")
            }
            try queue.close()
            let store = try open(dir)
            // No link was ever signed: nothing the issued-before revocation matches outlives t0.
            #expect(try store.listRevocations().map(\.liveUntil) == [nil, t0])
            #expect(try store.collectRevocations(now: t0 + 11) == 1)
            #expect(try store.listRevocations().map(\.revocation) == [.prefix("/old/")])
        }
    }

    @Test func signingKeySurvivesReopenAndSignsForItsEpoch() async throws {
        try await TemporaryDirectory.with { dir in
            let first = try open(dir)
            let message = Array("m".utf8)
            let signature = first.signingKey.key.sign(message)
            let second = try open(dir)
            let key = try #require(second.keyRing.verificationKey(epoch: 1)?.key)
            #expect(key.isValidSignature(signature, for: message))
            #expect(second.signingKey.key.publicKey == key)
        }
    }

    @Test func retireNeedsForceWhileLinksMayBeLive() async throws {
        try await TemporaryDirectory.with { dir in
            let store = try open(dir)
            try store.noteIssued(epoch: 1, expiresAt: t0 + 100)
            try store.rotate(now: t0 + 1, caller: .daemon)
            let mark = ((t0 + 100) / 3600 + 1) * 3600
            #expect(throws: StoreError.keyRing(.liveLinks(epoch: 1, until: mark))) {
                try store.retire(epoch: 1, force: false, now: t0 + 2, caller: .daemon)
            }
            #expect(throws: StoreError.keyRing(.cannotRetireActive(2))) {
                try store.retire(epoch: 2, force: true, now: t0 + 2, caller: .daemon)
            }
            try store.retire(epoch: 1, force: true, now: t0 + 3, caller: Caller(uid: 7))
            #expect(store.keyRing.records[1]?.status == .retired)
            #expect(try store.auditLog().first?.action == "keys.retire.forced")
            #expect(try open(dir).keyRing.records[1]?.status == .retired)
        }
    }

    @Test func noteIssuedWritesOnlyPastTheMarkAndRetireDueUsesIt() async throws {
        try await TemporaryDirectory.with { dir in
            let store = try open(dir)
            try store.noteIssued(epoch: 1, expiresAt: t0 + 10)
            let mark = try #require(store.keyRing.records[1]?.retireAfter)
            #expect(mark > t0 + 10 && mark <= t0 + 10 + 3600 && mark % 3600 == 0)
            try store.noteIssued(epoch: 1, expiresAt: mark)  // no change
            #expect(store.keyRing.records[1]?.retireAfter == mark)
            try store.noteIssued(epoch: 1, expiresAt: mark + 1)
            #expect(store.keyRing.records[1]?.retireAfter == mark + 3600)
            #expect(try open(dir).keyRing.records[1]?.retireAfter == mark + 3600)
            try store.rotate(now: t0, caller: .daemon)
            #expect(try store.retireDue(now: mark + 3599).isEmpty)
            #expect(try store.retireDue(now: mark + 3600) == [1])
            #expect(store.keyRing.records[1]?.status == .retired)
        }
    }

    @Test func revocationsCanBeSwitchedOff() async throws {
        try await TemporaryDirectory.with { dir in
            let store = try open(dir, revocations: false)
            #expect(store.revocations == nil)
            #expect(throws: StoreError.revocationsDisabled) {
                try store.revoke(.id(.random()), reason: nil, now: t0, caller: .daemon)
            }
        }
    }

    @Test func revocationPrefixesMustBeCanonical() async throws {
        try await TemporaryDirectory.with { dir in
            let store = try open(dir)
            for prefix in ["/a//b", "relative", "/a b", "/a%2fb", "/../x"] {
                #expect(throws: StoreError.self) { try store.revoke(.prefix(prefix), reason: nil, now: t0, caller: .daemon) }
            }
            #expect(store.revocations?.count == 0)
        }
    }

    @Test func aDatabaseFromANewerVersionIsRefused() async throws {
        try await TemporaryDirectory.with { dir in
            let store = try open(dir)
            try store.database.write { db in
                try db.execute(sql: "INSERT INTO grdb_migrations (identifier) VALUES ('9999_future')")
            }
            #expect(throws: StoreError.newerSchema(["9999_future"])) { try open(dir) }
        }
    }

    @Test func sqliteRefusesASecondActiveEpoch() async throws {
        try await TemporaryDirectory.with { dir in
            let store = try open(dir)
            #expect(throws: DatabaseError.self) {
                try store.database.write { db in
                    try KeyRow.insert(db, epoch: 9, publicKey: Fixtures.key.publicKey,
                                      sealed: ([UInt8](repeating: 0, count: 24), [UInt8](repeating: 0, count: 48)), now: t0)
                }
            }
        }
    }
}
