/// What an issuer asks for. `resource` is an absolute http(s) URL or an absolute path.
public struct IssueRequest: Sendable {
    public var resource: String
    /// A prefix link covers every path under the resource's path (which then has no query).
    public var prefix: Bool
    public var methods: HTTPMethods
    public var notBefore: Int64?
    public var expiresAt: Int64
    /// Bind the link to the resource URL's host.
    public var bindHost: Bool
    public var network: IPNetwork?
    public var flags: LinkFlags
    public var origins: CORSOrigins?

    public init(
        resource: String, expiresAt: Int64, methods: HTTPMethods = .view, prefix: Bool = false,
        notBefore: Int64? = nil, bindHost: Bool = false, network: IPNetwork? = nil, flags: LinkFlags = [],
        origins: CORSOrigins? = nil
    ) {
        self.origins = origins
        self.resource = resource
        self.prefix = prefix
        self.methods = methods
        self.notBefore = notBefore
        self.expiresAt = expiresAt
        self.bindHost = bindHost
        self.network = network
        self.flags = flags
    }
}

/// Why a link cannot be issued. Each case is the caller's mistake, to be answered with a clear
/// error (HTTP 422 in the daemon), never a crash.
public enum IssueError: Error, Equatable, Sendable {
    case invalidResource(String)
    case prefixWithQuery
    case noMethods
    /// `expiresAt` is not after `now`, or not after `notBefore`.
    case invalidLifetime(String)
    case hostBindingNeedsHost
    case invalidHost(String)
    /// The flag `c` (grant cookie) on a link that is not a prefix link.
    case grantCookieNeedsPrefix
    /// The flag `c` on a link without GET or HEAD: a grant cookie grants only those (§12).
    case grantCookieNeedsView
    /// A resource under `/~au/`, the marker of path-carried tokens (docs/link-format.md §11).
    case reservedPath
    /// The flag `c` on a link whose grant cookie would pass what browsers keep (the bytes it would take).
    case grantCookieTooLarge(Int)
}

/// A freshly signed link.
public struct IssuedLink: Sendable {
    public var url: String
    public var grant: LinkGrant
    /// The canonical path of the resource (the prefix, for a prefix link).
    public var path: String
    /// A prefix link with its token carried in the path (`…/~au/<token>/<prefix>`, §11); nil for
    /// an exact link.
    public var pathURL: String?
}

/// Builds and signs links (docs/link-format.md §7). No clock: `now` is a parameter.
public enum LinkIssuer {
    public static func issue(
        _ request: IssueRequest, id: LinkID, epoch: UInt64, key: SigningKey, now: Int64
    ) throws(IssueError) -> IssuedLink {
        guard !request.methods.isEmpty else { throw .noMethods }
        guard request.expiresAt > now else { throw .invalidLifetime("the expiry is not in the future") }
        if let notBefore = request.notBefore, notBefore >= request.expiresAt {
            throw .invalidLifetime("not-before is not before the expiry")
        }
        guard request.expiresAt <= 999_999_999_999, request.notBefore.map({ $0 >= 0 }) ?? true else {
            throw .invalidLifetime("a time is out of range")
        }
        let resource = try Resource(request.resource)
        if request.prefix && !resource.query.isEmpty { throw .prefixWithQuery }
        if request.flags.contains(.grantCookie) && !request.prefix { throw .grantCookieNeedsPrefix }
        if request.flags.contains(.grantCookie) && request.methods.isDisjoint(with: .view) { throw .grantCookieNeedsView }
        if ParsedLink.isUnderPathTokenMarker(resource.path) { throw .reservedPath }
        var host: String?
        if request.bindHost {
            guard let resourceHost = resource.host else { throw .hostBindingNeedsHost }
            guard Canonical.isCanonicalHost(resourceHost[...]) else { throw .invalidHost(resourceHost) }
            host = resourceHost
        }
        let grant = LinkGrant(
            epoch: epoch, id: id, issuedAt: now, notBefore: request.notBefore, expiresAt: request.expiresAt,
            methods: request.methods, prefix: request.prefix ? resource.path : nil, host: host,
            network: request.network, flags: request.flags, origins: request.origins)
        if request.flags.contains(.grantCookie) {
            let bytes = GrantCookie.setCookieBytes(for: grant)
            guard bytes <= GrantCookie.browserLimit else { throw .grantCookieTooLarge(bytes) }
        }
        let signature = key.sign(grant.signedMessage(path: resource.path, query: resource.query))
        var parameters = grant.reservedParameters.map { "\($0.0)=\($0.1)" }
        parameters.append("au_sig=\(Base64URL.encode(signature))")
        let query = ([resource.query].filter { !$0.isEmpty } + parameters).joined(separator: "&")
        // A very long prefix makes a token past the limit: that link has no path form.
        let token = Base64URL.encode(Array(parameters.joined(separator: "&").utf8))
        let pathURL = request.prefix && token.utf8.count <= ParsedLink.pathTokenLimit
            ? resource.origin + "/~au/" + token + resource.path : nil
        return IssuedLink(url: resource.origin + resource.path + "?" + query, grant: grant, path: resource.path, pathURL: pathURL)
    }

    /// The resource an issuer names, canonicalised.
    struct Resource {
        /// `scheme://host` (lowercased), or "" for an absolute path.
        var origin: String
        var host: String?
        var path: String
        var query: String

        init(_ text: String) throws(IssueError) {
            do throws(Malformed) {
                let bytes = Array(text.utf8)
                if bytes.contains(where: { $0 <= 0x20 || $0 == 0x7F }) {
                    throw Malformed("the resource has a raw space or control character; percent-encode it")
                }
                if bytes.contains(UInt8(ascii: "#")) { throw Malformed("the resource has a fragment (#)") }
                let (authority, rest) = try ParsedLink.splitTarget(bytes)
                // ASCII case folding only: a non-ASCII host stays as given (and cannot be bound).
                let lowered = authority.map { Canonical.asciiFolded($0) }
                host = lowered
                let secure = ASCII.hasPrefixIgnoringCase(bytes, "https://".utf8)
                origin = lowered.map { (secure ? "https://" : "http://") + $0 } ?? ""
                let questionMark = rest.firstIndex(of: UInt8(ascii: "?"))
                path = try Canonical.path(rest[..<(questionMark ?? rest.endIndex)])
                var reserved = ReservedParameters()
                if let questionMark {
                    query = try ParsedLink.parseQuery(rest[(questionMark + 1)...], reserved: &reserved)
                } else {
                    query = ""
                }
                if reserved.isEmpty == false { throw Malformed("the resource's query uses the reserved au_ prefix") }
            } catch {
                throw .invalidResource(error.description)
            }
        }
    }
}
