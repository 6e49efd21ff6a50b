import AuthorityTesting
import Testing

@testable import AuthorityCore

@Suite struct VerificationCacheTests {
    let now = Fixtures.issuedAt

    func issue(_ request: IssueRequest) throws -> IssuedLink {
        try LinkIssuer.issue(request, id: .random(), epoch: Fixtures.epoch, key: Fixtures.key, now: now)
    }

    func check(
        _ target: String, with verifier: LinkVerifier, method: String = "GET", client: String? = nil,
        at time: Int64? = nil, ring: KeyRing = Fixtures.keyRing(), revocations: RevocationIndex? = nil
    ) -> Reason {
        verifier.check(
            LinkRequest(target: target, method: method, clientAddress: client.flatMap { IPAddress($0) }),
            keys: ring, revocations: revocations, now: time ?? now + 1
        ).reason
    }

    /// `url` with one character of its `au_sig` replaced: still well-formed, no longer the signature.
    func tamperedSignature(_ url: String) throws -> String {
        let start = try #require(url.range(of: "au_sig=")).upperBound
        let position = url.index(start, offsetBy: 10)
        return url.replacingCharacters(in: position...position, with: url[position] == "A" ? "B" : "A")
    }

    @Test func aRepeatedCheckHits() throws {
        let cache = VerificationCache(capacity: 16)
        let verifier = LinkVerifier(cache: cache)
        let link = try issue(IssueRequest(resource: "/hls/playlist.m3u8", expiresAt: now + 60))
        #expect(check(link.url, with: verifier) == .ok)
        #expect((cache.hits, cache.misses, cache.count) == (0, 1, 1))
        #expect(check(link.url, with: verifier) == .ok)
        #expect((cache.hits, cache.misses, cache.count) == (1, 1, 1))
    }

    @Test func aBadSignatureIsRefusedEveryTimeAndNeverCached() throws {
        let cache = VerificationCache(capacity: 16)
        let verifier = LinkVerifier(cache: cache)
        let link = try issue(IssueRequest(resource: "/a/b.txt", expiresAt: now + 60))
        let forged = try tamperedSignature(link.url)
        let otherPath = link.url.replacingOccurrences(of: "/a/b.txt", with: "/a/c.txt")
        for _ in 0..<2 {
            #expect(check(forged, with: verifier) == .badSignature)
            #expect(check(otherPath, with: verifier) == .badSignature)
        }
        #expect((cache.hits, cache.count) == (0, 0))
        // Caching the genuine link changes nothing for the forgeries.
        #expect(check(link.url, with: verifier) == .ok)
        #expect(check(forged, with: verifier) == .badSignature)
        #expect(check(otherPath, with: verifier) == .badSignature)
        #expect((cache.hits, cache.count) == (0, 1))
    }

    /// Steps 4–8 run on every check: a cached signature short-cuts step 3 only.
    @Test func aCachedLinkIsStillRefusedForEveryOtherReason() throws {
        let cache = VerificationCache(capacity: 16)
        let verifier = LinkVerifier(cache: cache)
        var request = IssueRequest(
            resource: "/v/seg1.ts", expiresAt: now + 60, network: IPNetwork(lenient: "10.0.0.0/8"))
        request.methods = .get
        let link = try issue(request)
        #expect(check(link.url, with: verifier, client: "10.1.2.3") == .ok)
        #expect(check(link.url, with: verifier, client: "10.1.2.3", at: now + 60) == .expired)
        #expect(check(link.url, with: verifier, method: "PUT", client: "10.1.2.3") == .methodNotAllowed)
        #expect(check(link.url, with: verifier, client: "192.0.2.1") == .ipMismatch)
        #expect(check(link.url, with: verifier) == .ipMismatch)
        for revocation in [Revocation.id(link.grant.id), .prefix("/v/")] {
            let revocations = RevocationIndex([revocation])
            #expect(check(link.url, with: verifier, client: "10.1.2.3", revocations: revocations) == .revoked)
        }
        #expect((cache.hits, cache.misses) == (6, 1), "every refusal above came after a cache hit")
    }

    @Test func aCachedLinkOfARetiredEpochIsRefused() throws {
        let cache = VerificationCache(capacity: 16)
        let verifier = LinkVerifier(cache: cache)
        let link = try issue(IssueRequest(resource: "/thumb.jpg", expiresAt: now + 60))
        var ring = Fixtures.keyRing()
        ring.rotate(to: Fixtures.otherKey.publicKey, now: now)
        #expect(check(link.url, with: verifier, ring: ring) == .ok)
        #expect(check(link.url, with: verifier, ring: ring) == .ok)
        try ring.retire(epoch: Fixtures.epoch, force: true, now: now)
        #expect(check(link.url, with: verifier, ring: ring) == .retiredKey)
        #expect(cache.hits == 1, "the retired check runs before the cache is asked")
    }

