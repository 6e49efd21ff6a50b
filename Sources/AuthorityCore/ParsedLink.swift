/// A request target that carries a link, decoded and canonicalised (§2–§4). Parsing checks every
/// rule of the format but no signature, clock or key: those are `LinkVerifier`'s.
public struct ParsedLink: Sendable {
    public var grant: LinkGrant
    /// The canonical path of the request.
    public var path: String
    /// The canonical query of the request's own (non-reserved) parameters.
    public var query: String
    /// The request host: the absolute URL's authority, else the host given beside the target.
    public var host: String?
    /// The 64 signature bytes `au_sig` carries.
    public var signature: [UInt8]
    /// Where the target carried the link: its query, or a path segment (§11).
    public var carrier: Carrier

    public enum Carrier: Sendable, Equatable {
        case query
        /// `/~au/<token>/…`: the request path is what follows the token.
        case path
    }

    /// The raw path prefix of a path-carried token (§11).
    public static let pathTokenMarker = Array("/~au/".utf8)
    /// The longest path-carried token, in base64url characters.
    public static let pathTokenLimit = 4096

    /// The exact bytes the signature must cover.
    public var signedMessage: [UInt8] { grant.signedMessage(path: path, query: query) }

    /// Parses `target` (absolute http(s) URL or origin form). `host` is used for an origin-form
    /// target, as a proxy forwards it.
    public init(target: String, host: String? = nil) throws(Malformed) {
        let bytes = Array(target.utf8)
        if bytes.contains(where: { $0 <= 0x20 || $0 == 0x7F }) {
            throw Malformed("the target has a raw space or control character")
        }
        if bytes.contains(UInt8(ascii: "#")) { throw Malformed("the target has a fragment (#)") }
        let (authority, rest) = try Self.splitTarget(bytes)
        self.host = authority ?? host
        let questionMark = rest.firstIndex(of: UInt8(ascii: "?"))
        let rawPath = rest[..<(questionMark ?? rest.endIndex)]
        var reserved = ReservedParameters()
        if rawPath.starts(with: Self.pathTokenMarker) {
            carrier = .path
            let requestPath = try Self.parsePathToken(rawPath, reserved: &reserved)
            path = try Canonical.path(requestPath)
            if Self.isUnderPathTokenMarker(path) { throw Malformed("the path is under /~au/ (an encoded path-carried token marker)") }
            if let questionMark {
                var outer = ReservedParameters()
                query = try Self.parseQuery(rest[(questionMark + 1)...], reserved: &outer)
                guard outer.isEmpty else { throw Malformed("a target with a path-carried token has a reserved parameter in its query") }
            } else {
                query = ""
            }
            (grant, signature) = try reserved.grant()
            guard grant.prefix != nil else { throw Malformed("a path-carried token must hold a prefix link (au_pfx)") }
            return
        }
        carrier = .query
        path = try Canonical.path(rawPath)
        // `/%7Eau/…` is `/~au/…` to a proxy, which strips the segment and serves what follows:
        // a grant checked against the unstripped path would escape the revocations of the real one.
        if Self.isUnderPathTokenMarker(path) { throw Malformed("the path is under /~au/ (an encoded path-carried token marker)") }
        guard let questionMark else { throw Malformed("the target has no query, so no link parameters") }
        query = try Self.parseQuery(rest[(questionMark + 1)...], reserved: &reserved)
        (grant, signature) = try reserved.grant()
    }

    /// The canonical path and the host of a target that carries no link at all (no reserved
    /// parameter, no path-carried token), for a request a grant cookie may grant; nil for any
    /// other target, including a malformed one.
    public static func bareRequest(target: String, host: String?) -> (path: String, host: String?)? {
        let bytes = Array(target.utf8)
        if bytes.contains(where: { $0 <= 0x20 || $0 == 0x7F || $0 == UInt8(ascii: "#") }) { return nil }
        guard let (authority, rest) = try? splitTarget(bytes) else { return nil }
        let questionMark = rest.firstIndex(of: UInt8(ascii: "?"))
        let rawPath = rest[..<(questionMark ?? rest.endIndex)]
        guard !rawPath.starts(with: pathTokenMarker), let path = try? Canonical.path(rawPath), !isUnderPathTokenMarker(path) else { return nil }
        if let questionMark {
            var reserved = ReservedParameters()
            guard (try? parseQuery(rest[(questionMark + 1)...], reserved: &reserved)) != nil, reserved.isEmpty else { return nil }
        }
        return (path, authority ?? host)
    }

