/// The request a link is checked against.
public struct LinkRequest: Sendable {
    /// Absolute http(s) URL or origin-form target (`/path?query`).
    public var target: String
    /// The host, for an origin-form target (a proxy's forwarded `Host`).
    public var host: String?
    /// The request method, exact and upper-case.
    public var method: String
    /// The client's address, when known.
    public var clientAddress: IPAddress?

    public init(target: String, host: String? = nil, method: String = "GET", clientAddress: IPAddress? = nil) {
        self.target = target
        self.host = host
        self.method = method
        self.clientAddress = clientAddress
    }
}

/// Where a verifier finds public keys. `KeyRing` is one; an offline verifier can hold a JWK set.
public protocol VerificationKeys {
    /// The key of `epoch` and whether it still verifies; nil when the epoch is unknown.
    func verificationKey(epoch: UInt64) -> (key: PublicKey, retired: Bool)?
}

/// Checks links: steps 1–8 of docs/link-format.md §6. Stateless apart from what it is given;
/// never reads a clock (`now` is a parameter) and never touches storage. Use counts and passwords
/// (steps 9–10) belong to the daemon, which runs them after an `ok` from here.
public struct LinkVerifier: Sendable {
    /// How far ahead of `au_nbf` a link is already accepted, for skewed issuers' clocks.
    public var notBeforeLeeway: Int64
    /// Signatures that verified before; nil verifies every signature (offline verifiers, tests).
    /// `explain` never consults it.
    public var cache: VerificationCache?

    public init(notBeforeLeeway: Int64 = 30, cache: VerificationCache? = nil) {
        self.notBeforeLeeway = notBeforeLeeway
        self.cache = cache
    }

    /// Checks `request` as of `now` (Unix seconds). `revocations` nil means the daemon keeps no
    /// revocation list.
    public func check(
        _ request: LinkRequest, keys: some VerificationKeys, revocations: RevocationIndex? = nil, now: Int64
    ) -> Verdict {
        let link: ParsedLink
        do {
            link = try ParsedLink(target: request.target, host: request.host)
        } catch {
            return Verdict(reason: .malformed, detail: error.description)
        }
        return check(link, request: request, keys: keys, revocations: revocations, now: now)
    }

    /// The checks after parsing, for callers that parsed already (`explain`, the cache).
    public func check(
        _ link: ParsedLink, request: LinkRequest, keys: some VerificationKeys, revocations: RevocationIndex?,
        now: Int64
    ) -> Verdict {
        let reason = firstFailure(link, request: request, keys: keys, revocations: revocations, now: now)
        return Verdict(reason: reason ?? .ok, link: link)
    }

    private func firstFailure(
        _ link: ParsedLink, request: LinkRequest, keys: some VerificationKeys, revocations: RevocationIndex?,
        now: Int64
    ) -> Reason? {
        let grant = link.grant
        guard let (key, retired) = keys.verificationKey(epoch: grant.epoch) else { return .unknownKey }
        if retired { return .retiredKey }
        guard signatureVerifies(link, key: key) else { return .badSignature }
        return stateChecks(link, request: request, revocations: revocations, now: now)
    }

    /// Step 3. With a cache, a signature that verified before is taken as verified; only a
    /// signature that verifies now is remembered. Runs after the key lookup and the retired check,
    /// so a retired epoch is refused whatever the cache holds.
    private func signatureVerifies(_ link: ParsedLink, key: PublicKey) -> Bool {
        let message = link.signedMessage
        guard let cache, cache.isEnabled,
            let digest = VerificationCache.digest(publicKey: key, signature: link.signature, message: message)
        else { return key.isValidSignature(link.signature, for: message) }
        if cache.contains(digest) { return true }
        guard key.isValidSignature(link.signature, for: message) else { return false }
        cache.insert(digest)
        return true
    }

    /// Steps 4–8, which need no key: expiry, not-before, method, resource, address, revocation.
    public func stateChecks(_ link: ParsedLink, request: LinkRequest, revocations: RevocationIndex?, now: Int64)
        -> Reason?
    {
        let grant = link.grant
        if now >= grant.expiresAt { return .expired }
        if let notBefore = grant.notBefore, now < notBefore - notBeforeLeeway { return .notYetValid }
        guard let method = HTTPMethods(method: request.method), grant.methods.contains(method) else {
            return .methodNotAllowed
        }
        guard grant.matches(host: link.host), grant.covers(path: link.path) else { return .resourceMismatch }
        if let network = grant.network {
            guard let client = request.clientAddress, network.contains(client) else { return .ipMismatch }
        }
        if let revocations, revocations.isRevoked(id: grant.id, path: link.path, issuedAt: grant.issuedAt) {
            return .revoked
        }
        return nil
    }
}
