/// `POST /v1/links/explain`: what a link grants and how every check goes, without consuming a
/// use. For `authorityctl explain`. Shows no secret: never the signature, a password or a key.
public struct ExplainLinkRequest: APIRequestBody, Equatable {
    public var url: String
    public var method: String?
    public var clientIP: String?
    public var host: String?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case url, method, host
        case clientIP = "client_ip"
    }
    public static let fieldNames = Set(CodingKeys.allCases.map(\.rawValue))

    public init(url: String, method: String? = nil, clientIP: String? = nil, host: String? = nil) {
        self.url = url
        self.method = method
        self.clientIP = clientIP
        self.host = host
    }
}

/// The decoded grant of a link that parsed.
public struct ExplainedGrant: Codable, Sendable, Equatable {
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

    enum CodingKeys: String, CodingKey {
        case id, epoch, methods, scope, prefix, host, ip, path, query
        case issuedAt = "issued_at", notBefore = "not_before", expiresAt = "expires_at"
        case useLimited = "use_limited", passwordProtected = "password_protected"
    }

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

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(epoch, forKey: .epoch)
        try container.encode(issuedAt, forKey: .issuedAt)
        try container.encode(notBefore, forKey: .notBefore)
        try container.encode(expiresAt, forKey: .expiresAt)
        try container.encode(methods, forKey: .methods)
        try container.encode(scope, forKey: .scope)
        try container.encode(prefix, forKey: .prefix)
        try container.encode(host, forKey: .host)
        try container.encode(ip, forKey: .ip)
        try container.encode(useLimited, forKey: .useLimited)
        try container.encode(passwordProtected, forKey: .passwordProtected)
        try container.encode(path, forKey: .path)
        try container.encode(query, forKey: .query)
    }
}

/// One check of docs/link-format.md §6 and how it went.
public struct ExplainedCheck: Codable, Sendable, Equatable {
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

    enum CodingKeys: String, CodingKey { case name, outcome, reason, detail, decisive }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(name, forKey: .name)
        try container.encode(outcome, forKey: .outcome)
        try container.encode(reason, forKey: .reason)
        try container.encode(detail, forKey: .detail)
        try container.encode(decisive, forKey: .decisive)
    }
}

/// `200` answer to `POST /v1/links/explain`.
public struct ExplainLinkResponse: Codable, Sendable, Equatable {
    public var valid: Bool
    public var reason: String
    /// Null when the link is malformed.
    public var grant: ExplainedGrant?
    /// The exact text that was signed (docs/link-format.md §4), null when the link is malformed.
    public var signedMessage: String?
    public var checks: [ExplainedCheck]
    /// The daemon's clock when it explained.
    public var now: Int64

    enum CodingKeys: String, CodingKey {
        case valid, reason, grant, checks, now
        case signedMessage = "signed_message"
    }

    public init(valid: Bool, reason: String, grant: ExplainedGrant?, signedMessage: String?, checks: [ExplainedCheck], now: Int64) {
        self.valid = valid
        self.reason = reason
        self.grant = grant
        self.signedMessage = signedMessage
        self.checks = checks
        self.now = now
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(valid, forKey: .valid)
        try container.encode(reason, forKey: .reason)
        try container.encode(grant, forKey: .grant)
        try container.encode(signedMessage, forKey: .signedMessage)
        try container.encode(checks, forKey: .checks)
        try container.encode(now, forKey: .now)
    }
}
