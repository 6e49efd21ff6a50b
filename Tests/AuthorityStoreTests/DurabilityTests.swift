import AuthorityCore
import AuthorityTesting
import Foundation
import GRDB
import Synchronization
import Testing

@testable import AuthorityStore

/// Issue #13: what the store keeps, refuses and notices under faults, on real SQLite files.
@Suite struct DurabilityTests {
    func reopen(_ dir: String, adopt: Bool = false, now: Int64 = t0, masterKeyFile: String? = nil) throws -> SQLiteStore {
        try SQLiteStore.open(
            StoreConfiguration(stateDirectory: dir, masterKeyFile: masterKeyFile, adoptDatabase: adopt), now: now, logger: logger)
    }

    /// A link with `maxUses` uses, recorded as the daemon records an issue.
    func issueUseLimited(_ store: SQLiteStore, maxUses: Int64) throws -> LinkID {
        let id = LinkID.random()
        try store.recordIssue(
            epoch: 1, expiresAt: t0 + 600, linkID: id, detail: nil, state: LinkState(maxUses: maxUses), now: t0, caller: .daemon)
        return id
    }

    func sql(_ dir: String, _ statement: String) throws {
        let queue = try DatabaseQueue(path: dir + "/authority.sqlite")
        try queue.write { db in try db.execute(sql: statement) }
        try queue.close()
    }

    // MARK: revocations outlive their links

    /// The bound comes from the expiries signed (the epochs' retire_after marks), not from any
    /// setting: a 7-day link's revocation survives a week, however the daemon is configured later.
    @Test func aRevocationOutlivesTheLinksSignedBeforeIt() async throws {
        try await TemporaryDirectory.with { dir in
            let store = try open(dir)
            let week: Int64 = 7 * 86_400
            try store.noteIssued(epoch: 1, expiresAt: t0 + week)
            let record = try store.revoke(.id(.random()), reason: nil, now: t0 + 10, caller: .daemon)
            #expect((record.liveUntil ?? 0) >= t0 + week)
            #expect(try store.collectRevocations(now: t0 + 7_200) == 0)
            #expect(try store.collectRevocations(now: t0 + week) == 0)
            #expect(try store.collectRevocations(now: (record.liveUntil ?? 0) + 1) == 1)
        }
    }

    /// An issued-before time still ahead matches links issued until then: no bound yet; once the
    /// time has passed, maintenance gives it the latest expiry signed by then.
    @Test func aFutureIssuedBeforeIsSettledOnceItsTimeHasPassed() async throws {
        try await TemporaryDirectory.with { dir in
            let store = try open(dir)
            let record = try store.revoke(.issuedBefore(t0 + 100, prefix: "/a/"), reason: nil, now: t0, caller: .daemon)
            #expect(record.liveUntil == nil)
            #expect(try store.collectRevocations(now: t0 + 50) == 0)
            try store.noteIssued(epoch: 1, expiresAt: t0 + 5_000)
            #expect(try store.collectRevocations(now: t0 + 200) == 0)
            let settled = try #require(try store.listRevocations().first?.liveUntil)
            #expect(settled >= t0 + 5_000)
            #expect(try store.collectRevocations(now: settled + 1) == 1)
            #expect(try store.verifyIntegrity().problem == nil)
        }
    }

    // MARK: the time mark

    @Test func theTimeMarkNeverRunsBackwardsAndSurvivesAReopen() async throws {
        try await TemporaryDirectory.with { dir in
            let store = try open(dir)
            let steps = Mutex<[Int64]>([])
            store.time.observeBackwardSteps { behind in steps.withLock { $0.append(behind) } }
            #expect(store.time.now(wall: t0 + 3_600) == t0 + 3_600)
            #expect(store.time.now(wall: t0 + 3_599) == t0 + 3_600)  // jitter: absorbed, not a step
            #expect(store.time.now(wall: t0) == t0 + 3_600)
            #expect(store.time.now(wall: t0 + 1) == t0 + 3_600)  // still the same step
            #expect(steps.withLock { $0 } == [3_600])
            try store.persistTime()
            // A restart with the clock an hour behind starts from the mark.
            #expect(try reopen(dir, now: t0).time.now(wall: t0) == t0 + 3_600)
        }
    }

    // MARK: the state directory's own database

