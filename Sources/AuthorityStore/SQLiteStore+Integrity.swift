import Foundation
import GRDB

/// What an integrity check found.
public struct IntegrityReport: Sendable, Equatable {
    /// The version (changes to sealed rows so far) the database is at.
    public var serial: Int64
    /// Hex of the head's MAC: with `serial`, the revocation list's version.
    public var head: String
    /// Sealed rows checked (revocations, use counters, key epochs).
    public var rows: Int
    /// The first problem, nil when everything matched.
    public var problem: String?

    package init(serial: Int64, head: String, rows: Int, problem: String?) {
        self.serial = serial
        self.head = head
        self.rows = rows
        self.problem = problem
    }
}

extension SQLiteStore {
    /// Checks every sealed row against its MAC and the head against the rows, in one read
    /// snapshot (checks keep running meanwhile); does not stop the daemon.
    public func verifyIntegrity() throws -> IntegrityReport {
        try database.read { db in
            guard let meta = try StoreMeta.fetch(db) else {
                return IntegrityReport(serial: 0, head: "", rows: 0, problem: "store_meta is missing")
            }
            let rows = try Int.fetchOne(db, sql: "SELECT (SELECT count(*) FROM revocation) + (SELECT count(*) FROM link_use) + (SELECT count(*) FROM signing_key)") ?? 0
            var report = IntegrityReport(
                serial: meta.head.serial, head: meta.mac.map { String(format: "%02x", $0) }.joined(), rows: rows, problem: nil)
            do {
                let digest = try Self.verifyRows(db, key: ledger.key, path: databasePath)
                if !ledger.key.verify(meta.mac, of: meta.head.sealedBytes(storeID: meta.storeID)) {
                    report.problem = "the recorded head does not match its MAC"
                } else if digest != meta.head.digest {
                    report.problem = "the sealed rows do not add up to the head at version \(meta.head.serial) (a row was removed, or restored from an older copy)"
                }
            } catch let error as StoreError {
                if case .integrity(_, let what) = error { report.problem = what } else { throw error }
            }
            return report
        }
    }

    /// The revocation list's version: (serial, hex of the head's MAC), as of the last commit.
    public var version: (serial: Int64, head: String) {
        let head = ledger.committed
        return (head.serial, head.mac(storeID: ledger.storeID, key: ledger.key).map { String(format: "%02x", $0) }.joined())
    }

    public var versionSerial: Int64 { ledger.committed.serial }

    /// Throws `databaseReplaced` when the database file was removed or replaced under the daemon.
    public func checkAlive() throws {
        try ledger.databaseFile.check()
    }

    /// Tells expiries (and expiries coming), retires due epochs, collects revocations, link state
    /// and events no one needs, persists the time mark and checkpoints the WAL.
    public func maintain(now: Int64) throws -> MaintenanceReport {
        var report = MaintenanceReport()
        // Telling expiries must not hold up retirement and collection when it fails.
        do {
            report.eventsTold = try tellLifecycle(now: now)
        } catch {
            logger.error("maintenance could not tell the links' expiries; it goes on with the rest", metadata: ["error": "\(error)"])
        }
        report.retired = try retireDue(now: now)
        report.revocationsCollected = try collectRevocations(now: now)
        report.linkStatesCollected = try collectExpiredLinkState(now: now)
        try persistTime()
        checkpoint()
        return report
    }

    /// Persists the time mark (one small write of the group commit) and rewrites `authority.head`
    /// with it: maintenance calls it, so a restart under a clock stepped back still knows the
    /// latest time used, to within one maintenance interval for checks (writes persist it exactly).
    public func persistTime() throws {
        try groupCommit.perform({ _ in }, afterCommit: { [ledger] _ in try? ledger.writeHeadFile() })
    }

    /// Copies the WAL into the database file and truncates it (after a rotation, on a schedule, at
    /// a clean stop), so that damage to the WAL can lose nothing already checkpointed. A
    /// checkpoint that readers hold back is retried next time; it is logged, never fatal.
    public func checkpoint() {
        do {
            try database.writeWithoutTransaction { db in _ = try db.checkpoint(.truncate) }
        } catch {
            logger.warning("WAL checkpoint did not complete; retried later", metadata: ["error": "\(error)"])
        }
    }

    /// After the last request: commits (or fails) every queued write and refuses new ones, then
    /// checkpoints and writes the final head.
    public func close() {
        groupCommit.close()
        checkpoint()
        do {
            try database.writeWithoutTransaction { [ledger] _ in try ledger.writeHeadFile() }
        } catch {
            logger.error("the final head was not written", metadata: ["error": "\(error)"])
        }
    }
}
