/// A request body the daemon decodes. Unknown fields are refused (HTTP 422,
/// `request.unknown_field`, worded by `KnownMembers`): a misspelt `max_use` must not silently issue
/// an unlimited link. Its table says `absent: .omitted`: `authorityctl` leaves absent members out.
public protocol APIRequestBody: WireObject {
    /// Every JSON member name the body may carry.
    static var fieldNames: Set<String> { get }
}

extension APIRequestBody {
    public static var fieldNames: Set<String> { wireFields.known.names }
}

/// `POST /v1/links`: issue a link.
public struct IssueLinkRequest: APIRequestBody, Equatable {
    public static let wireFields = WireFields<Self>(absent: .omitted,
        .init("resource", \.resource),
        .init("methods", \.methods),
        .init("ttl", \.ttl),
        .init("expires_at", \.expiresAt),
        .init("not_before", \.notBefore),
        .init("prefix", \.prefix),
        .init("ip", \.ip),
        .init("bind_host", \.bindHost),
        .init("max_uses", \.maxUses),
        .init("password", \.password),
        .init("cookie", \.cookie),
        .init("origins", \.origins),
        .init("ref", \.ref)
    )
    public static var wireTemplate: Self { Self(resource: "") }

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
    /// A prefix link a browser can follow: its first allowed forward-auth answer sets a grant
    /// cookie for the prefix (flag `c`, docs/link-format.md §12).
    public var cookie: Bool?
    /// Origins (`https://app.example`) whose pages may read what the link grants: their CORS
    /// preflights pass and allowed answers name them (docs/link-format.md §13).
    public var origins: [String]?
    /// The issuer's own reference (1 to 128 visible ASCII characters): it appears in the link's
    /// state, the audit log and the daemon's log lines about the link.
    public var ref: String?

    public init(
        resource: String, methods: [String]? = nil, ttl: Int64? = nil, expiresAt: Int64? = nil,
        notBefore: Int64? = nil, prefix: Bool? = nil, ip: String? = nil, bindHost: Bool? = nil,
        maxUses: Int64? = nil, password: String? = nil, cookie: Bool? = nil, origins: [String]? = nil, ref: String? = nil
    ) {
        self.ref = ref
        self.cookie = cookie
        self.origins = origins
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
public struct IssueLinkResponse: WireObject, Equatable {
    public static let wireFields = WireFields<Self>(
        .init("url", \.url),
        .init("id", \.id),
        .init("epoch", \.epoch),
        .init("expires_at", \.expiresAt),
        .init("not_before", \.notBefore),
        .init("methods", \.methods),
        .init("path_url", \.pathURL),
        .init("ref", \.ref)
    )
    public static var wireTemplate: Self { Self(url: "", id: "", epoch: 0, expiresAt: 0, notBefore: nil, methods: []) }

    public var url: String
    /// A prefix link's path-carried form (`…/~au/<token>/<prefix>`, docs/link-format.md §11).
    public var pathURL: String?
    public var id: String
    public var epoch: UInt64
    public var expiresAt: Int64
    public var notBefore: Int64?
    public var methods: [String]
    /// The issuer's reference, as given.
    public var ref: String?

    public init(
        url: String, id: String, epoch: UInt64, expiresAt: Int64, notBefore: Int64?, methods: [String], pathURL: String? = nil,
        ref: String? = nil
    ) {
        self.ref = ref
        self.url = url
        self.pathURL = pathURL
        self.id = id
        self.epoch = epoch
        self.expiresAt = expiresAt
        self.notBefore = notBefore
        self.methods = methods
    }
}

/// `POST /v1/links/check`: may this request pass?
public struct CheckLinkRequest: APIRequestBody, Equatable {
    public static let wireFields = WireFields<Self>(absent: .omitted,
        .init("url", \.url),
        .init("method", \.method),
        .init("client_ip", \.clientIP),
        .init("host", \.host),
        .init("password", \.password),
        .init("consume", \.consume),
        .init("cookie", \.cookie),
        .init("issue_cookie", \.issueCookie)
    )
    public static var wireTemplate: Self { Self(url: "") }

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
public struct CheckLinkResponse: WireObject, Equatable {
    public static let wireFields = WireFields<Self>(
        .init("valid", \.valid),
        .init("reason", \.reason),
        .init("id", \.id),
        .init("epoch", \.epoch),
        .init("expires_at", \.expiresAt),
        .init("remaining_uses", \.remainingUses),
        .init("detail", \.detail),
        .init("cookie", \.cookie),
        .init("cookie_expires_at", \.cookieExpiresAt)
    )
    public static var wireTemplate: Self { Self(valid: false, reason: "") }

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
