/// `POST /v1/revocations`: `{"id"}`, `{"prefix"}`, or `{"issued_before", "prefix"}`, each with an
/// optional `reason`.
public struct RevokeRequest: APIRequestBody, Equatable {
    public var id: String?
    public var prefix: String?
    /// Unix seconds: revoke links issued strictly before this time under `prefix` (default `/`).
    public var issuedBefore: Int64?
    public var reason: String?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case id, prefix, reason
        case issuedBefore = "issued_before"
    }
    public static let fieldNames = Set(CodingKeys.allCases.map(\.rawValue))

    public init(id: String? = nil, prefix: String? = nil, issuedBefore: Int64? = nil, reason: String? = nil) {
        self.id = id
        self.prefix = prefix
        self.issuedBefore = issuedBefore
        self.reason = reason
    }
}

/// One stored revocation (the `201` answer to `POST /v1/revocations`, and list entries).
public struct RevocationEntry: Codable, Sendable, Equatable {
    /// The revocation's serial number (increasing; `after` in `GET /v1/revocations`).
    public var serial: Int64
    /// `id`, `prefix` or `issued_before`.
    public var kind: String
    public var id: String?
    public var prefix: String?
    public var issuedBefore: Int64?
    public var reason: String?
    public var createdAt: Int64
    public var createdByUID: UInt32?

    enum CodingKeys: String, CodingKey {
        case serial, kind, id, prefix, reason
        case issuedBefore = "issued_before", createdAt = "created_at", createdByUID = "created_by_uid"
    }

    /// Absent values are written as `null`, so every answer has the same members.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(serial, forKey: .serial)
        try container.encode(kind, forKey: .kind)
        try container.encode(id, forKey: .id)
        try container.encode(prefix, forKey: .prefix)
        try container.encode(issuedBefore, forKey: .issuedBefore)
        try container.encode(reason, forKey: .reason)
        try container.encode(createdAt, forKey: .createdAt)
        try container.encode(createdByUID, forKey: .createdByUID)
    }

    public init(
        serial: Int64, kind: String, id: String? = nil, prefix: String? = nil, issuedBefore: Int64? = nil,
        reason: String? = nil, createdAt: Int64, createdByUID: UInt32? = nil
    ) {
        self.serial = serial
        self.kind = kind
        self.id = id
        self.prefix = prefix
        self.issuedBefore = issuedBefore
        self.reason = reason
        self.createdAt = createdAt
        self.createdByUID = createdByUID
    }
}

/// `GET /v1/revocations?after=SERIAL&limit=N` (limit 1–1000, default 100).
public struct RevocationPage: Codable, Sendable, Equatable {
    public var revocations: [RevocationEntry]
    /// Pass as `after` for the next page; null on the last page.
    public var nextAfter: Int64?

    enum CodingKeys: String, CodingKey {
        case revocations
        case nextAfter = "next_after"
    }

    /// Absent values are written as `null`, so every answer has the same members.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(revocations, forKey: .revocations)
        try container.encode(nextAfter, forKey: .nextAfter)
    }

    public init(revocations: [RevocationEntry], nextAfter: Int64?) {
        self.revocations = revocations
        self.nextAfter = nextAfter
    }
}