    @Test func aMissingEmptyOrForeignDatabaseRefusesStart() async throws {
        try await TemporaryDirectory.with { dir in
            // One master key for both (as one systemd credential on two state directories would be).
            let key = dir + "/master.key"
            FileManager.default.createFile(
                atPath: key, contents: Data(String(repeating: "ab", count: 32).utf8), attributes: [.posixPermissions: 0o600])
            _ = try open(dir + "/a", masterKeyFile: key)
            _ = try open(dir + "/b", masterKeyFile: key)
            let a = dir + "/a/authority.sqlite"
            try FileManager.default.moveItem(atPath: a, toPath: dir + "/a.moved")
            #expect(throws: StoreError.databaseMissing(path: a, head: dir + "/a/authority.head", state: "missing")) {
                try reopen(dir + "/a", masterKeyFile: key)
            }
            #expect(!FileManager.default.fileExists(atPath: a), "a refused start creates nothing")
            FileManager.default.createFile(atPath: a, contents: Data())
            #expect(throws: StoreError.databaseMissing(path: a, head: dir + "/a/authority.head", state: "empty")) {
                try reopen(dir + "/a", masterKeyFile: key)
            }
            try FileManager.default.removeItem(atPath: a)
            try FileManager.default.copyItem(atPath: dir + "/b/authority.sqlite", toPath: a)
            #expect(throws: StoreError.foreignDatabase(path: a, head: dir + "/a/authority.head")) {
                try reopen(dir + "/a", masterKeyFile: key)
            }
            _ = try reopen(dir + "/a", adopt: true, masterKeyFile: key)
            _ = try reopen(dir + "/a", masterKeyFile: key)
        }
    }

    @Test func aMissingMasterKeyIsNotReplacedWhileTheDatabaseHoldsKeys() async throws {
        try await TemporaryDirectory.with { dir in
            _ = try open(dir)
            try FileManager.default.removeItem(atPath: dir + "/master.key")
            #expect(throws: StoreError.masterKeyMissing(path: dir + "/master.key", database: dir + "/authority.sqlite")) {
                try reopen(dir)
            }
            #expect(!FileManager.default.fileExists(atPath: dir + "/master.key"))
        }
    }

    @Test func aDatabaseRemovedUnderTheStoreStopsAcknowledging() async throws {
        try await TemporaryDirectory.with { dir in
            let store = try open(dir)
            try store.revoke(.id(.random()), reason: nil, now: t0, caller: .daemon)
            try FileManager.default.removeItem(atPath: dir + "/authority.sqlite")
            #expect(throws: StoreError.self) { try store.revoke(.id(.random()), reason: nil, now: t0, caller: .daemon) }
            #expect(throws: StoreError.self) { try store.checkAlive() }
            #expect(store.storageTrouble(StoreError.databaseReplaced(path: "p", why: "w")) != nil)
        }
    }

    // MARK: damage and tampering

    @Test func aChangedRevocationRefusesStartNamingItsSerial() async throws {
        try await TemporaryDirectory.with { dir in
            let store = try open(dir)
            var serials: [Int64] = []
            for index in 0..<5 {
                serials.append(try store.revoke(.prefix("/p\(index)/"), reason: nil, now: t0, caller: .daemon).id)
            }
            store.close()
            try sql(dir, "UPDATE revocation SET prefix = '/q2/' WHERE prefix = '/p2/'")
            #expect(throws: StoreError.integrity(
                path: dir + "/authority.sqlite", "revocation serial \(serials[2]) does not match its MAC (changed or damaged)")) {
                try reopen(dir)
            }
        }
    }

    @Test func aRemovedRevocationOrAnOlderRowRefusesStart() async throws {
        try await TemporaryDirectory.with { dir in
            let store = try open(dir)
            let id = try issueUseLimited(store, maxUses: 2)
            let oldRow = try store.database.read { db in try Row.fetchOne(db, sql: "SELECT used, mac FROM link_use") }
            #expect(try store.consumeUses([id]) == [.used(remaining: 1)])
            try store.revoke(.prefix("/a/"), reason: nil, now: t0, caller: .daemon)
            let newMac = try #require(try store.database.read { db in try Data.fetchOne(db, sql: "SELECT mac FROM link_use") })
            store.close()
            // The counter put back as it was before its use, with the MAC it had then.
            let mac = try #require(oldRow?["mac"] as Data?)
            let queue = try DatabaseQueue(path: dir + "/authority.sqlite")
            try queue.write { db in try db.execute(sql: "UPDATE link_use SET used = 0, mac = ?", arguments: [mac]) }
            try queue.close()
            #expect(throws: StoreError.self) { try reopen(dir) }
            let restore = try DatabaseQueue(path: dir + "/authority.sqlite")
            try restore.write { db in try db.execute(sql: "UPDATE link_use SET used = 1, mac = ?", arguments: [newMac]) }
            try restore.close()
            _ = try reopen(dir)
            try sql(dir, "DELETE FROM revocation")
            do {
                _ = try reopen(dir)
                Issue.record("a removed revocation was not noticed")
            } catch let error as StoreError {
                #expect(error.description.contains("do not add up"))
            }
        }
    }

    @Test func aChangedUseCounterIsRefusedWhenUsed() async throws {
        try await TemporaryDirectory.with { dir in
            let store = try open(dir)
            let id = try issueUseLimited(store, maxUses: 1)
            #expect(try store.consumeUses([id]) == [.used(remaining: 0)])
            try store.database.write { db in try db.execute(sql: "UPDATE link_use SET used = 0") }
            #expect(throws: StoreError.self) { try store.consumeUses([id]) }
            #expect(try store.verifyIntegrity().problem?.contains("use counter of link \(id)") == true)
        }
    }

    /// A database that lost acknowledged changes (here: an older copy put back, as a lost WAL
    /// would leave it) is behind authority.head and refuses start; adopting it is explicit.
    @Test func aDatabaseBehindTheAcknowledgedHeadRefusesStart() async throws {
        try await TemporaryDirectory.with { dir in
            let store = try open(dir)
            try store.revoke(.prefix("/before/"), reason: nil, now: t0, caller: .daemon)
            store.checkpoint()
            let old = try Data(contentsOf: URL(fileURLWithPath: dir + "/authority.sqlite"))
            try store.revoke(.prefix("/after/"), reason: nil, now: t0, caller: .daemon)
            store.close()
            for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: dir + "/authority.sqlite" + suffix) }
            try old.write(to: URL(fileURLWithPath: dir + "/authority.sqlite"))
            #expect(throws: StoreError.changesLost(path: dir + "/authority.sqlite", databaseSerial: 2, acknowledgedSerial: 3)) {
                try reopen(dir)
            }
            let adopted = try reopen(dir, adopt: true)
            #expect(adopted.version.serial == 2)  // epoch 1, then the first revocation
            adopted.close()
            _ = try reopen(dir)
        }
    }

    @Test func aDamagedPageFailsTheQuickCheck() async throws {
        try await TemporaryDirectory.with { dir in
            let store = try open(dir)
            for index in 0..<300 { try store.revoke(.prefix("/p\(index)/"), reason: String(repeating: "r", count: 200), now: t0, caller: .daemon) }
            store.close()
            let path = dir + "/authority.sqlite"
            let handle = try #require(FileHandle(forUpdatingAtPath: path))
            try handle.seek(toOffset: 4096 * 3 + 8)
            handle.write(Data(repeating: 0xA5, count: 2_000))
            try handle.close()
            do {
                _ = try reopen(dir)
                Issue.record("a damaged page was not noticed")
            } catch let error as StoreError {
                #expect(error.description.contains(path))
            }
        }
    }

    /// One slot of authority.head torn or damaged: the other still holds a head.
    @Test func aDamagedHeadSlotFallsBackToTheOther() async throws {
        try await TemporaryDirectory.with { dir in
            let store = try open(dir)
            try store.revoke(.prefix("/a/"), reason: nil, now: t0, caller: .daemon)
            try store.revoke(.prefix("/b/"), reason: nil, now: t0, caller: .daemon)
            store.close()
            let head = dir + "/authority.head"
            let handle = try #require(FileHandle(forUpdatingAtPath: head))
            try handle.seek(toOffset: 30)
            handle.write(Data([0xFF, 0x00, 0xFF]))
            try handle.close()
            _ = try reopen(dir)
            try Data(repeating: 0, count: 1_024).write(to: URL(fileURLWithPath: head))
            #expect(throws: StoreError.headDamaged(head: head)) { try reopen(dir) }
        }
    }
}

