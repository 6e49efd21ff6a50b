/// Everything a link grants, as signed: docs/link-format.md §1.
public struct LinkGrant: Hashable, Sendable {
    public var epoch: UInt64
    public var id: LinkID
    public var issuedAt: Int64
    public var notBefore: Int64?
    public var expiresAt: Int64
    public var methods: HTTPMethods
    /// The canonical path prefix of a prefix link; nil for an exact link.
    public var prefix: String?
    /// The host the link is bound to (canonical `au_h`), if any.
    public var host: String?
    /// The client network the link is bound to, if any.
    public var network: IPNetwork?
    public var flags: LinkFlags
    /// The origins whose pages may read what the link grants (canonical `au_o`), if any.
    public var origins: CORSOrigins?

    public init(
        epoch: UInt64, id: LinkID, issuedAt: Int64, notBefore: Int64? = nil, expiresAt: Int64,
        methods: HTTPMethods = .view, prefix: String? = nil, host: String? = nil, network: IPNetwork? = nil,
        flags: LinkFlags = [], origins: CORSOrigins? = nil
    ) {
        self.origins = origins
        self.epoch = epoch
        self.id = id
        self.issuedAt = issuedAt
        self.notBefore = notBefore
        self.expiresAt = expiresAt
        self.methods = methods
        self.prefix = prefix
        self.host = host
        self.network = network
        self.flags = flags
    }

    /// The domain-separation context: the first line of every version 1 message.
    public static let context = "authority-link-v1"

    /// The exact bytes signed (§4) for a request with this canonical path and query. For a prefix
    /// link the prefix is signed in place of the path and the query is not signed.
    public func signedMessage(path: String, query: String) -> [UInt8] {
        let signedPath = prefix ?? path
        let signedQuery = prefix == nil ? query : ""
        var message: [UInt8] = []
        message.reserveCapacity(224 + signedPath.utf8.count + signedQuery.utf8.count + (host?.utf8.count ?? 0))
        message += Self.context.utf8
        func line(_ name: String, _ value: String) {
            message.append(10)
            message += name.utf8
            message.append(61)
            message += value.utf8
        }
        line("epoch", String(epoch))
        line("id", id.description)
        line("issued_at", String(issuedAt))
        line("not_before", notBefore.map { String($0) } ?? "")
        line("expires_at", String(expiresAt))
        line("methods", methods.canonicalText)
        line("scope", prefix == nil ? "exact" : "prefix")
        line("host", host ?? "")
        line("ip", network?.description ?? "")
        line("flags", flags.canonicalText)
        line("path", signedPath)
        line("query", signedQuery)
        // Only a link with origins has the fourteenth line: every other message is as before.
        if let origins { line("origins", origins.canonicalText) }
        message.append(10)
        return message
    }

    /// The reserved parameters in issue order, without `au_sig`.
    var reservedParameters: [(String, String)] {
        var list: [(String, String)] = [("au_v", "1"), ("au_k", "\(epoch)"), ("au_id", "\(id)"), ("au_iat", "\(issuedAt)")]
        if let notBefore { list.append(("au_nbf", "\(notBefore)")) }
        list.append(("au_exp", "\(expiresAt)"))
        list.append(("au_m", methods.canonicalText))
        if let prefix { list.append(("au_pfx", prefix)) }
        if let host { list.append(("au_h", host)) }
        if let network { list.append(("au_ip", network.description)) }
        if !flags.isEmpty { list.append(("au_f", flags.canonicalText)) }
        if let origins { list.append(("au_o", origins.canonicalText)) }
        return list
    }

    /// Whether canonical `path` lies under this link's prefix (§6). Exact links: always true.
    public func covers(path: String) -> Bool {
        guard let prefix else { return true }
        return Self.path(path, isUnder: prefix)
    }

    /// `X == P`, or `P` ends with `/` and `X` starts with `P`, or `X` starts with `P/`. Compared
    /// as bytes: Swift's `String ==` would call canonically equivalent Unicode equal.
    public static func path(_ path: String, isUnder prefix: String) -> Bool {
        let pathBytes = path.utf8, prefixBytes = prefix.utf8
        guard pathBytes.starts(with: prefixBytes) else { return false }
        if pathBytes.count == prefixBytes.count || prefixBytes.last == Canonical.slash { return true }
        return pathBytes.dropFirst(prefixBytes.count).first == Canonical.slash
    }

    /// Whether a request to `requestHost` satisfies the host binding (§6). Unbound links: true.
    /// The request host is folded to lower case in ASCII only and compared as bytes, so a host
    /// with any non-ASCII byte (`\u{212A}iosk.example`, whose Unicode lower case is
    /// `kiosk.example`) never matches: `au_h` itself is always ASCII.
    public func matches(host requestHost: String?) -> Bool {
        guard let host else { return true }
        guard let requestHost, let folded = Canonical.asciiLowercased(requestHost) else { return false }
        guard Canonical.splitHostPort(host[...])?.port == nil else { return folded.utf8.elementsEqual(host.utf8) }
        guard let requestParts = Canonical.splitHostPort(folded[...]) else { return false }
        return requestParts.host.utf8.elementsEqual(host.utf8)
    }
}
