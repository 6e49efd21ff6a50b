import AuthorityCore
import Testing

@Suite struct CanonicalPathTests {
    @Test(arguments: [
        ("/", "/"),
        ("/a/b/", "/a/b/"),
        ("/a+b", "/a%2Bb"),
        ("/a%2bb", "/a%2Bb"),
        ("/caf%c3%a9", "/caf%C3%A9"),
        ("/café", "/caf%C3%A9"),
        ("/%7Euser", "/~user"),
        ("/a(1)", "/a%281%29"),
        ("/a%20b", "/a%20b"),
        ("/x.y-z_~", "/x.y-z_~"),
        ("/...", "/..."),
        ("/.hidden", "/.hidden"),
    ])
    func canonicalises(input: String, expected: String) throws {
        #expect(try canonicalPath(input) == expected)
    }

    @Test(arguments: [
        "", "a/b", "/a//b", "//", "/./a", "/a/.", "/a/..", "/%2e%2E/x", "/%2E", "/a%2Fb", "/a%2fb", "/a\\b",
        "/a%5Cb", "/a%00", "/a%0A", "/a%7F", "/a%", "/a%4", "/a%G0", "/%FF", "/%C3", "/%ED%A0%80",
    ])
    func rejects(input: String) {
        #expect(throws: Malformed.self) { try canonicalPath(input) }
    }
}

@Suite struct Base64URLTests {
    @Test func roundTripsEveryLength() {
        for count in 0..<70 {
            let bytes = (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
            #expect(Base64URL.decode(Base64URL.encode(bytes)) == bytes)
        }
    }

    @Test(arguments: ["AB=", "A", "AAAAA", "A+B/", "AB C", "AR", "AAB", "AAAAAQ=="])
    func rejectsNonCanonical(text: String) {
        #expect(Base64URL.decode(text) == nil)
    }

    @Test func linkIDIs22CanonicalCharacters() throws {
        let id = LinkID.random()
        #expect(id.description.count == 22)
        #expect(LinkID(id.description) == id)
        #expect(LinkID("AAECAwQFBgcICQoLDA0ODx") == nil)  // unused bits set
        #expect(LinkID("AAECAwQFBgcICQoLDA0OD") == nil)  // too short
        #expect(LinkID.random() != LinkID.random())
    }
}

/// A constant test address (force-unwrapped: the literal is valid).
func ip(_ text: String) -> IPAddress { IPAddress(text)! }

@Suite struct AddressTests {
    @Test(arguments: [
        ("2001:db8::1", "2001:db8::1"),
        ("2001:DB8:0:0:0:0:0:1", "2001:db8::1"),
        ("2001:db8:0:1:0:0:0:1", "2001:db8:0:1::1"),
        ("2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"),
        ("2001:db8:1:1:1:1:0:1", "2001:db8:1:1:1:1:0:1"),
        ("::", "::"),
        ("::1", "::1"),
        ("1::", "1::"),
        ("::ffff:192.0.2.1", "192.0.2.1"),
        ("192.0.2.1", "192.0.2.1"),
    ])
    func parsesAndPrintsRFC5952(input: String, expected: String) throws {
        #expect(IPAddress(input)?.description == expected)
    }

    @Test(arguments: ["", "1.2.3", "1.2.3.4.5", "01.2.3.4", "256.1.1.1", "1:2:3:4:5:6:7:8:9", "1::2::3", "12345::",
                      "g::1", ":1", "1:", "::ffff:1.2.3", " 1.2.3.4"])
    func rejectsInvalidAddresses(input: String) {
        #expect(IPAddress(input) == nil)
    }

    @Test func canonicalNetworksOnly() {
        #expect(IPNetwork(canonical: "192.0.2.0/24")?.description == "192.0.2.0/24")
        #expect(IPNetwork(canonical: "2001:db8::/32") != nil)
        #expect(IPNetwork(canonical: "192.0.2.7/24") == nil)  // host bits
        #expect(IPNetwork(canonical: "192.0.2.0") == nil)  // no length
        #expect(IPNetwork(canonical: "192.0.2.0/024") == nil)
        #expect(IPNetwork(canonical: "192.0.2.0/33") == nil)
        #expect(IPNetwork(canonical: "2001:DB8::/32") == nil)  // upper case
        #expect(IPNetwork(canonical: "2001:db8:0::/48") == nil)  // not compressed
        #expect(IPNetwork(canonical: "::ffff:c000:200/120") == nil)  // IPv4-mapped
        #expect(IPNetwork(lenient: "192.0.2.7")?.description == "192.0.2.7/32")
        #expect(IPNetwork(lenient: "2001:DB8::1")?.description == "2001:db8::1/128")
        #expect(IPNetwork(lenient: "192.0.2.7/24") == nil)
    }

    @Test func containment() throws {
        let v4 = try #require(IPNetwork(canonical: "10.1.0.0/16"))
        #expect(v4.contains(ip("10.1.255.3")))
        #expect(!v4.contains(ip("10.2.0.1")))
        #expect(v4.contains(ip("::ffff:10.1.0.9")))
        #expect(!v4.contains(ip("2001:db8::1")))
        let all = try #require(IPNetwork(canonical: "0.0.0.0/0"))
        #expect(all.contains(ip("203.0.113.1")))
        let v6 = try #require(IPNetwork(canonical: "2001:db8:8000::/33"))
        #expect(v6.contains(ip("2001:db8:ffff::1")))
        #expect(!v6.contains(ip("2001:db8:7fff::1")))
        let host = try #require(IPNetwork(canonical: "2001:db8::1/128"))
        #expect(host.contains(ip("2001:db8:0::1")))
        #expect(!host.contains(ip("2001:db8::2")))
    }

    @Test func methodsAndFlagsAreCanonical() {
        #expect(HTTPMethods(canonical: "GET,HEAD") == .view)
        #expect(HTTPMethods(canonical: "HEAD,GET") == nil)
        #expect(HTTPMethods(canonical: "GET,GET") == nil)
        #expect(HTTPMethods(canonical: "") == nil)
        #expect(HTTPMethods(canonical: "GET,") == nil)
        #expect(HTTPMethods(canonical: "get") == nil)
        #expect(HTTPMethods(canonical: "GET,HEAD,PUT,POST,DELETE")?.canonicalText == "GET,HEAD,PUT,POST,DELETE")
        #expect(LinkFlags(canonical: "pu") == nil)
        #expect(LinkFlags(canonical: "") == nil)
        #expect(LinkFlags(canonical: "up") == [.useLimited, .passwordProtected])
    }

    @Test func reasonCodesAreTheSpecifiedStrings() {
        #expect(Reason.allCases.map(\.rawValue) == [
            "ok", "malformed", "unknown_key", "retired_key", "bad_signature", "expired", "not_yet_valid",
            "method_not_allowed", "resource_mismatch", "ip_mismatch", "revoked", "uses_exhausted",
            "password_required", "password_incorrect", "locked",
        ])
    }
}
