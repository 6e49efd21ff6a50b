import AuthorityCore
import AuthorityTesting
import Testing

@Suite struct LinkTests {
    let now = Fixtures.issuedAt
    let verifier = LinkVerifier()

    func issue(_ request: IssueRequest, id: LinkID = .random()) throws -> IssuedLink {
        try LinkIssuer.issue(request, id: id, epoch: Fixtures.epoch, key: Fixtures.key, now: now)
    }

    func check(_ target: String, method: String = "GET", client: String? = nil, at time: Int64? = nil,
               ring: KeyRing = Fixtures.keyRing(), revocations: RevocationIndex? = nil) -> Reason {
        verifier.check(
            LinkRequest(target: target, method: method, clientAddress: client.flatMap { IPAddress($0) }),
            keys: ring, revocations: revocations, now: time ?? now + 1
        ).reason
    }

    @Test func signAndVerifyWithLibsodium() throws {
        let key = SigningKey.generate()
        let signature = key.sign(Array("hello".utf8))
        #expect(signature.count == 64)
        #expect(key.publicKey.isValidSignature(signature, for: Array("hello".utf8)))
        #expect(!key.publicKey.isValidSignature(signature, for: Array("hellp".utf8)))
        #expect(!Fixtures.key.publicKey.isValidSignature(signature, for: Array("hello".utf8)))
        #expect(!key.publicKey.isValidSignature(Array(signature.dropLast()), for: Array("hello".utf8)))
        let copy = try #require(key.withSeed { SigningKey.fromSeed(Array($0)) })
        #expect(copy.publicKey == key.publicKey)
    }

    @Test func issuedLinkChecksOk() throws {
        let link = try issue(IssueRequest(resource: "https://files.example/a/b.txt?x=1", expiresAt: now + 60))
        #expect(check(link.url) == .ok)
        #expect(link.url.hasPrefix("https://files.example/a/b.txt?x=1&au_v=1&au_k=7&"))
        #expect(link.grant.issuedAt == now)
    }

    @Test func retiredEpochAnswersRetiredKey() throws {
        let link = try issue(IssueRequest(resource: "/a", expiresAt: now + 60))
        var ring = Fixtures.keyRing()
        ring.rotate(to: Fixtures.otherKey.publicKey, now: now)
        #expect(check(link.url, ring: ring) == .ok)  // verify_only still verifies
        try ring.retire(epoch: Fixtures.epoch, force: true, now: now)
        #expect(check(link.url, ring: ring) == .retiredKey)
    }

    @Test func revokedByIdPrefixAndIssuedBefore() throws {
        let link = try issue(IssueRequest(resource: "/docs/2026/a.pdf", expiresAt: now + 60))
        #expect(check(link.url, revocations: RevocationIndex()) == .ok)
        #expect(check(link.url, revocations: RevocationIndex([.id(link.grant.id)])) == .revoked)
        #expect(check(link.url, revocations: RevocationIndex([.id(.random())])) == .ok)
        #expect(check(link.url, revocations: RevocationIndex([.prefix("/docs/")])) == .revoked)
        #expect(check(link.url, revocations: RevocationIndex([.prefix("/docs/2026/a.pdf")])) == .revoked)
        #expect(check(link.url, revocations: RevocationIndex([.prefix("/doc")])) == .ok)
        #expect(check(link.url, revocations: RevocationIndex([.issuedBefore(now + 1, prefix: "/docs/")])) == .revoked)
        #expect(check(link.url, revocations: RevocationIndex([.issuedBefore(now, prefix: "/docs/")])) == .ok)
        #expect(check(link.url, revocations: RevocationIndex([.issuedBefore(now + 1, prefix: "/other/")])) == .ok)
    }

    /// Reasons come in the documented order: an expired link with a wrong method is `expired`.
    @Test func firstFailureInDocumentedOrder() throws {
        var request = IssueRequest(resource: "/o", expiresAt: now + 60, network: IPNetwork(lenient: "10.0.0.0/8"))
        request.methods = .get
        let link = try issue(request)
        #expect(check(link.url, method: "PUT", client: "192.0.2.1", at: now + 61) == .expired)
        #expect(check(link.url, method: "PUT", client: "192.0.2.1") == .methodNotAllowed)
        #expect(check(link.url, client: "192.0.2.1") == .ipMismatch)
        #expect(check(link.url, client: "192.0.2.1", revocations: RevocationIndex([.id(link.grant.id)])) == .ipMismatch)
        #expect(check(link.url, client: "10.9.9.9", revocations: RevocationIndex([.id(link.grant.id)])) == .revoked)
        #expect(check("/p" + link.url.dropFirst(2), method: "PUT", at: now + 61) == .badSignature)
    }

    @Test func issueRejectsBadRequests() {
        func fails(_ request: IssueRequest) -> IssueError? {
            do {
                _ = try issue(request)
                return nil
            } catch {
                return error as? IssueError
            }
        }
        #expect(fails(IssueRequest(resource: "/a", expiresAt: now)) == .invalidLifetime("the expiry is not in the future"))
        #expect(fails(IssueRequest(resource: "/a", expiresAt: now + 5, notBefore: now + 5)) != nil)
        #expect(fails(IssueRequest(resource: "/a", expiresAt: now + 5, methods: [])) == .noMethods)
        #expect(fails(IssueRequest(resource: "/a?x=1", expiresAt: now + 5, prefix: true)) == .prefixWithQuery)
        #expect(fails(IssueRequest(resource: "/a", expiresAt: now + 5, bindHost: true)) == .hostBindingNeedsHost)
        #expect(fails(IssueRequest(resource: "https://a_b.example/x", expiresAt: now + 5, bindHost: true))
            == .invalidHost("a_b.example"))
        for bad in ["/a b", "/a/../b", "/a?au_k=1", "ftp://x/a", "relative", "/a#frag", "https://u@h/a", "/a?x&&y"] {
            guard case .invalidResource = fails(IssueRequest(resource: bad, expiresAt: now + 5)) else {
                Issue.record("\(bad) was not refused as an invalid resource")
                continue
            }
        }
    }

    /// Every single-byte change to issued links is either refused or is another spelling of the
    /// very same request (same signed message, e.g. `%2b` for `%2B`): nothing else is accepted.
    @Test func singleByteChangesAreRefused() throws {
        let alphabet = Array("aA0/%?&=.:_-~+,;bZ9".utf8)
        var accepted: [String] = []
        var tried = 0
        for index in 0..<40 {
            var request = IssueRequest(
                resource: "/files/\(index)/r%C3%A9port.pdf?v=\(index)&lang=de", expiresAt: now + 3600,
                notBefore: index % 3 == 0 ? now : nil)
            if index % 2 == 0 { request.network = IPNetwork(lenient: "192.0.2.0/24") }
            if index % 5 == 0 { request.flags = .useLimited }
            let link = try issue(request)
            let original = try ParsedLink(target: link.url)
            let bytes = Array(link.url.utf8)
            for position in bytes.indices {
                for replacement in alphabet where replacement != bytes[position] {
                    var changed = bytes
                    changed[position] = replacement
                    let target = String(decoding: changed, as: UTF8.self)
                    tried += 1
                    let verdict = verifier.check(
                        LinkRequest(target: target, clientAddress: IPAddress("192.0.2.9")), keys: Fixtures.keyRing(),
                        now: now + 1)
                    if verdict.isValid && verdict.link?.signedMessage != original.signedMessage {
                        accepted.append(target)
                    }
                }
            }
        }
        #expect(tried > 100_000)
        #expect(accepted.isEmpty, "accepted: \(accepted.prefix(5))")
    }
}
