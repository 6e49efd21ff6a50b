/// `POST /v1/revocations`: `{"id"}`, `{"prefix"}`, or `{"issued_before", "prefix"}`, each with an
/// optional `reason`.
public struct RevokeRequest: APIRequestBody, Equatable {
    public static let wireFields = WireFields<Self>(absent: .omitted,
        .init("id", \.id),
        .init("prefix", \.prefix),
        .init("issued_before", \.issuedBefore),
        .init("reason", \.reason)
    )
    public static var wireTemplate: Self { Self() }

    public var id: String?
    public var prefix: String?
    /// Unix seconds: revoke links issued strictly before this time under `prefix` (default `/`).
    public var issuedBefore: Int64?
    public var reason: String?

    public init(id: String? = nil, prefix: String? = nil, issuedBefore: Int64? = nil, reason: String? = nil) {
        self.id = id
        self.prefix = prefix
        self.issuedBefore = issuedBefore
        self.reason = reason
    }
}

/// One stored revocation (the `201` answer to `POST /v1/revocations`, and list entries).
public struct RevocationEntry: WireObject, Equatable {
    public static let wireFields = WireFields<Self>(
        .init("serial", \.serial),
        .init("kind", \.kind),
        .init("id", \.id),
        .init("prefix", \.prefix),
        .init("issued_before", \.issuedBefore),
        .init("reason", \.reason),
        .init("created_at", \.createdAt),
        .init("created_by_uid", \.createdByUID)
    )
    public static var wireTemplate: Self { Self(serial: 0, kind: "", createdAt: 0) }

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
public struct RevocationPage: WireObject, Equatable {
    public static let wireFields = WireFields<Self>(
        .init("revocations", nested: \.revocations),
        .init("next_after", \.nextAfter)
    )
    public static var wireTemplate: Self { Self(revocations: [], nextAfter: nil) }

    public var revocations: [RevocationEntry]
    /// Pass as `after` for the next page; null on the last page.
    public var nextAfter: Int64?

    public init(revocations: [RevocationEntry], nextAfter: Int64?) {
        self.revocations = revocations
        self.nextAfter = nextAfter
    }
}
