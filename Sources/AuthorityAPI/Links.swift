/// A request body the daemon decodes. Unknown fields are refused (HTTP 422,
/// `request.unknown_field`): a misspelt `max_use` must not silently issue an unlimited link.
public protocol APIRequestBody: Codable, Sendable {
    /// Every JSON member name the body may carry.
    static var fieldNames: Set<String> { get }
}

/// `POST /v1/links`: issue a link.
public struct IssueLinkRequest: APIRequestBody, Equatable {
    /// Absolute `http(s)://` URL or absolute path, percent-encoded (docs/link-format.md §7).
    public var resource: String
    /// Allowed methods; default `["GET", "HEAD"]`. Any of GET, HEAD, PUT, POST, DELETE.
    public var methods: [String]?
    /// Lifetime in seconds (exactly one of `ttl` and `expires_at`).
    public var ttl: Int64?
    /// Expiry as Unix seconds.
    public var expiresAt: Int64?
    /// Not valid before this Unix time (a leeway applies at check time).
    public var notBefore: Int64?
    /// A prefix link covers every path under the resource's path.
    public var prefix: Bool?
    /// Bind the link to a client address or network (`203.0.113.7`, `2001:db8::/48`).
    public var ip: String?
    /// Bind the link to the resource URL's host.
    public var bindHost: Bool?
    /// Use-limited link: at most this many successful consuming checks.
    public var maxUses: Int64?
    /// Password-protected link (the password is never part of the link).
    public var password: String?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case resource, methods, ttl, prefix, ip, password
        case expiresAt = "expires_at", notBefore = "not_before", bindHost = "bind_host", maxUses = "max_uses"
    }
    public static let fieldNames = Set(CodingKeys.allCases.map(\.rawValue))

    public init(
        resource: String, methods: [String]? = nil, ttl: Int64? = nil, expiresAt: Int64? = nil,
        notBefore: Int64? = nil, prefix: Bool? = nil, ip: String? = nil, bindHost: Bool? = nil,
        maxUses: Int64? = nil, password: String? = nil
    ) {
        self.resource = resource
        self.methods = methods
        self.ttl = ttl
        self.expiresAt = expiresAt
        self.notBefore = notBefore
        self.prefix = prefix
        self.ip = ip
        self.bindHost = bindHost
        self.maxUses = maxUses
        self.password = password
    }
}

/// `201` answer to `POST /v1/links`.
public struct IssueLinkResponse: Codable, Sendable, Equatable {
    public var url: String
    public var id: String
    public var epoch: UInt64
    public var expiresAt: Int64
    public var notBefore: Int64?
    public var methods: [String]

    enum CodingKeys: String, CodingKey {
        case url, id, epoch, methods
        case expiresAt = "expires_at", notBefore = "not_before"
    }

    /// Absent values are written as `null`, so every answer has the same members.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(url, forKey: .url)
        try container.encode(id, forKey: .id)
        try container.encode(epoch, forKey: .epoch)
        try container.encode(expiresAt, forKey: .expiresAt)
        try container.encode(notBefore, forKey: .notBefore)
        try container.encode(methods, forKey: .methods)
    }

    public init(url: String, id: String, epoch: UInt64, expiresAt: Int64, notBefore: Int64?, methods: [String]) {
        self.url = url
        self.id = id
        self.epoch = epoch
        self.expiresAt = expiresAt
        self.notBefore = notBefore
        self.methods = methods
    }
}

/// `POST /v1/links/check`: may this request pass?
public struct CheckLinkRequest: APIRequestBody, Equatable {
    /// The request target carrying the link: absolute URL, or origin form (`/path?query`).
    public var url: String
    /// The request method; default `GET`.
    public var method: String?
    /// The client's address, for IP-bound links.
    public var clientIP: String?
    /// The request host, for an origin-form `url` and a host-bound link.
    public var host: String?
    /// The password of a password-protected link.
    public var password: String?
    /// Whether an `ok` answer uses one use of a use-limited link; default true.
    public var consume: Bool?
    /// An unlock cookie (the `authority_unlock` cookie's value) standing in for the password.
    public var cookie: String?
    /// Ask for an unlock cookie with an `ok` answer (one comes with every correct password anyway).
    public var issueCookie: Bool?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case url, method, host, password, consume, cookie
        case clientIP = "client_ip", issueCookie = "issue_cookie"
    }
    public static let fieldNames = Set(CodingKeys.allCases.map(\.rawValue))

    public init(
        url: String, method: String? = nil, clientIP: String? = nil, host: String? = nil, password: String? = nil,
        consume: Bool? = nil, cookie: String? = nil, issueCookie: Bool? = nil
    ) {
        self.url = url
        self.method = method
        self.clientIP = clientIP
        self.host = host
        self.password = password
        self.consume = consume
        self.cookie = cookie
        self.issueCookie = issueCookie
    }
}

/// `200` answer to `POST /v1/links/check`, for valid and refused links alike.
public struct CheckLinkResponse: Codable, Sendable, Equatable {
    public var valid: Bool
    /// A reason code of docs/link-format.md §6.
    public var reason: String
    /// Link id, epoch and expiry, whenever the link parsed.
    public var id: String?
    public var epoch: UInt64?
    public var expiresAt: Int64?
    /// Uses left after this check, for use-limited links.
    public var remainingUses: Int64?
    /// For `malformed`: which rule the link broke.
    public var detail: String?
    /// An unlock cookie: set it as `authority_unlock=<cookie>` (HttpOnly, Secure, SameSite=Strict,
    /// path of the resource) to pass later checks without the password.
    public var cookie: String?
    public var cookieExpiresAt: Int64?

    enum CodingKeys: String, CodingKey {
        case valid, reason, id, epoch, detail, cookie
        case expiresAt = "expires_at", remainingUses = "remaining_uses", cookieExpiresAt = "cookie_expires_at"
    }

    /// Absent values are written as `null`, so every answer has the same members.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(valid, forKey: .valid)
        try container.encode(reason, forKey: .reason)
        try container.encode(id, forKey: .id)
        try container.encode(epoch, forKey: .epoch)
        try container.encode(expiresAt, forKey: .expiresAt)
        try container.encode(remainingUses, forKey: .remainingUses)
        try container.encode(detail, forKey: .detail)
        try container.encode(cookie, forKey: .cookie)
        try container.encode(cookieExpiresAt, forKey: .cookieExpiresAt)
    }

    public init(
        valid: Bool, reason: String, id: String? = nil, epoch: UInt64? = nil, expiresAt: Int64? = nil,
        remainingUses: Int64? = nil, detail: String? = nil, cookie: String? = nil, cookieExpiresAt: Int64? = nil
    ) {
        self.cookie = cookie
        self.cookieExpiresAt = cookieExpiresAt
        self.valid = valid
        self.reason = reason
        self.id = id
        self.epoch = epoch
        self.expiresAt = expiresAt
        self.remainingUses = remainingUses
        self.detail = detail
    }
}
