/// `200` answer to `GET /v1/links/{id}` (the issuer of the link, or the `admin` right): what the
/// daemon keeps of one issued link and where it stands now. Never the link or its signature.
public struct LinkStateResponse: WireObject, Equatable {
    public static let wireFields = WireFields<Self>(
        .init("id", \.id),
        .init("status", \.status),
        .init("ref", \.ref),
        .init("resource", \.resource),
        .init("prefix", \.prefix),
        .init("host", \.host),
        .init("methods", \.methods),
        .init("ip", \.ip),
        .init("epoch", \.epoch),
        .init("issued_at", \.issuedAt),
        .init("not_before", \.notBefore),
        .init("expires_at", \.expiresAt),
        .init("issuer_uid", \.issuerUID),
        .init("password", \.password),
        .init("cookie", \.cookie),
        .init("max_uses", \.maxUses),
        .init("uses", \.uses),
        .init("uses_left", \.usesLeft),
        .init("locked_until", \.lockedUntil),
        .init("first_used_at", \.firstUsedAt),
        .init("last_used_at", \.lastUsedAt),
        .init("last_refused", \.lastRefused),
        .init("last_refused_at", \.lastRefusedAt),
        .init("revoked_by", nested: \.revokedBy)
    )
    public static var wireTemplate: Self {
        Self(id: "", status: "", resource: "", prefix: false, methods: [], epoch: 0, issuedAt: 0, expiresAt: 0,
             password: false, cookie: false, revokedBy: [])
    }

    public var id: String
    /// Where the link stands, the first that applies: `revoked`, `retired` (its key epoch was
    /// retired), `expired`, `used_up`, `password_locked` (too many wrong passwords, for now),
    /// `not_yet_valid`, `active`.
    public var status: String
    public var ref: String?
    /// The canonical path, or a prefix link's prefix.
    public var resource: String
    public var prefix: Bool
    /// The host the link is bound to.
    public var host: String?
    public var methods: [String]
    /// The client network the link is bound to.
    public var ip: String?
    public var epoch: UInt64
    public var issuedAt: Int64
    public var notBefore: Int64?
    public var expiresAt: Int64
    /// The uid of the process that issued it.
    public var issuerUID: UInt32?
    public var password: Bool
    public var cookie: Bool
    /// A use-limited link's limit, the uses made and the uses left (the counts while the daemon
    /// still keeps the counter: until the link expires). For a link without a limit, `uses` is
    /// the allowed checks as last flushed (about once a second).
    public var maxUses: Int64?
    public var uses: Int64?
    public var usesLeft: Int64?
    /// A password-protected link locked after wrong passwords: until when.
    public var lockedUntil: Int64?
    /// The first and last allowed check (as last flushed, about once a second).
    public var firstUsedAt: Int64?
    public var lastUsedAt: Int64?
    /// The last refusal after the link's signature held (`expired`, `revoked`, `ip_mismatch`, …) and when.
    public var lastRefused: String?
    public var lastRefusedAt: Int64?
    /// The serials of the revocations that end the link (its id, or a rule covering all it
    /// grants), oldest first; empty when none does.
    public var revokedBy: [Int64]

    public init(
        id: String, status: String, ref: String? = nil, resource: String, prefix: Bool, host: String? = nil,
        methods: [String], ip: String? = nil, epoch: UInt64, issuedAt: Int64, notBefore: Int64? = nil, expiresAt: Int64,
        issuerUID: UInt32? = nil, password: Bool, cookie: Bool, maxUses: Int64? = nil, uses: Int64? = nil,
        usesLeft: Int64? = nil, lockedUntil: Int64? = nil, firstUsedAt: Int64? = nil, lastUsedAt: Int64? = nil,
        lastRefused: String? = nil, lastRefusedAt: Int64? = nil, revokedBy: [Int64]
    ) {
        self.firstUsedAt = firstUsedAt
        self.lastUsedAt = lastUsedAt
        self.lastRefused = lastRefused
        self.lastRefusedAt = lastRefusedAt
        self.id = id
        self.status = status
        self.ref = ref
        self.resource = resource
        self.prefix = prefix
        self.host = host
        self.methods = methods
        self.ip = ip
        self.epoch = epoch
        self.issuedAt = issuedAt
        self.notBefore = notBefore
        self.expiresAt = expiresAt
        self.issuerUID = issuerUID
        self.password = password
        self.cookie = cookie
        self.maxUses = maxUses
        self.uses = uses
        self.usesLeft = usesLeft
        self.lockedUntil = lockedUntil
        self.revokedBy = revokedBy
    }
}
