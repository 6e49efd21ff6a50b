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
}

/// The state a link's issue creates besides its audit entry.
public struct LinkState: Sendable {
    public var maxUses: Int64?
    public var passwordHash: String?
    public init(maxUses: Int64? = nil, passwordHash: String? = nil) {
        self.maxUses = maxUses
        self.passwordHash = passwordHash
    }
}

extension AuthorityStore {
    static func insertLinkState(_ db: Database, _ state: LinkState, linkID: LinkID, expiresAt: Int64) throws {
        let id = Data(linkID.bytes)
        if let maxUses = state.maxUses {
            try db.cachedStatement(sql: "INSERT INTO link_use (link_id, max_uses, expires_at) VALUES (?, ?, ?)")
                .execute(arguments: [id, maxUses, expiresAt])
        }
        if let hash = state.passwordHash {
            try db.cachedStatement(sql: "INSERT INTO link_password (link_id, hash, expires_at) VALUES (?, ?, ?)")
                .execute(arguments: [id, hash, expiresAt])
        }
    }

    /// Uses one use of `id` (group commit: the uses that arrive together share one transaction
    /// and one fsync); `completion` runs on the writer thread once the use is durable.
    public func consumeUse(_ id: LinkID, completion: @escaping @Sendable (Result<UseOutcome, any Error>) -> Void) {
        groupCommit.submit({ db in try Self.consume(id, in: db) }, completion: completion)
    }

    /// Uses one use of each link, in order, all or none (one write of the group commit). A link
    /// listed twice uses two. Durable when this returns.
    public func consumeUses(_ ids: [LinkID]) throws -> [UseOutcome] {
        try groupCommit.perform { db in try ids.map { try Self.consume($0, in: db) } }
    }

    private static func consume(_ id: LinkID, in db: Database) throws -> UseOutcome {
        // One statement: no row comes back when the link has no use left (or no counter).
        let remaining = try Int64.fetchOne(
            db.cachedStatement(
                sql: "UPDATE link_use SET used = used + 1 WHERE link_id = ? AND used < max_uses RETURNING max_uses - used"),
            arguments: [Data(id.bytes)])
        return remaining.map { .used(remaining: $0) } ?? .exhausted
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

    /// Records a password attempt durably and says whether it counts: an attempt that arrives
    /// while the link is locked (guesses queued before the lock) is refused as `locked` whatever
    /// it was. A right one clears the failures; the `maxFailures`-th wrong one in a row locks the
    /// link for `baseLockout` × 2^(lockouts so far), at most a day. Both cases write, so a wrong
    /// password takes as long as a right one. Nil when the link has no password row.
    public func recordPasswordAttempt(_ id: LinkID, success: Bool, now: Int64, maxFailures: Int64, baseLockout: Int64)
        throws -> (record: PasswordRecord, locked: Bool)?
    {
        try database.write { db in
            let key = Data(id.bytes)
            guard var record = try Row.fetchOne(
                db, sql: "SELECT hash, failures, lockouts, locked_until FROM link_password WHERE link_id = ?", arguments: [key]
            ).map({ PasswordRecord(hash: $0[0], failures: $0[1], lockouts: $0[2], lockedUntil: $0[3]) })
            else { return nil }
            if record.lockedUntil > now { return (record, true) }
            if success {
                record.failures = 0
            } else {
                record.failures += 1
                if record.failures >= maxFailures {
                    let factor = Int64(1) << min(record.lockouts, 20)
                    record.lockedUntil = now + min(baseLockout * factor, 86_400)
                    record.lockouts += 1
                    record.failures = 0
                }
            }
            try db.execute(
                sql: "UPDATE link_password SET failures = ?, lockouts = ?, locked_until = ? WHERE link_id = ?",
                arguments: [record.failures, record.lockouts, record.lockedUntil, key])
            return (record, false)
        }
    }

    /// Deletes use counters and password rows of links that have expired. Returns how many.
    @discardableResult
    public func collectExpiredLinkState(now: Int64) throws -> Int {
        try database.write { db in
            try db.execute(sql: "DELETE FROM link_use WHERE expires_at <= ?", arguments: [now])
            let uses = db.changesCount
            try db.execute(sql: "DELETE FROM link_password WHERE expires_at <= ?", arguments: [now])
            return uses + db.changesCount
        }
    }
}