extension DurabilityTests {
    /// A lowered retire_after would shorten how long the next revocation is kept: epochs are
    /// sealed too.
    @Test func aChangedKeyEpochRefusesStart() async throws {
        try await TemporaryDirectory.with { dir in
            let store = try open(dir)
            try store.noteIssued(epoch: 1, expiresAt: t0 + 86_400)
            store.close()
            try sql(dir, "UPDATE signing_key SET retire_after = 0")
            #expect(throws: StoreError.integrity(
                path: dir + "/authority.sqlite", "key epoch 1 does not match its MAC (changed or damaged)")) {
                try reopen(dir)
            }
        }
    }
}

extension DurabilityTests {
    /// A serial names one revocation for ever: lifting the newest does not hand its serial to the
    /// next one, also across a reopen.
    @Test func aLiftedSerialIsNeverReused() async throws {
        try await TemporaryDirectory.with { dir in
            let store = try open(dir)
            _ = try store.revoke(.prefix("/a/"), reason: nil, now: t0, caller: .daemon)
            let second = try store.revoke(.prefix("/b/"), reason: nil, now: t0, caller: .daemon)
            _ = try store.liftRevocation(serial: second.id, reason: nil, now: t0, caller: .daemon)
            #expect(try store.revoke(.prefix("/c/"), reason: nil, now: t0, caller: .daemon).id == second.id + 1)
            let third = try store.revoke(.prefix("/d/"), reason: nil, now: t0, caller: .daemon)
            _ = try store.liftRevocation(serial: third.id, reason: nil, now: t0, caller: .daemon)
            store.close()
            #expect(try reopen(dir).revoke(.prefix("/e/"), reason: nil, now: t0, caller: .daemon).id == third.id + 1)
        }
    }
}
