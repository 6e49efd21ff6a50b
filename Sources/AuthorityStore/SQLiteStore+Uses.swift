import AuthorityCore
import Foundation
import GRDB

/// The result of trying to use one use of a use-limited link.
public enum UseOutcome: Sendable, Equatable {
    /// One use counted, durably; this many are left.
    case used(remaining: Int64)
    /// No use left (or the link has no use counter: refused, fail closed).
    case exhausted
}

/// What the store keeps for a password-protected link.
public struct PasswordRecord: Sendable, Equatable {
    public var hash: String
    public var failures: Int64
    public var lockouts: Int64
    public var lockedUntil: Int64

    package init(hash: String, failures: Int64, lockouts: Int64, lockedUntil: Int64) {
        self.hash = hash
        self.failures = failures
        self.lockouts = lockouts
        self.lockedUntil = lockedUntil
    }

    /// One counted attempt (the link is not locked): a right one clears the failures; the
    /// `maxFailures`-th wrong one in a row locks the link for `baseLockout` × 2^(lockouts so far),
    /// at most a day. Every engine applies this same rule.
    package mutating func count(success: Bool, now: Int64, maxFailures: Int64, baseLockout: Int64) {
        if success {
            failures = 0
            return
        }
        failures += 1
        if failures >= maxFailures {
            let factor = Int64(1) << min(lockouts, 20)
            lockedUntil = now + min(baseLockout * factor, 86_400)
            lockouts += 1
            failures = 0
        }
    }
}

/// The state a link's issue creates besides its audit entry.
public struct LinkState: Sendable {
    public var maxUses: Int64?
    public var passwordHash: String?
    /// The link's record (table `link_record`), written with its state.
    public var record: LinkRecord?
    public init(maxUses: Int64? = nil, passwordHash: String? = nil, record: LinkRecord? = nil) {
        self.maxUses = maxUses
        self.passwordHash = passwordHash
        self.record = record
    }
}

extension SQLiteStore {
    static func insertLinkState(_ db: Database, _ state: LinkState, linkID: LinkID, expiresAt: Int64, ledger: Ledger) throws {
        let id = Data(linkID.bytes)
        if let maxUses = state.maxUses {
            let mac = ledger.key.mac(useSeal(linkID: id, maxUses: maxUses, used: 0, expiresAt: expiresAt))
            try db.cachedStatement(sql: "INSERT INTO link_use (link_id, max_uses, expires_at, mac) VALUES (?, ?, ?, ?)")
                .execute(arguments: [id, maxUses, expiresAt, Data(mac)])
            ledger.change(from: nil, to: mac)
        }
        if let hash = state.passwordHash {
            try db.cachedStatement(sql: "INSERT INTO link_password (link_id, hash, expires_at) VALUES (?, ?, ?)")
                .execute(arguments: [id, hash, expiresAt])
        }
        if let record = state.record {
            try insertRecord(db, record)
            try append(LinkEvent(.issued, of: record, at: record.issuedAt), db)
        }
    }

    /// The bytes a use counter's MAC covers.
    package static func useSeal(linkID: Data, maxUses: Int64, used: Int64, expiresAt: Int64) -> [UInt8] {
        var bytes = SealedBytes("link_use")
        bytes.add([UInt8](linkID))
        bytes.add(maxUses)
        bytes.add(used)
        bytes.add(expiresAt)
        return bytes.bytes
    }

    static func useSeal(_ row: Row) -> [UInt8] {
        useSeal(linkID: row["link_id"], maxUses: row["max_uses"], used: row["used"], expiresAt: row["expires_at"])
    }

    /// Uses one use of `id` (group commit: the uses that arrive together share one transaction
    /// and one fsync); `completion` runs on the writer thread once the use is durable.
    public func consumeUse(_ id: LinkID, completion: @escaping @Sendable (Result<UseOutcome, any Error>) -> Void) {
        groupCommit.submit({ [self] db in try consume(id, in: db) }, completion: completion)
    }

    /// Uses one use of each link, in order, all or none (one write of the group commit). A link
    /// listed twice uses two. Durable when this returns.
    public func consumeUses(_ ids: [LinkID]) throws -> [UseOutcome] {
        try groupCommit.perform { [self] db in try ids.map { try consume($0, in: db) } }
    }

    /// Counts one use; the counter's MAC is checked before (a counter changed on disk is refused,
    /// and the use with it) and renewed after.
    private func consume(_ id: LinkID, in db: Database) throws -> UseOutcome {
        let key = Data(id.bytes)
        // One statement: no row comes back when the link has no use left (or no counter).
        guard let row = try Row.fetchOne(
            db.cachedStatement(
                sql: "UPDATE link_use SET used = used + 1 WHERE link_id = ? AND used < max_uses RETURNING max_uses, used, expires_at, mac"),
            arguments: [key])
        else { return .exhausted }
        let maxUses: Int64 = row[0], used: Int64 = row[1], expiresAt: Int64 = row[2]
        let old = (row[3] as Data?).map { [UInt8]($0) } ?? []
        guard ledger.key.verify(old, of: Self.useSeal(linkID: key, maxUses: maxUses, used: used - 1, expiresAt: expiresAt)) else {
            logger.critical("a use counter does not match its MAC: refusing its uses (restore from a backup: docs/operations.md)",
                            metadata: ["link.id": "\(id)"])
            throw StoreError.integrity(path: databasePath, "the use counter of link \(id) does not match its MAC")
        }
        let mac = ledger.key.mac(Self.useSeal(linkID: key, maxUses: maxUses, used: used, expiresAt: expiresAt))
        try db.cachedStatement(sql: "UPDATE link_use SET mac = ? WHERE link_id = ?").execute(arguments: [Data(mac), key])
        ledger.change(from: old, to: mac)
        if let record = try Self.record(id, db) {
            let at = time.value
            if used == 1 { try Self.append(LinkEvent(.firstUsed, of: record, at: at, usesLeft: maxUses - used), db) }
            try Self.append(LinkEvent(.used, of: record, at: at, usesLeft: maxUses - used), db)
            // The end, unless another (a revocation, the expiry) was told first.
            if used == maxUses, try Self.markEnded(id, .usedUp, db) {
                try Self.append(LinkEvent(.usedUp, of: record, at: at, usesLeft: 0), db)
            }
        }
        return .used(remaining: maxUses - used)
    }

