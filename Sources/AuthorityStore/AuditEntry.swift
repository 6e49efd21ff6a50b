import Foundation
import GRDB

/// One line of the audit log: who did what, when. Never a signature, a link or key material.
public struct AuditEntry: Sendable, Equatable {
    public var id: Int64
    public var at: Int64
    public var actorUID: UInt32?
    public var actorPID: Int32?
    public var action: String
    public var linkID: String?
    public var epoch: UInt64?
    public var detail: String?

    package init(
        id: Int64, at: Int64, actorUID: UInt32?, actorPID: Int32?, action: String, linkID: String?, epoch: UInt64?, detail: String?
    ) {
        self.id = id
        self.at = at
        self.actorUID = actorUID
        self.actorPID = actorPID
        self.action = action
        self.linkID = linkID
        self.epoch = epoch
        self.detail = detail
    }

    static func record(
        _ db: Database, at: Int64, caller: Caller, action: String, linkID: String? = nil, epoch: UInt64? = nil,
        detail: String? = nil
    ) throws {
        try db.cachedStatement(
            sql: """
                INSERT INTO audit_log (at, actor_uid, actor_pid, action, link_id, epoch, detail)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                """
        ).execute(
            arguments: [at, caller.uid.map { Int64($0) }, caller.pid.map { Int64($0) }, action, linkID, epoch.map { Int64($0) }, detail])
    }
}

extension SQLiteStore {
    /// The newest audit entries first.
    public func auditLog(limit: Int = 100) throws -> [AuditEntry] {
        try database.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM audit_log ORDER BY id DESC LIMIT ?", arguments: [limit]).map { row in
                AuditEntry(
                    id: row["id"], at: row["at"], actorUID: (row["actor_uid"] as Int64?).flatMap { UInt32(exactly: $0) },
                    actorPID: (row["actor_pid"] as Int64?).flatMap { Int32(exactly: $0) }, action: row["action"],
                    linkID: row["link_id"], epoch: (row["epoch"] as Int64?).flatMap { UInt64(exactly: $0) }, detail: row["detail"])
            }
        }
    }

    /// Records an action that changes no other table (an issued link, for example).
    public func audit(_ action: String, at: Int64, caller: Caller, linkID: String? = nil, epoch: UInt64? = nil,
                      detail: String? = nil) throws {
        try database.write { db in
            try AuditEntry.record(db, at: at, caller: caller, action: action, linkID: linkID, epoch: epoch, detail: detail)
        }
    }
}