    /// Whether a canonical path is `/~au` or lies under `/~au/`, which only path-carried tokens use.
    public static func isUnderPathTokenMarker(_ path: String) -> Bool {
        path == "/~au" || path.utf8.starts(with: pathTokenMarker)
    }

    /// A link's parts, as a caller that checked them some other way holds them (a grant cookie).
    public init(grant: LinkGrant, path: String, query: String = "", host: String?, signature: [UInt8] = [], carrier: Carrier) {
        self.grant = grant
        self.path = path
        self.query = query
        self.host = host
        self.signature = signature
        self.carrier = carrier
    }

    /// Reads `/~au/<token>/…` (§11): hands the token's pieces to `reserved` and returns the raw
    /// request path after the token (from its `/`).
    static func parsePathToken(_ rawPath: ArraySlice<UInt8>, reserved: inout ReservedParameters) throws(Malformed)
        -> ArraySlice<UInt8>
    {
        let tokenStart = rawPath.startIndex + pathTokenMarker.count
        guard let slash = rawPath[tokenStart...].firstIndex(of: Canonical.slash) else {
            throw Malformed("the path-carried token is not followed by /")
        }
        let token = rawPath[tokenStart..<slash]
        guard (1...pathTokenLimit).contains(token.count), let decoded = Base64URL.decode(token) else {
            throw Malformed("the path-carried token is not 1 to \(pathTokenLimit) canonical base64url characters")
        }
        for piece in decoded.split(separator: UInt8(ascii: "&"), omittingEmptySubsequences: false) {
            let equals = piece.firstIndex(of: UInt8(ascii: "="))
            let name = piece[..<(equals ?? piece.endIndex)]
            guard name.starts(with: ReservedParameters.prefix) else {
                throw Malformed("the path-carried token holds a piece that is not a reserved parameter")
            }
            try reserved.set(name, String(decoding: equals.map { piece[($0 + 1)...] } ?? [], as: UTF8.self))
        }
        return rawPath[slash...]
    }

    /// Separates an absolute URL's authority from its path and query.
    static func splitTarget(_ bytes: [UInt8]) throws(Malformed) -> (authority: String?, rest: ArraySlice<UInt8>) {
        if bytes.first == Canonical.slash { return (nil, bytes[...]) }
        let schemeLength: Int
        if ASCII.hasPrefixIgnoringCase(bytes, "https://".utf8) {
            schemeLength = 8
        } else if ASCII.hasPrefixIgnoringCase(bytes, "http://".utf8) {
            schemeLength = 7
        } else {
            throw Malformed("the target is neither an http(s) URL nor an absolute path")
        }
        let afterScheme = bytes[schemeLength...]
        let end = afterScheme.firstIndex { $0 == Canonical.slash || $0 == UInt8(ascii: "?") } ?? bytes.endIndex
        let authority = afterScheme[..<end]
        if authority.isEmpty { throw Malformed("the URL has no host") }
        if authority.contains(UInt8(ascii: "@")) { throw Malformed("the URL has user information (@)") }
        return (String(decoding: authority, as: UTF8.self), bytes[end...])
    }

    /// Splits the query, hands reserved parameters to `reserved` and returns the canonical query of
    /// the others, in order.
    static func parseQuery(_ raw: ArraySlice<UInt8>, reserved: inout ReservedParameters) throws(Malformed) -> String {
        var canonical: [UInt8] = []
        canonical.reserveCapacity(raw.count)
        for piece in raw.split(separator: UInt8(ascii: "&"), omittingEmptySubsequences: false) {
            if piece.isEmpty { throw Malformed("the query has an empty parameter (&&, or & at an end)") }
            let equals = piece.firstIndex(of: UInt8(ascii: "="))
            let rawName = piece[..<(equals ?? piece.endIndex)]
            let rawValue = equals.map { piece[($0 + 1)...] } ?? []
            let name = try Canonical.formDecode(rawName)
            if name.isEmpty { throw Malformed("the query has a parameter without a name") }
            if name.starts(with: ReservedParameters.prefix) {
                guard rawName.elementsEqual(name) else { throw Malformed("a reserved parameter name is encoded") }
                try reserved.set(name, String(decoding: rawValue, as: UTF8.self))
                continue
            }
            let value = try Canonical.formDecode(rawValue)
            if !canonical.isEmpty { canonical.append(UInt8(ascii: "&")) }
            Canonical.appendEncoded(name, to: &canonical)
            canonical.append(UInt8(ascii: "="))
            Canonical.appendEncoded(value, to: &canonical)
        }
        return String(decoding: canonical, as: UTF8.self)
    }
}

