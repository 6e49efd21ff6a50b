import AuthorityCore
import AuthorityTesting
import Foundation
import Testing

/// The forms a browser or a player follows (docs/link-format.md §11–§13): flags, path-carried
/// tokens, grant cookies and origins, checked rule by rule.
@Suite struct BrowsingFormTests {
    static let now = Fixtures.issuedAt + 100

    static func prefixGrant(host: String? = nil, network: String? = nil, origins: [String]? = nil) -> LinkGrant {
        LinkGrant(
            epoch: Fixtures.epoch, id: Fixtures.id(1), issuedAt: Fixtures.issuedAt, expiresAt: Fixtures.issuedAt + 3_600,
            methods: .view, prefix: "/site/", host: host, network: network.flatMap { IPNetwork(lenient: $0) },
            flags: .grantCookie, origins: origins.flatMap { CORSOrigins(lenient: $0) })
    }

    static func cookie(_ grant: LinkGrant = prefixGrant(), expiresAt: Int64 = now + 1_800) -> GrantCookie {
        GrantCookie.issue(for: grant, expiresAt: expiresAt, epoch: Fixtures.epoch, key: Fixtures.key)
    }

    func refusal(
        _ cookie: GrantCookie, method: String = "GET", host: String? = nil, path: String = "/site/a.css",
        client: String? = nil, keys: KeyRing = Fixtures.keyRing(), revocations: RevocationIndex? = nil, now: Int64 = now
    ) -> Reason? {
        cookie.refusal(
            method: method, host: host, path: path, client: client.flatMap { IPAddress($0) }, keys: keys,
            revocations: revocations, verifier: LinkVerifier(), now: now)
    }

