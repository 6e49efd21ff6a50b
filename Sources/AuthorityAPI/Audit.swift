/// One audit log entry. Never holds a signature, a whole link, a password or key material.
public struct AuditEntryBody: Codable, Sendable, Equatable {
    public var id: Int64
    public var at: Int64
    public var actorUID: UInt32?
    public var actorPID: Int32?
    /// `keys.init`, `keys.rotate`, `keys.retire`, `keys.retire.forced`, `keys.retire.auto`, `link.issue`, `revoke`.
    public var action: String
    public var linkID: String?
    public var epoch: UInt64?
    public var detail: String?

    enum CodingKeys: String, CodingKey {
        case id, at, action, epoch, detail
        case actorUID = "actor_uid", actorPID = "actor_pid", linkID = "link_id"
    }

    /// Absent values are written as `null`, so every answer has the same members.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(at, forKey: .at)
        try container.encode(actorUID, forKey: .actorUID)
        try container.encode(actorPID, forKey: .actorPID)
        try container.encode(action, forKey: .action)
        try container.encode(linkID, forKey: .linkID)
        try container.encode(epoch, forKey: .epoch)
        try container.encode(detail, forKey: .detail)
    }

    public init(
        id: Int64, at: Int64, actorUID: UInt32?, actorPID: Int32?, action: String, linkID: String?, epoch: UInt64?,
        detail: String?
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
}

/// `GET /v1/audit?limit=N`: the newest entries first (limit 1–1000, default 100).
public struct AuditPage: Codable, Sendable, Equatable {
    public var entries: [AuditEntryBody]
    public init(entries: [AuditEntryBody]) { self.entries = entries }
}
