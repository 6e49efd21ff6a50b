/// A grant cookie (docs/link-format.md §12): the grant of a prefix link with the flag `c`, minted
/// by the daemon once the link passed, so that a browser's later requests under the prefix pass
/// without the token. Signed under the key ring with its own context; it carries the link's
/// epoch, id, issue time and expiry, so revoking or retiring what ends the link ends the cookie.
public struct GrantCookie: Sendable, Equatable {
    /// The epoch of the key that signed the cookie.
    public var epoch: UInt64
    /// The link's grant: its epoch, id, `au_iat`, `au_exp` (the cookie's hard maximum), methods,
    /// prefix, host and network. No flags, no not-before: the link passed those already.
    public var grant: LinkGrant
    /// The cookie's own expiry: never after `grant.expiresAt`.
    public var expiresAt: Int64
    public var signature: [UInt8]

    public static let context = "authority-grant-v1"
    /// Cookie names are this plus the link id, so several links' cookies coexist.
    public static let namePrefix = "authority_grant_"
    /// The most grant cookies one request's `Cookie` header is searched for.
    public static let searchLimit = 16

    public var name: String { Self.namePrefix + grant.id.description }

    /// The exact bytes signed (twelve lines).
    public var signedMessage: [UInt8] {
        var lines = [Self.context]
        lines.append("epoch=\(epoch)")
        lines.append("link_epoch=\(grant.epoch)")
        lines.append("id=\(grant.id)")
        lines.append("issued_at=\(grant.issuedAt)")
        lines.append("expires_at=\(expiresAt)")
        lines.append("max_expires_at=\(grant.expiresAt)")
        lines.append("methods=\(grant.methods.canonicalText)")
        lines.append("host=\(grant.host ?? "")")
        lines.append("ip=\(grant.network?.description ?? "")")
        lines.append("prefix=\(grant.prefix ?? "")")
        lines.append("origins=\(grant.origins?.canonicalText ?? "")")
        return Array(lines.map { $0 + "\n" }.joined().utf8)
    }

    /// Signs a cookie for `link` (a prefix link with GET or HEAD) expiring at `expiresAt`, capped at
    /// the link's expiry. The cookie grants only the link's GET and HEAD: a browser sends it with
    /// every request under the prefix, including a form another page posts (CSRF).
    public static func issue(for link: LinkGrant, expiresAt: Int64, epoch: UInt64, key: SigningKey) -> GrantCookie {
        var cookie = issue(for: link, expiresAt: expiresAt, epoch: epoch, signature: [])
        cookie.signature = key.sign(cookie.signedMessage)
        return cookie
    }

    private static func issue(for link: LinkGrant, expiresAt: Int64, epoch: UInt64, signature: [UInt8]) -> GrantCookie {
        let grant = LinkGrant(
            epoch: link.epoch, id: link.id, issuedAt: link.issuedAt, expiresAt: link.expiresAt, methods: link.methods.intersection(.view),
            prefix: link.prefix, host: link.host, network: link.network, origins: link.origins)
        return GrantCookie(epoch: epoch, grant: grant, expiresAt: min(expiresAt, link.expiresAt), signature: signature)
    }

    public init(epoch: UInt64, grant: LinkGrant, expiresAt: Int64, signature: [UInt8]) {
        self.epoch = epoch
        self.grant = grant
        self.expiresAt = expiresAt
        self.signature = signature
    }

    /// `1.<epoch>.<link_epoch>.<id>.<issued_at>.<expires_at>.<max_expires_at>.<B(methods)>.<B(host)>.<B(ip)>.<B(prefix)>.<B(origins)>.<signature>`.
    public var value: String {
        func text(_ value: String?) -> String { Base64URL.encode(Array((value ?? "").utf8)) }
        let fields = [
            "1", String(epoch), String(grant.epoch), grant.id.description, String(grant.issuedAt), String(expiresAt),
            String(grant.expiresAt), text(grant.methods.canonicalText), text(grant.host), text(grant.network?.description),
            text(grant.prefix), text(grant.origins?.canonicalText), Base64URL.encode(signature),
        ]
        return fields.joined(separator: ".")
    }

