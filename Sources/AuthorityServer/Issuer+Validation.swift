import AuthorityAPI
import AuthorityCore
import AuthorityStore

extension Issuer {
    /// Turns the wire request into the core's, refusing anything out of range with a message
    /// that names the field.
    func issueRequest(_ body: IssueLinkRequest, now: Int64) throws(APIError) -> IssueRequest {
        func invalid(_ message: String) -> APIError { APIError(.invalidRequest, message) }
        var flags: LinkFlags = []
        if let maxUses = body.maxUses {
            guard (1...1_000_000_000).contains(maxUses) else { throw invalid("max_uses must be 1 to 1000000000") }
            flags.insert(.useLimited)
        }
        if let password = body.password {
            guard !password.isEmpty, password.utf8.count <= PasswordHash.maximumLength else {
                throw invalid("password must be 1 to \(PasswordHash.maximumLength) bytes")
            }
            flags.insert(.passwordProtected)
        }
        if body.cookie == true { flags.insert(.grantCookie) }
        if let ref = body.ref, !LinkRecord.isValidRef(ref) {
            throw invalid("ref must be 1 to \(LinkRecord.refLimit) visible ASCII characters (no space, no control character)")
        }
        var methods: HTTPMethods = []
        for name in body.methods ?? ["GET", "HEAD"] {
            guard let method = HTTPMethods(method: name) else {
                throw invalid("methods: \"\(name.prefix(16))\" is not one of GET, HEAD, PUT, POST, DELETE")
            }
            methods.insert(method)
        }
        guard !methods.isEmpty else { throw invalid("methods must not be empty") }
        let expiresAt: Int64
        switch (body.ttl, body.expiresAt) {
        case (let ttl?, nil):
            guard (1...maxTTL).contains(ttl) else { throw invalid("ttl must be between 1 and \(maxTTL) seconds") }
            expiresAt = now + ttl
        case (nil, let time?):
            guard time > now, time - now <= maxTTL else {
                throw invalid("expires_at must be in the future and at most \(maxTTL) seconds from now")
            }
            expiresAt = time
        default:
            throw invalid("give exactly one of ttl and expires_at")
        }
        if let notBefore = body.notBefore, notBefore < 0 || notBefore >= expiresAt {
            throw invalid("not_before must be before the expiry")
        }
        var network: IPNetwork?
        if let ip = body.ip {
            guard let parsed = IPNetwork(lenient: ip) else {
                throw invalid("ip must be an address or a network in CIDR notation with its host bits zero")
            }
            network = parsed
        }
        var origins: CORSOrigins?
        if let list = body.origins {
            guard let parsed = CORSOrigins(lenient: list) else {
                throw invalid(
                    "origins must be 1 to \(CORSOrigins.limit) origins, each http:// or https:// and a host with an optional port "
                        + "(https://app.example, no path)")
            }
            origins = parsed
        }
        return IssueRequest(
            resource: body.resource, expiresAt: expiresAt, methods: methods, prefix: body.prefix ?? false,
            notBefore: body.notBefore, bindHost: body.bindHost ?? false, network: network, flags: flags, origins: origins)
    }
}

extension IssueError {
    /// A message that names what to fix.
    var message: String {
        switch self {
        case .invalidResource(let why): "resource: \(why)"
        case .prefixWithQuery: "a prefix link's resource must not have a query"
        case .noMethods: "methods must not be empty"
        case .invalidLifetime(let why): why
        case .hostBindingNeedsHost: "bind_host needs an absolute http(s) resource URL"
        case .invalidHost(let host): "the resource's host \"\(host.prefix(64))\" cannot be bound (lowercase DNS name or IP address)"
        case .grantCookieNeedsPrefix: "cookie needs a prefix link (\"prefix\": true): a grant cookie covers a path prefix"
        case .grantCookieNeedsView: "cookie needs GET or HEAD in methods: a grant cookie grants only those"
        case .reservedPath: "resource: paths under /~au/ are reserved for path-carried tokens"
        case .grantCookieTooLarge(let bytes):
            "cookie: its grant cookie would take \(bytes) bytes, over the \(GrantCookie.browserLimit) a browser keeps (shorten the prefix, the host or the origins)"
        }
    }
}