    /// A cached link does not make any single-byte variant of it acceptable.
    @Test func singleByteChangesOfACachedLinkAreRefused() throws {
        let verifier = LinkVerifier(cache: VerificationCache(capacity: 1_024))
        let link = try issue(IssueRequest(resource: "/files/r%C3%A9port.pdf?v=1", expiresAt: now + 3600))
        let original = try ParsedLink(target: link.url)
        #expect(check(link.url, with: verifier) == .ok)
        let bytes = Array(link.url.utf8)
        var accepted: [String] = []
        for position in bytes.indices {
            for replacement in Array("aA0/%?&=._-~".utf8) where replacement != bytes[position] {
                var changed = bytes
                changed[position] = replacement
                let target = String(decoding: changed, as: UTF8.self)
                let verdict = verifier.check(LinkRequest(target: target), keys: Fixtures.keyRing(), now: now + 1)
                if verdict.isValid && verdict.link?.signedMessage != original.signedMessage { accepted.append(target) }
            }
        }
        #expect(accepted.isEmpty, "accepted: \(accepted.prefix(5))")
    }

    @Test(arguments: [1, 2, 3, 64, 1_000])
    func theCapacityBounds(capacity: Int) {
        let cache = VerificationCache(capacity: capacity)
        let digests = (0..<UInt64(10 * capacity)).map { VerificationCache.Digest(w0: $0, w1: ~$0, w2: $0 &* 31, w3: 7) }
        for digest in digests {
            #expect(!cache.contains(digest))
            cache.insert(digest)
            #expect(cache.count <= capacity)
        }
        #expect(cache.count >= capacity / 2)
        #expect(cache.contains(digests[digests.count - 1]), "the newest entry is kept")
    }

    @Test func aHitInThePreviousGenerationPromotes() {
        let cache = VerificationCache(capacity: 4)  // generations of 2
        let (a, b, c, d) = (digest(1), digest(2), digest(3), digest(4))
        for digest in [a, b, c] { cache.insert(digest) }  // current [c], previous [a, b]
        #expect(cache.contains(a))  // current [c, a], previous [b]
        cache.insert(d)  // current [d], previous [c, a]
        #expect(cache.contains(a) && cache.contains(c) && cache.contains(d))
        #expect(!cache.contains(b))
        #expect(cache.count == 3)
    }

    func digest(_ n: UInt64) -> VerificationCache.Digest { .init(w0: n, w1: n, w2: n, w3: n) }

    @Test func capacityZeroNeverStoresOrHits() throws {
        let cache = VerificationCache(capacity: 0)
        let verifier = LinkVerifier(cache: cache)
        let link = try issue(IssueRequest(resource: "/a", expiresAt: now + 60))
        for _ in 0..<3 { #expect(check(link.url, with: verifier) == .ok) }
        #expect(!cache.isEnabled)
        #expect((cache.hits, cache.misses, cache.count) == (0, 0, 0), "a disabled cache is not even asked")
        cache.insert(digest(1))
        #expect(!cache.contains(digest(1)))
        #expect(cache.count == 0)
    }

    @Test func theDigestCoversEveryByte() throws {
        func digest(_ key: PublicKey, _ signature: [UInt8], _ message: [UInt8]) throws -> VerificationCache.Digest {
            try #require(VerificationCache.digest(publicKey: key, signature: signature, message: message))
        }
        let publicKey = Fixtures.key.publicKey
        let message = Array("v1\nGET\n/files/a.pdf\nau_exp=1790000900".utf8)
        let signature = Fixtures.key.sign(message)
        let original = try digest(publicKey, signature, message)
        #expect(try digest(publicKey, signature, message) == original)
        var seen: Set<VerificationCache.Digest> = [original]
        for index in publicKey.bytes.indices {
            var bytes = publicKey.bytes
            bytes[index] ^= 0x01
            seen.insert(try digest(try #require(PublicKey(bytes: bytes)), signature, message))
        }
        for index in signature.indices {
            var changed = signature
            changed[index] ^= 0x80
            seen.insert(try digest(publicKey, changed, message))
        }
        for index in message.indices {
            var changed = message
            changed[index] ^= 0x20
            seen.insert(try digest(publicKey, signature, changed))
        }
        seen.insert(try digest(publicKey, signature, message + [0]))
        #expect(seen.count == 1 + 32 + 64 + message.count + 1)
        // Only a 64-byte signature has a digest: the fixed sizes keep the concatenation unambiguous.
        let short = Array(signature.dropLast())
        #expect(VerificationCache.digest(publicKey: publicKey, signature: short, message: message) == nil)
    }
}
