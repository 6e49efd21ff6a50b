import AuthorityCore
import Foundation
import GRDB

/// A stored revocation, as listed by the API.
public struct RevocationRecord: Sendable, Equatable {
    public var id: Int64
    public var revocation: Revocation
    public var reason: String?
    public var createdAt: Int64
    /// After this time no link the revocation matches can be live, and it may be collected; nil
    /// for a standing prefix block, and for an issued-before revocation whose time is still ahead.
    public var liveUntil: Int64?
    public var actorUID: UInt32?

    package init(
        id: Int64, revocation: Revocation, reason: String?, createdAt: Int64, liveUntil: Int64?, actorUID: UInt32?
    ) {
        self.id = id
        self.revocation = revocation
        self.reason = reason
        self.createdAt = createdAt
        self.liveUntil = liveUntil
        self.actorUID = actorUID
    }

    /// The revoked link's id, for a revocation by id.
    package var linkIDText: String? {
        if case .id(let id) = revocation { return id.description }
        return nil
    }

    /// `id`, `prefix /a/` or `prefix /a/ issued before T`, for the audit log.
    package var summary: String {
        switch revocation {
        case .id(let id): "id \(id)"
        case .prefix(let prefix): "prefix \(prefix)"
        case .issuedBefore(let time, let prefix): "prefix \(prefix) issued before \(time)"
        }
    }
}