    @Test func flagsParseOnlyInTheirCanonicalOrder() {
        for text in ["u", "p", "c", "up", "uc", "pc", "upc"] { #expect(LinkFlags(canonical: text)?.canonicalText == text) }
        for text in ["", "cu", "pu", "cp", "uu", "cc", "upcc", "x", "U", "u,p", "u "] { #expect(LinkFlags(canonical: text) == nil, "\(text)") }
        #expect(LinkFlags.grantCookie.needsState == false && LinkFlags([.grantCookie, .useLimited]).needsState)
    }

    @Test func aGrantCookieRoundTripsAndGrantsItsPrefixOnly() throws {
        let grant = Self.prefixGrant(host: "preview.example", network: "192.0.2.0/24", origins: ["https://app.example"])
        let cookie = Self.cookie(grant)
        #expect(GrantCookie(value: cookie.value) == cookie)
        #expect(cookie.name == "authority_grant_" + grant.id.description)
        #expect(String(decoding: cookie.signedMessage, as: UTF8.self).hasPrefix("authority-grant-v1\nepoch=7\nlink_epoch=7\n"))
        #expect(cookie.expiresAt == Self.now + 1_800)
        #expect(Self.cookie(grant, expiresAt: Self.now + 86_400).expiresAt == grant.expiresAt, "capped at the link's expiry")
        let ok = refusal(cookie, host: "preview.example:8443", client: "192.0.2.9")
        #expect(ok == nil)
        #expect(refusal(cookie, method: "PUT", host: "preview.example", client: "192.0.2.9") == .methodNotAllowed)
        #expect(refusal(cookie, host: "other.example", client: "192.0.2.9") == .resourceMismatch)
        #expect(refusal(cookie, host: nil, client: "192.0.2.9") == .resourceMismatch)
        #expect(refusal(cookie, host: "preview.example", path: "/sitemap", client: "192.0.2.9") == .resourceMismatch)
        #expect(refusal(cookie, host: "preview.example", client: "198.51.100.1") == .ipMismatch)
        #expect(refusal(cookie, host: "preview.example", client: nil) == .ipMismatch)
        #expect(refusal(cookie, host: "preview.example", client: "192.0.2.9", now: cookie.expiresAt) == .expired)
        #expect(refusal(cookie, host: "\u{212A}preview.example", client: "192.0.2.9") == .resourceMismatch)
    }

    @Test func revocationKeysAndTamperingEndACookie() throws {
        let cookie = Self.cookie()
        #expect(refusal(cookie, revocations: RevocationIndex([.id(Fixtures.id(1))])) == .revoked)
        #expect(refusal(cookie, revocations: RevocationIndex([.prefix("/site/")])) == .revoked)
        #expect(refusal(cookie, path: "/site/a/x.css", revocations: RevocationIndex([.prefix("/site/a/")])) == .revoked)
        #expect(refusal(cookie, path: "/site/b.css", revocations: RevocationIndex([.prefix("/site/a/")])) == nil)
        #expect(refusal(cookie, revocations: RevocationIndex([.issuedBefore(Fixtures.issuedAt + 1, prefix: "/")])) == .revoked)
        #expect(refusal(cookie, keys: try KeyRing(records: [])) == .unknownKey)
        let retired = try KeyRing(records: [
            KeyRecord(epoch: Fixtures.epoch, publicKey: Fixtures.key.publicKey, status: .retired, createdAt: Fixtures.issuedAt)])
        #expect(refusal(cookie, keys: retired) == .retiredKey)
        // Signed by another key under the same epoch, or with any field changed: bad_signature.
        let forged = GrantCookie.issue(for: Self.prefixGrant(), expiresAt: Self.now + 60, epoch: Fixtures.epoch, key: Fixtures.otherKey)
        #expect(refusal(forged) == .badSignature)
        var widened = cookie
        widened.grant.prefix = "/"
        #expect(refusal(widened, path: "/etc") == .badSignature)
        var later = cookie
        later.expiresAt += 1
        #expect(refusal(later) == .badSignature)
        // Signed, but past its link's expiry (no daemon mints one): refused.
        var beyond = Self.cookie()
        beyond.expiresAt = beyond.grant.expiresAt + 1
        beyond.signature = Fixtures.key.sign(beyond.signedMessage)
        #expect(refusal(beyond) == .expired)
    }

    @Test func onlyTheStrictValueParses() {
        let value = Self.cookie().value
        var fields = value.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        #expect(fields.count == 13)
        func parses(_ change: (inout [String]) -> Void) -> Bool {
            var copy = fields
            change(&copy)
            return GrantCookie(value: copy.joined(separator: ".")) != nil
        }
        #expect(parses { _ in })
        #expect(!parses { $0[0] = "2" })
        #expect(!parses { $0.removeLast() })
        #expect(!parses { $0.append("x") })
        #expect(!parses { $0[1] = "0" })
        #expect(!parses { $0[5] = "0123" })
        #expect(!parses { $0[5] = "99999999999999999999" })
        #expect(!parses { $0[7] = Base64URL.encode(Array("HEAD,GET".utf8)) })
        #expect(!parses { $0[8] = Base64URL.encode(Array("Preview.example".utf8)) })
        #expect(!parses { $0[9] = Base64URL.encode(Array("192.0.2.7/24".utf8)) })
        #expect(!parses { $0[10] = "" })
        #expect(!parses { $0[10] = Base64URL.encode(Array("/a/../b".utf8)) })
        #expect(!parses { $0[11] = Base64URL.encode(Array("https://b.example,https://a.example".utf8)) })
        #expect(!parses { $0[12] = String($0[12].dropLast()) })
        #expect(!parses { $0[8] = $0[8] + "=" })
        fields[3] = "AAAAAAAAAAAAAAAAAAAAAB"  // not canonical base64url (unused bits set)
        #expect(GrantCookie(value: fields.joined(separator: ".")) == nil)
        #expect(GrantCookie(value: "") == nil && GrantCookie(value: String(repeating: ".", count: 12)) == nil)
    }

    /// Only cookies whose name carries the id of their value are kept (each costs at most one
    /// signature check), and no more than the limit; junk does not count towards it.
    @Test func cookieHeadersAreSearchedBoundedly() {
        func value(_ id: String) -> String { "1.2.3.\(id).rest" }
        let header = "a=1; authority_grant_x=\(value("x"));authority_unlock=u; authority_grant_y=\(value("y")); authority_grantz=no"
        #expect(GrantCookie.find(inCookieHeaders: [header, "authority_grant_z=\(value("z"))"]) == [value("x"), value("y"), value("z")])
        #expect(GrantCookie.find(inCookieHeaders: ["authority_grant_x=\(value("y")); authority_grant_x=1.2.3.x; authority_grant_=1.2.3..r"]).isEmpty)
        let junk = (0..<40).map { "authority_grant_\($0)=v\($0)" }.joined(separator: "; ")
        let many = (0..<40).map { "authority_grant_\($0)=\(value("\($0)"))" }.joined(separator: "; ")
        #expect(GrantCookie.find(inCookieHeaders: [junk, many]).count == GrantCookie.searchLimit)
        #expect(GrantCookie.find(inCookieHeaders: [junk, many]).first == value("0"))
    }

    @Test func originsAreCanonicalSortedAndComparedAsBytes() {
        let origins = CORSOrigins(lenient: ["https://B.example", "http://localhost:3000", "https://a.example", "https://a.example"])
        #expect(origins?.canonicalText == "http://localhost:3000,https://a.example,https://b.example")
        #expect(origins?.contains(origin: "HTTPS://A.EXAMPLE") == true)
        #expect(origins?.contains(origin: "https://a.example:443") == false)
        #expect(origins?.contains(origin: "https://\u{212A}.example") == false)
        for bad in [[], ["https://a.example/"], ["https://a.example/x"], ["ftp://a.example"], ["a.example"], ["https://"],
                    ["https://a.example:0"], ["https://a.example:08"], ["https://u@a.example"], ["https://caf\u{E9}.example"],
                    (0..<9).map { "https://\($0).example" }] {
            #expect(CORSOrigins(lenient: bad) == nil, "\(bad)")
        }
        #expect(CORSOrigins(canonical: "https://b.example,https://a.example") == nil, "unsorted")
        #expect(CORSOrigins(canonical: "https://a.example,https://a.example") == nil, "repeated")
        #expect(CORSOrigins(canonical: "https://[2001:db8::1]:8443,https://a.example")?.origins.count == 2)
    }

    @Test func pathTokensHoldOnlyAPrefixLinksParameters() throws {
        let issued = try LinkIssuer.issue(
            IssueRequest(resource: "https://cdn.example.com/videos/42/", expiresAt: Fixtures.issuedAt + 900, prefix: true),
            id: Fixtures.id(3), epoch: Fixtures.epoch, key: Fixtures.key, now: Fixtures.issuedAt)
        let pathURL = try #require(issued.pathURL)
        #expect(pathURL.hasPrefix("https://cdn.example.com/~au/") && pathURL.hasSuffix("/videos/42/"))
        let link = try ParsedLink(target: pathURL + "hd/seg1.ts?_HLS_part=2")
        #expect(link.carrier == .path && link.path == "/videos/42/hd/seg1.ts" && link.query == "_HLS_part=2")
        #expect(link.signedMessage == (try ParsedLink(target: issued.url)).signedMessage, "one signature, both forms")
        let token = pathURL.split(separator: "/")[3]
        for bad in ["/~au/\(token)", "/~au//videos/42/x", "/~au/\(token)=/videos/42/x", "/~au/\(token)/videos/42/x?au_k=7",
                    "/~au/" + String(repeating: "A", count: 4_100) + "/x", "/~au/%41\(token)/videos/42/x"] {
            #expect(throws: Malformed.self, "\(bad.prefix(60))") { try ParsedLink(target: bad) }
        }
        #expect(ParsedLink.bareRequest(target: pathURL + "x", host: nil) == nil)
        #expect(ParsedLink.bareRequest(target: "/a/b%20c?x=1", host: "h")?.path == "/a/b%20c")
        #expect(ParsedLink.bareRequest(target: "/a?au_v=1", host: "h") == nil)
        #expect(ParsedLink.bareRequest(target: "/a/../b", host: "h") == nil)
        for marked in ["/%7Eau/eA/x", "/%7eau", "/~au", "/a/../%7Eau/x"] {
            #expect(ParsedLink.bareRequest(target: marked, host: "h") == nil, "\(marked)")
            #expect(throws: Malformed.self, "\(marked)") { try ParsedLink(target: marked + "?a=1", host: "h") }
        }
        #expect(throws: IssueError.reservedPath) {
            try LinkIssuer.issue(
                IssueRequest(resource: "/~au/x", expiresAt: Fixtures.issuedAt + 900), id: Fixtures.id(4), epoch: Fixtures.epoch,
                key: Fixtures.key, now: Fixtures.issuedAt)
        }
    }
}