    /// Parses the strict form of `value`; nil for anything else.
    public init?(value: some StringProtocol) {
        let parts = value.split(separator: ".", omittingEmptySubsequences: false)
        func number(_ index: Int) -> Int64? { ReservedParameters.decimal(String(parts[index])) }
        func text(_ index: Int) -> String? {
            guard let bytes = Base64URL.decode(Array(parts[index].utf8)) else { return nil }
            return String(validating: bytes, as: UTF8.self)
        }
        guard parts.count == 13, parts[0] == "1",
            let epoch = number(1), epoch >= 1, let linkEpoch = number(2), linkEpoch >= 1,
            let id = LinkID(Array(parts[3].utf8)), let issuedAt = number(4), let expiresAt = number(5),
            let maxExpiresAt = number(6),
            let methods = text(7).flatMap({ HTTPMethods(canonical: $0) }),
            let host = text(8), let ip = text(9), let prefix = text(10), let origins = text(11),
            parts[12].utf8.count == 86, let signature = Base64URL.decode(Array(parts[12].utf8))
        else { return nil }
        var grant = LinkGrant(
            epoch: UInt64(linkEpoch), id: id, issuedAt: issuedAt, expiresAt: maxExpiresAt, methods: methods)
        if !host.isEmpty {
            guard Canonical.isCanonicalHost(host[...]) else { return nil }
            grant.host = host
        }
        if !ip.isEmpty {
            guard let network = IPNetwork(canonical: ip) else { return nil }
            grant.network = network
        }
        guard !prefix.isEmpty, (try? Canonical.path(Array(prefix.utf8)[...])) == prefix else { return nil }
        grant.prefix = prefix
        if !origins.isEmpty {
            guard let parsed = CORSOrigins(canonical: origins) else { return nil }
            grant.origins = parsed
        }
        self.init(epoch: UInt64(epoch), grant: grant, expiresAt: expiresAt, signature: signature)
    }

    /// Steps of §12 after parsing, as of `now`: nil grants the request, else the refusal.
    /// `path` is the request's canonical path, `host` its host.
    public func refusal(
        method: String, host: String?, path: String, client: IPAddress?, keys: some VerificationKeys,
        revocations: RevocationIndex?, verifier: LinkVerifier, now: Int64
    ) -> Reason? {
        guard let (key, retired) = keys.verificationKey(epoch: epoch),
            let (_, linkRetired) = keys.verificationKey(epoch: grant.epoch)
        else { return .unknownKey }
        if retired || linkRetired { return .retiredKey }
        guard key.isValidSignature(signature, for: signedMessage) else { return .badSignature }
        guard expiresAt <= grant.expiresAt else { return .expired }
        // The link's own steps 4–8 with the cookie's expiry in place of the link's.
        var bounded = grant
        bounded.expiresAt = expiresAt
        let link = ParsedLink(grant: bounded, path: path, host: host, carrier: .query)
        return verifier.stateChecks(
            link, request: LinkRequest(target: path, host: host, method: method, clientAddress: client),
            revocations: revocations, now: now)
    }

    /// What browsers keep of one cookie, name, value and attributes together (RFC 6265 §6.1: at
    /// least 4096 bytes; Chromium and Firefox keep no more). A longer one is dropped silently.
    public static let browserLimit = 4096

    /// The most bytes the `Set-Cookie` of `link`'s grant cookie can take: its name and value
    /// (with an epoch of 20 digits, the largest) and the attributes the daemon sets.
    public static func setCookieBytes(for link: LinkGrant) -> Int {
        let cookie = GrantCookie.issue(for: link, expiresAt: link.expiresAt, epoch: UInt64.max, signature: [UInt8](repeating: 0, count: 64))
        let attributes = "; Path=\(link.prefix ?? "/"); Max-Age=604800; HttpOnly; Secure; SameSite=Lax"
        return cookie.name.utf8.count + 1 + cookie.value.utf8.count + attributes.utf8.count
    }

    /// The `authority_grant_*` cookies of `Cookie` header lines whose name's link id is the id in
    /// their value (so each costs at most one signature check), at most `searchLimit` of them.
    public static func find(inCookieHeaders headers: some Sequence<String>) -> [String] {
        var found: [String] = []
        for header in headers where header.utf8.count >= namePrefix.utf8.count && header.contains(namePrefix) {
            for pair in header.split(separator: ";") {
                let trimmed = pair.drop { $0 == " " }
                guard trimmed.utf8.starts(with: namePrefix.utf8), let equals = trimmed.firstIndex(of: "=") else { continue }
                let id = trimmed[trimmed.index(trimmed.startIndex, offsetBy: namePrefix.count)..<equals]
                let value = trimmed[trimmed.index(after: equals)...]
                // `1.<epoch>.<link_epoch>.<id>.…`: a cookie named for another link is not looked at.
                let fields = value.split(separator: ".", maxSplits: 4, omittingEmptySubsequences: false)
                guard fields.count == 5, !id.isEmpty, fields[3].utf8.elementsEqual(id.utf8) else { continue }
                found.append(String(value))
                if found.count == searchLimit { return found }
            }
        }
        return found
    }
}