/// The `au_` parameters of one link, collected and then validated into a grant (§1).
struct ReservedParameters {
    static let prefix = Array("au_".utf8)
    /// Every reserved name, in the order of `values`.
    static let names = ["au_v", "au_k", "au_id", "au_iat", "au_nbf", "au_exp", "au_m", "au_pfx", "au_h", "au_ip", "au_f", "au_o", "au_sig"]
    private static let nameBytes = names.map { Array($0.utf8) }
    /// One slot per name: a fixed array, no hashing, on the path of every check.
    private var values = [String?](repeating: nil, count: names.count)
    var isEmpty: Bool { values.allSatisfy { $0 == nil } }

    mutating func set(_ name: some Collection<UInt8>, _ value: String) throws(Malformed) {
        guard let slot = Self.nameBytes.firstIndex(where: { $0.elementsEqual(name) }) else {
            throw Malformed("unknown reserved parameter \(String(decoding: name, as: UTF8.self))")
        }
        guard values[slot] == nil else { throw Malformed("duplicate parameter \(Self.names[slot])") }
        values[slot] = value
    }

    private subscript(_ name: String) -> String? { values[Self.names.firstIndex(of: name)!] }

    private func required(_ name: String) throws(Malformed) -> String {
        guard let value = self[name] else { throw Malformed("missing parameter \(name)") }
        return value
    }

    /// `0` or a non-zero digit and at most 17 more digits.
    static func decimal(_ text: String) -> Int64? {
        let utf8 = text.utf8
        guard (1...18).contains(utf8.count), utf8.allSatisfy({ (48...57).contains($0) }) else { return nil }
        if utf8.count > 1 && utf8.first == 48 { return nil }
        return Int64(text)
    }

    private func number(_ name: String) throws(Malformed) -> Int64? {
        guard let text = self[name] else { return nil }
        guard let value = Self.decimal(text) else { throw Malformed("\(name) is not a canonical decimal number") }
        return value
    }

    func grant() throws(Malformed) -> (LinkGrant, [UInt8]) {
        guard try required("au_v").utf8.elementsEqual("1".utf8) else { throw Malformed("unsupported link version au_v") }
        guard let epoch = try number("au_k"), epoch >= 1 else { throw Malformed("missing or zero epoch au_k") }
        guard let id = LinkID(Array(try required("au_id").utf8)) else {
            throw Malformed("au_id is not 22 canonical base64url characters")
        }
        guard let issuedAt = try number("au_iat") else { throw Malformed("missing parameter au_iat") }
        guard let expiresAt = try number("au_exp") else { throw Malformed("missing parameter au_exp") }
        guard let methods = HTTPMethods(canonical: try required("au_m")) else {
            throw Malformed("au_m is not a canonical method list")
        }
        let signatureText = try required("au_sig")
        guard signatureText.utf8.count == 86, let signature = Base64URL.decode(Array(signatureText.utf8)) else {
            throw Malformed("au_sig is not 86 canonical base64url characters")
        }
        var grant = LinkGrant(
            epoch: UInt64(epoch), id: id, issuedAt: issuedAt, notBefore: try number("au_nbf"),
            expiresAt: expiresAt, methods: methods)
        if let prefix = self["au_pfx"] {
            guard (try? Canonical.path(Array(prefix.utf8)[...])) == prefix else {
                throw Malformed("au_pfx is not a canonical path")
            }
            grant.prefix = prefix
        }
        if let host = self["au_h"] {
            guard Canonical.isCanonicalHost(host[...]) else { throw Malformed("au_h is not a canonical host") }
            grant.host = host
        }
        if let network = self["au_ip"] {
            guard let parsed = IPNetwork(canonical: network) else { throw Malformed("au_ip is not a canonical CIDR") }
            grant.network = parsed
        }
        if let flags = self["au_f"] {
            guard let parsed = LinkFlags(canonical: flags) else { throw Malformed("au_f is not a canonical flag list (u, p, c in that order)") }
            grant.flags = parsed
        }
        if let origins = self["au_o"] {
            guard let parsed = CORSOrigins(canonical: origins) else { throw Malformed("au_o is not a canonical origin list") }
            grant.origins = parsed
        }
        if grant.flags.contains(.grantCookie), grant.prefix == nil {
            throw Malformed("the flag c (grant cookie) needs a prefix link (au_pfx)")
        }
        return (grant, signature)
    }
}