extension SQLiteStore {
    /// Records a revocation durably (group commit), then adds it to the in-memory index, then
    /// calls `completion` (on the writer thread): it is effective for the very next check once
    /// `completion` runs. Prefixes must be canonical paths. How long it is kept comes from what
    /// was signed (`liveUntil(of:now:in:)`), never from the configuration.
    public func revoke(
        _ revocation: Revocation, reason: String?, now: Int64, caller: Caller,
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
            { [ledger] db in
                let liveUntil = try Self.liveUntil(of: revocation, now: now, in: db)
                let uid = caller.uid.map { Int64($0) }
                let linkBytes = linkID.map { Data($0.bytes) }
                let id = ledger.nextRevocationSerial
                guard id > 0, id < Int64.max else { throw StoreError.invalidRevocation("the revocation serials are used up") }
                let mac = ledger.key.mac(
                    Self.revocationSeal(
                        id: id, linkID: linkBytes, prefix: prefix, issuedBefore: issuedBefore, reason: reason, createdAt: now,
                        liveUntil: liveUntil, actorUID: uid))
                try db.cachedStatement(
                    sql: """
                        INSERT INTO revocation (id, link_id, prefix, issued_before, reason, created_at, live_until, actor_uid, mac)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                        """
                ).execute(arguments: [id, linkBytes, prefix, issuedBefore, reason, now, liveUntil, uid, Data(mac)])
                ledger.nextRevocationSerial = id + 1
                ledger.change(from: nil, to: mac)
                try Self.appendRevokedEvents(revocation, serial: id, now: now, db)
                try AuditEntry.record(
                    db, at: now, caller: caller, action: "revoke", linkID: linkID?.description,
                    detail: prefix.map { p in issuedBefore.map { "prefix \(p) issued before \($0)" } ?? "prefix \(p)" })
                let record = RevocationRecord(
                    id: id, revocation: revocation, reason: reason, createdAt: now, liveUntil: liveUntil, actorUID: caller.uid)
                return (record, ledger.serial)
            },
            afterCommit: { [self] written in update(.revoked(revocation), serial: written.1) },
            completion: { completion($0.map(\.0)) })
    }

    /// Records a revocation durably and adds it to the in-memory index; waits for the commit.
    @discardableResult
    public func revoke(_ revocation: Revocation, reason: String?, now: Int64, caller: Caller) throws -> RevocationRecord {
        try GroupCommit.wait { revoke(revocation, reason: reason, now: now, caller: caller, completion: $0) }
    }

    /// Until when a link `revocation` matches can be live, from the epochs' `retire_after` marks
    /// (each at least the latest expiry its epoch ever signed, recorded before the link was
    /// handed out): nil for a standing prefix block, and for an issued-before time still ahead
    /// (links issued until then match: maintenance settles it once the time has passed). A
    /// revocation by id matches only links handed out before it.
    static func liveUntil(of revocation: Revocation, now: Int64, in db: Database) throws -> Int64? {
        switch revocation {
        case .prefix: return nil
        case .issuedBefore(let time, _) where time > now: return nil
        case .id, .issuedBefore: return try latestSignedExpiry(db) ?? now
        }
    }

    /// The latest expiry any unretired epoch may have signed (retired epochs' links are dead).
    private static func latestSignedExpiry(_ db: Database) throws -> Int64? {
        try Int64.fetchOne(
            db.cachedStatement(sql: "SELECT max(retire_after) FROM signing_key WHERE status != 'retired'"))
    }

    package static func columns(of revocation: Revocation) throws(StoreError) -> (LinkID?, String?, Int64?) {
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

    /// The bytes a revocation row's MAC covers: every column but the MAC.
    package static func revocationSeal(
        id: Int64, linkID: Data?, prefix: String?, issuedBefore: Int64?, reason: String?, createdAt: Int64,
        liveUntil: Int64?, actorUID: Int64?
    ) -> [UInt8] {
        var bytes = SealedBytes("revocation")
        bytes.add(id)
        bytes.add(linkID.map { [UInt8]($0) })
        bytes.add(prefix)
        bytes.add(issuedBefore)
        bytes.add(reason)
        bytes.add(createdAt)
        bytes.add(liveUntil)
        bytes.add(actorUID)
        return bytes.bytes
    }

    static func revocationSeal(_ row: Row, liveUntil: Int64?? = nil) -> [UInt8] {
        revocationSeal(
            id: row["id"], linkID: row["link_id"], prefix: row["prefix"], issuedBefore: row["issued_before"],
            reason: row["reason"], createdAt: row["created_at"], liveUntil: liveUntil ?? row["live_until"],
            actorUID: row["actor_uid"])
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

    /// Builds the index from every stored revocation (at start, and after a lift or collection).
    static func loadRevocations(_ db: Database) throws -> RevocationIndex {
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

extension SQLiteStore {
    /// Lifts revocation `serial` (an audited admin act: the only way a standing prefix block
    /// ends): deletes it and rebuilds the index without it, in one write of the group commit, so
    /// no revocation committed meanwhile is lost from memory. Returns what was lifted; nil when
    /// there is no revocation with that serial.
    public func liftRevocation(serial: Int64, reason: String?, now: Int64, caller: Caller) throws -> RevocationRecord? {
        guard configuration.revocationsEnabled else { throw StoreError.revocationsDisabled }
        let lifted = try groupCommit.perform(
            { [ledger] db -> (RevocationRecord, RevocationIndex, Int64)? in
                guard let row = try Row.fetchOne(db, sql: "SELECT * FROM revocation WHERE id = ?", arguments: [serial]) else {
                    return nil
                }
                let record = try Self.record(from: row)
                try db.execute(sql: "DELETE FROM revocation WHERE id = ?", arguments: [serial])
                ledger.change(from: (row["mac"] as Data?).map { [UInt8]($0) }, to: nil)
                try AuditEntry.record(
                    db, at: now, caller: caller, action: "revoke.lift", linkID: record.linkIDText,
                    detail: "serial \(serial) (\(record.summary))" + (reason.map { ": \($0)" } ?? ""))
                return (record, try Self.loadRevocations(db), ledger.serial)
            },
            afterCommit: { [self] lifted in if let (_, index, serial) = lifted { update(.revocations(index), serial: serial) } })
        guard let record = lifted?.0 else { return nil }
        logger.notice(
            "revocation lifted", metadata: ["revocation.id": "\(serial)", "caller.uid": "\(caller.uid.map(String.init) ?? "-")"])
        return record
    }

    /// Deletes revocations that can no longer match a live link (`live_until` passed) and
    /// rebuilds the index without them; gives issued-before revocations whose time has come
    /// their `live_until`. Standing prefix blocks are never collected. Returns how many were
    /// collected.
    @discardableResult
    public func collectRevocations(now: Int64) throws -> Int {
        guard configuration.revocationsEnabled else { return 0 }
        let collected = try groupCommit.perform(
            { [ledger] db -> (Int, RevocationIndex?, Int64) in
                let settle = try Row.fetchAll(
                    db, sql: "SELECT * FROM revocation WHERE live_until IS NULL AND issued_before IS NOT NULL AND issued_before <= ?",
                    arguments: [now])
                for row in settle {
                    let old = (row["mac"] as Data?).map { [UInt8]($0) }
                    let id: Int64 = row["id"]
                    let liveUntil = try Self.liveUntil(of: Self.record(from: row).revocation, now: now, in: db)
                    let mac = ledger.key.mac(Self.revocationSeal(row, liveUntil: .some(liveUntil)))
                    try db.execute(
                        sql: "UPDATE revocation SET live_until = ?, mac = ? WHERE id = ?", arguments: [liveUntil, Data(mac), id])
                    ledger.change(from: old, to: mac)
                }
                let macs = try Row.fetchAll(
                    db, sql: "DELETE FROM revocation WHERE live_until IS NOT NULL AND live_until < ? RETURNING mac",
                    arguments: [now])
                for row in macs { ledger.change(from: (row[0] as Data?).map { [UInt8]($0) }, to: nil) }
                return (macs.count, macs.isEmpty ? nil : try Self.loadRevocations(db), ledger.serial)
            },
            afterCommit: { [self] collected in
                if let index = collected.1 { update(.revocations(index), serial: collected.2) }
            })
        if collected.0 > 0 { logger.info("collected expired revocations", metadata: ["count": "\(collected.0)"]) }
        return collected.0
    }
}
