/// One audit log entry. Never holds a signature, a whole link, a password or key material.
public struct AuditEntryBody: WireObject, Equatable {
    public static let wireFields = WireFields<Self>(
        .init("id", \.id),
        .init("at", \.at),
        .init("actor_uid", \.actorUID),
        .init("actor_pid", \.actorPID),
        .init("action", \.action),
        .init("link_id", \.linkID),
        .init("epoch", \.epoch),
        .init("detail", \.detail)
    )
    public static var wireTemplate: Self { Self(id: 0, at: 0, actorUID: nil, actorPID: nil, action: "", linkID: nil, epoch: nil, detail: nil) }

    public var id: Int64
    public var at: Int64
    public var actorUID: UInt32?
    public var actorPID: Int32?
    /// `keys.init`, `keys.rotate`, `keys.retire`, `keys.retire.forced`, `keys.retire.auto`, `link.issue`, `revoke`.
    public var action: String
    public var linkID: String?
    public var epoch: UInt64?
    public var detail: String?

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