    /// Uses left, or nil when the link has no use counter.
    public func remainingUses(_ id: LinkID) throws -> Int64? {
        try database.read { db in
            try Int64.fetchOne(db, sql: "SELECT max_uses - used FROM link_use WHERE link_id = ?", arguments: [Data(id.bytes)])
        }
    }

    public func passwordRecord(_ id: LinkID) throws -> PasswordRecord? {
        try database.read { db in
            try Row.fetchOne(
                db, sql: "SELECT hash, failures, lockouts, locked_until FROM link_password WHERE link_id = ?",
                arguments: [Data(id.bytes)]
            ).map { PasswordRecord(hash: $0[0], failures: $0[1], lockouts: $0[2], lockedUntil: $0[3]) }
        }
    }

    /// Records a password attempt durably (a write of the group commit) and says whether it
    /// counts: an attempt that arrives while the link is locked (guesses queued before the lock)
    /// is refused as `locked` whatever it was. A right one clears the failures; the
    /// `maxFailures`-th wrong one in a row locks the link for `baseLockout` × 2^(lockouts so far),
    /// at most a day. Both cases write, so a wrong password takes as long as a right one. Nil when
    /// the link has no password row. `completion` runs on the writer thread.
    public func recordPasswordAttempt(
        _ id: LinkID, success: Bool, now: Int64, maxFailures: Int64, baseLockout: Int64,
        completion: @escaping @Sendable (Result<(record: PasswordRecord, locked: Bool)?, any Error>) -> Void
    ) {
        groupCommit.submit(
            { db -> (record: PasswordRecord, locked: Bool)? in
                let key = Data(id.bytes)
                guard var record = try Row.fetchOne(
                    db, sql: "SELECT hash, failures, lockouts, locked_until FROM link_password WHERE link_id = ?", arguments: [key]
                ).map({ PasswordRecord(hash: $0[0], failures: $0[1], lockouts: $0[2], lockedUntil: $0[3]) })
                else { return nil }
                if record.lockedUntil > now { return (record, true) }
                record.count(success: success, now: now, maxFailures: maxFailures, baseLockout: baseLockout)
                try db.execute(
                    sql: "UPDATE link_password SET failures = ?, lockouts = ?, locked_until = ? WHERE link_id = ?",
                    arguments: [record.failures, record.lockouts, record.lockedUntil, key])
                if record.lockedUntil > now, let link = try Self.record(id, db) {
                    try Self.append(LinkEvent(.passwordLocked, of: link, at: now), db)
                }
                return (record, false)
            }, completion: completion)
    }

    /// `recordPasswordAttempt`, waiting until it is durable.
    public func recordPasswordAttempt(_ id: LinkID, success: Bool, now: Int64, maxFailures: Int64, baseLockout: Int64)
        throws -> (record: PasswordRecord, locked: Bool)?
    {
        try GroupCommit.wait {
            recordPasswordAttempt(
                id, success: success, now: now, maxFailures: maxFailures, baseLockout: baseLockout, completion: $0)
        }
    }

    /// Deletes use counters and password rows of links that have expired, the records (and their
    /// activity) of links expired for longer than `eventRetention`, and events older than it.
    /// Returns how many rows (a record and its activity count as one).
    @discardableResult
    public func collectExpiredLinkState(now: Int64) throws -> Int {
        let recordsBefore = now.subtractingReportingOverflow(configuration.eventRetention)
        return try groupCommit.perform { [ledger] db in
            let macs = try Row.fetchAll(db, sql: "DELETE FROM link_use WHERE expires_at <= ? RETURNING mac", arguments: [now])
            for row in macs { ledger.change(from: (row[0] as Data?).map { [UInt8]($0) }, to: nil) }
            try db.execute(sql: "DELETE FROM link_password WHERE expires_at <= ?", arguments: [now])
            let passwords = db.changesCount
            let before = recordsBefore.overflow ? Int64.min : recordsBefore.partialValue
            try db.execute(
                sql: "DELETE FROM link_activity WHERE record IN (SELECT record FROM link_record WHERE expires_at <= ?)",
                arguments: [before])
            try db.execute(sql: "DELETE FROM link_record WHERE expires_at <= ?", arguments: [before])
            let records = db.changesCount
            return try macs.count + passwords + records + Self.collectEvents(before: before, db)
        }
    }
}
