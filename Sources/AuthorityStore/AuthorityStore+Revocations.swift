import AuthorityCore
import Foundation
import GRDB

/// A stored revocation, as listed by the API.
public struct RevocationRecord: Sendable, Equatable {
    public var id: Int64
    public var revocation: Revocation
    public var reason: String?
    public var createdAt: Int64
    public var liveUntil: Int64?
    public var actorUID: UInt32?
}

extension AuthorityStore {
    /// Records a revocation durably (group commit), then adds it to the in-memory index, then
    /// calls `completion` (on the writer thread): it is effective for the very next check once
    /// `completion` runs. Prefixes must be canonical paths.
    public func revoke(
        _ revocation: Revocation, reason: String?, liveUntil: Int64? = nil, now: Int64, caller: Caller,
        completion: @escaping @Sendable (Result<RevocationRecord, any Error>) -> Void
    ) {
        let linkID: LinkID?, prefix: String?, issuedBefore: Int64?
        do {
            guard configuration.revocationsEnabled else { throw StoreError.revocationsDisabled }
            (linkID, prefix, issuedBefore) = try Self.columns(of: revocation)
        } catch {
            return completion(.failure(error))
        }
        groupCommit.submit(
            { db in
                try db.cachedStatement(
                    sql: """
                        INSERT INTO revocation (link_id, prefix, issued_before, reason, created_at, live_until, actor_uid)
                        VALUES (?, ?, ?, ?, ?, ?, ?)
                        """
                ).execute(arguments: [
                    linkID.map { Data($0.bytes) }, prefix, issuedBefore, reason, now, liveUntil, caller.uid.map { Int64($0) },
                ])
                let id = db.lastInsertedRowID
                try AuditEntry.record(
                    db, at: now, caller: caller, action: "revoke", linkID: linkID?.description,
                    detail: prefix.map { p in issuedBefore.map { "prefix \(p) issued before \($0)" } ?? "prefix \(p)" })
                return RevocationRecord(
                    id: id, revocation: revocation, reason: reason, createdAt: now, liveUntil: liveUntil, actorUID: caller.uid)
            },
            afterCommit: { [self] _ in state.withLock { $0.revocations?.insert(Self.effective(revocation, createdAt: now)) } },
            completion: completion)
    }

    /// Records a revocation durably and adds it to the in-memory index; waits for the commit.
    @discardableResult
    public func revoke(
        _ revocation: Revocation, reason: String?, liveUntil: Int64? = nil, now: Int64, caller: Caller
    ) throws -> RevocationRecord {
        try GroupCommit.wait { revoke(revocation, reason: reason, liveUntil: liveUntil, now: now, caller: caller, completion: $0) }
    }

    /// What the index enforces. A stored prefix revocation revokes the links issued up to the
    /// moment it was made (issued before `createdAt + 1`): links issued under the prefix later are
    /// valid. `Revocation.issuedBefore` and `.id` are enforced as they are.
    static func effective(_ revocation: Revocation, createdAt: Int64) -> Revocation {
        guard case .prefix(let prefix) = revocation else { return revocation }
        return .issuedBefore(createdAt + 1, prefix: prefix)
    }

    static func columns(of revocation: Revocation) throws(StoreError) -> (LinkID?, String?, Int64?) {
        switch revocation {
        case .id(let id):
            return (id, nil, nil)
        case .prefix(let prefix):
            guard (try? canonicalPath(prefix)) == prefix else { throw .invalidRevocation("prefix is not a canonical path") }
            return (nil, prefix, nil)
        case .issuedBefore(let time, let prefix):
            guard (try? canonicalPath(prefix)) == prefix else { throw .invalidRevocation("prefix is not a canonical path") }
            return (nil, prefix, time)
        }
    }

    /// Revocations in insertion order, after row id `after`, at most `limit` of them.
    public func listRevocations(after: Int64 = 0, limit: Int = 100) throws -> [RevocationRecord] {
        try database.read { db in
            try Row.fetchAll(
                db, sql: "SELECT * FROM revocation WHERE id > ? ORDER BY id LIMIT ?", arguments: [after, limit]
            ).map(Self.record(from:))
        }
    }

    static func record(from row: Row) throws -> RevocationRecord {
        let id: Int64 = row["id"]
        let revocation: Revocation
        if let bytes = row["link_id"] as Data? {
            guard bytes.count == 16 else { throw StoreError.corruptRow("revocation \(id)") }
            revocation = .id(LinkID(bytes: [UInt8](bytes)))
        } else if let prefix = row["prefix"] as String? {
            revocation = (row["issued_before"] as Int64?).map { .issuedBefore($0, prefix: prefix) } ?? .prefix(prefix)
        } else {
            throw StoreError.corruptRow("revocation \(id)")
        }
        return RevocationRecord(
            id: id, revocation: revocation, reason: row["reason"], createdAt: row["created_at"],
            liveUntil: row["live_until"], actorUID: (row["actor_uid"] as Int64?).map { UInt32($0) })
    }

    /// Builds the index from every stored revocation (at start).
    static func loadRevocations(_ database: DatabasePool) throws -> RevocationIndex {
        try database.read { db in
            var index = RevocationIndex()
            let rows = try Row.fetchCursor(db, sql: "SELECT link_id, prefix, issued_before, created_at FROM revocation")
            while let row = try rows.next() {
                if let bytes = row[0] as Data?, bytes.count == 16 {
                    index.insert(.id(LinkID(bytes: [UInt8](bytes))))
                } else if let prefix = row[1] as String? {
                    let stored = (row[2] as Int64?).map { .issuedBefore($0, prefix: prefix) } ?? Revocation.prefix(prefix)
                    index.insert(effective(stored, createdAt: row[3]))
                } else {
                    throw StoreError.corruptRow("revocation without link id or prefix")
                }
            }
            return index
        }
    }
}

extension AuthorityStore {
    /// Deletes revocations that can no longer match a live link (`live_until` passed) and
    /// rebuilds the index without them. Returns how many were collected.
    @discardableResult
    public func collectRevocations(now: Int64) throws -> Int {
        guard configuration.revocationsEnabled else { return 0 }
        return try database.writeWithoutTransaction { db in
            var deleted = 0
            try db.inTransaction(.immediate) {
                try db.execute(sql: "DELETE FROM revocation WHERE live_until IS NOT NULL AND live_until < ?", arguments: [now])
                deleted = db.changesCount
                return .commit
            }
            if deleted > 0 {
                let index = try Self.loadRevocations(database)
                state.withLock { $0.revocations = index }
                logger.info("collected expired revocations", metadata: ["count": "\(deleted)"])
            }
            return deleted
        }
    }
}
