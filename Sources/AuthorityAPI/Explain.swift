/// `POST /v1/links/explain`: what a link grants and how every check goes, without consuming a
/// use. For `authorityctl explain`. Shows no secret: never the signature, a password or a key.
public struct ExplainLinkRequest: APIRequestBody, Equatable {
    public static let wireFields = WireFields<Self>(absent: .omitted,
        .init("url", \.url),
        .init("method", \.method),
        .init("client_ip", \.clientIP),
        .init("host", \.host)
    )
    public static var wireTemplate: Self { Self(url: "") }

    public var url: String
    public var method: String?
    public var clientIP: String?
    public var host: String?

    public init(url: String, method: String? = nil, clientIP: String? = nil, host: String? = nil) {
        self.url = url
        self.method = method
        self.clientIP = clientIP
        self.host = host
    }
}

/// The decoded grant of a link that parsed.
public struct ExplainedGrant: WireObject, Equatable {
    public static let wireFields = WireFields<Self>(
        .init("id", \.id),
        .init("epoch", \.epoch),
        .init("issued_at", \.issuedAt),
        .init("not_before", \.notBefore),
        .init("expires_at", \.expiresAt),
        .init("methods", \.methods),
        .init("scope", \.scope),
        .init("prefix", \.prefix),
        .init("host", \.host),
        .init("ip", \.ip),
        .init("use_limited", \.useLimited),
        .init("password_protected", \.passwordProtected),
        .init("path", \.path),
        .init("query", \.query)
    )
    public static var wireTemplate: Self {
        Self(
            id: "", epoch: 0, issuedAt: 0, notBefore: nil, expiresAt: 0, methods: [], scope: "", prefix: nil, host: nil,
            ip: nil, useLimited: false, passwordProtected: false, path: "", query: "")
    }

    public var id: String
    public var epoch: UInt64
    public var issuedAt: Int64
    public var notBefore: Int64?
    public var expiresAt: Int64
    public var methods: [String]
    /// `exact` or `prefix`.
    public var scope: String
    public var prefix: String?
    public var host: String?
    public var ip: String?
    public var useLimited: Bool
    public var passwordProtected: Bool
    /// The canonical path and query of the request (what an exact link signs).
    public var path: String
    public var query: String

    public init(
        id: String, epoch: UInt64, issuedAt: Int64, notBefore: Int64?, expiresAt: Int64, methods: [String],
        scope: String, prefix: String?, host: String?, ip: String?, useLimited: Bool, passwordProtected: Bool,
        path: String, query: String
    ) {
        self.id = id
        self.epoch = epoch
        self.issuedAt = issuedAt
        self.notBefore = notBefore
        self.expiresAt = expiresAt
        self.methods = methods
        self.scope = scope
        self.prefix = prefix
        self.host = host
        self.ip = ip
        self.useLimited = useLimited
        self.passwordProtected = passwordProtected
        self.path = path
        self.query = query
    }
}

/// One check of docs/link-format.md §6 and how it went.
public struct ExplainedCheck: WireObject, Equatable {
    public static let wireFields = WireFields<Self>(
        .init("name", \.name),
        .init("outcome", \.outcome),
        .init("reason", \.reason),
        .init("detail", \.detail),
        .init("decisive", \.decisive)
    )
    public static var wireTemplate: Self { Self(name: "", outcome: "", reason: "", detail: nil, decisive: false) }

    /// `format`, `key`, `signature`, `expiry`, `not_before`, `method`, `resource`, `ip`, `revocation`,
    /// `uses`, `password`.
    public var name: String
    /// `pass`, `fail` or `skipped` (not applicable, or not reachable after a failed format/key check).
    public var outcome: String
    /// The reason code this check gives when it fails.
    public var reason: String
    public var detail: String?
    /// True on the first failing check: the one that decides the answer.
    public var decisive: Bool

    public init(name: String, outcome: String, reason: String, detail: String?, decisive: Bool) {
        self.name = name
        self.outcome = outcome
        self.reason = reason
        self.detail = detail
        self.decisive = decisive
    }
}

/// `200` answer to `POST /v1/links/explain`.
public struct ExplainLinkResponse: WireObject, Equatable {
    public static let wireFields = WireFields<Self>(
        .init("valid", \.valid),
        .init("reason", \.reason),
        .init("grant", nested: \.grant),
        .init("signed_message", \.signedMessage),
        .init("checks", nested: \.checks),
        .init("now", \.now)
    )
    public static var wireTemplate: Self { Self(valid: false, reason: "", grant: nil, signedMessage: nil, checks: [], now: 0) }

    public var valid: Bool
    public var reason: String
    /// Null when the link is malformed.
    public var grant: ExplainedGrant?
    /// The exact text that was signed (docs/link-format.md §4), null when the link is malformed.
    public var signedMessage: String?
    public var checks: [ExplainedCheck]
    /// The daemon's clock when it explained.
    public var now: Int64

    public init(valid: Bool, reason: String, grant: ExplainedGrant?, signedMessage: String?, checks: [ExplainedCheck], now: Int64) {
        self.valid = valid
        self.reason = reason
        self.grant = grant
        self.signedMessage = signedMessage
        self.checks = checks
        self.now = now
    }
}
