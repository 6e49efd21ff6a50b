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

    /// The revoked link's id, for a revocation by id.
    var linkIDText: String? {
        if case .id(let id) = revocation { return id.description }
        return nil
    }

    /// `id`, `prefix /a/` or `prefix /a/ issued before T`, for the audit log.
    var summary: String {
        switch revocation {
        case .id(let id): "id \(id)"
        case .prefix(let prefix): "prefix \(prefix)"
        case .issuedBefore(let time, let prefix): "prefix \(prefix) issued before \(time)"
        }
    }
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
            afterCommit: { [self] _ in state.withLock { $0.revocations?.insert(revocation) } },
            completion: completion)
    }

    /// Records a revocation durably and adds it to the in-memory index; waits for the commit.
    @discardableResult
    public func revoke(
        _ revocation: Revocation, reason: String?, liveUntil: Int64? = nil, now: Int64, caller: Caller
    ) throws -> RevocationRecord {
        try GroupCommit.wait { revoke(revocation, reason: reason, liveUntil: liveUntil, now: now, caller: caller, completion: $0) }
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
            liveUntil: row["live_until"], actorUID: (row["actor_uid"] as Int64?).flatMap { UInt32(exactly: $0) })
    }

    /// Builds the index from every stored revocation (at start).
    static func loadRevocations(_ database: DatabasePool) throws -> RevocationIndex {
        try database.read { db in
            var index = RevocationIndex()
            let rows = try Row.fetchCursor(db, sql: "SELECT link_id, prefix, issued_before FROM revocation")
            while let row = try rows.next() {
                if let bytes = row[0] as Data?, bytes.count == 16 {
                    index.insert(.id(LinkID(bytes: [UInt8](bytes))))
                } else if let prefix = row[1] as String? {
                    // A prefix without `issued_before` is a standing block: every link under it,
                    // whenever issued, until an admin lifts it.
                    index.insert((row[2] as Int64?).map { .issuedBefore($0, prefix: prefix) } ?? .prefix(prefix))
                } else {
                    throw StoreError.corruptRow("revocation without link id or prefix")
                }
            }
            return index
        }
    }
}

extension AuthorityStore {
    /// Lifts revocation `serial` (an audited admin act: the only way a standing prefix block
    /// ends): deletes it and rebuilds the index without it, in the database writer, so no
    /// revocation committed meanwhile is lost from memory. Returns what was lifted; nil when there
    /// is no revocation with that serial.
    public func liftRevocation(serial: Int64, reason: String?, now: Int64, caller: Caller) throws -> RevocationRecord? {
        guard configuration.revocationsEnabled else { throw StoreError.revocationsDisabled }
        return try database.writeWithoutTransaction { db in
            var lifted: RevocationRecord?
            try db.inTransaction(.immediate) {
                guard let row = try Row.fetchOne(db, sql: "SELECT * FROM revocation WHERE id = ?", arguments: [serial]) else {
                    return .rollback
                }
                let record = try Self.record(from: row)
                try db.execute(sql: "DELETE FROM revocation WHERE id = ?", arguments: [serial])
                try AuditEntry.record(
                    db, at: now, caller: caller, action: "revoke.lift", linkID: record.linkIDText,
                    detail: "serial \(serial) (\(record.summary))" + (reason.map { ": \($0)" } ?? ""))
                lifted = record
                return .commit
            }
            guard let lifted else { return nil }
            let index = try Self.loadRevocations(database)
            state.withLock { $0.revocations = index }
            logger.notice(
                "revocation lifted",
                metadata: ["revocation.id": "\(serial)", "caller.uid": "\(caller.uid.map(String.init) ?? "-")"])
            return lifted
        }
    }

    /// Deletes revocations that can no longer match a live link (`live_until` passed) and
    /// rebuilds the index without them. Standing prefix blocks have no `live_until` and are never
    /// collected. Returns how many were collected.
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
