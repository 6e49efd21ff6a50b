import AuthorityCore
import AuthorityTesting
import Testing

/// Inputs from outside at their limits (issue #12): deep and long paths, Unicode that looks like
/// ASCII, stored prefixes no path rule would allow.
@Suite struct BoundaryTests {
    static func path(segments: Int, name: String = "a") -> String {
        "/" + Array(repeating: name, count: segments).joined(separator: "/")
    }

    @Test func pathDepthAndLengthAreBounded() throws {
        #expect(try canonicalPath(Self.path(segments: 128)) == Self.path(segments: 128))
        #expect(try canonicalPath(Self.path(segments: 127) + "/") == Self.path(segments: 127) + "/")
        #expect(throws: Malformed.self) { try canonicalPath(Self.path(segments: 129)) }
        #expect(throws: Malformed.self) { try canonicalPath(Self.path(segments: 128) + "/") }
        #expect(throws: Malformed.self) { try canonicalPath(Self.path(segments: 60_000)) }
        let longest = "/" + String(repeating: "b", count: 4_095)
        #expect(try canonicalPath(longest) == longest)
        #expect(throws: Malformed.self) { try canonicalPath(longest + "b") }
        // The limit is on the canonical form: 1,366 raw `é` bytes pairs encode to 8,196 bytes.
        #expect(throws: Malformed.self) { try canonicalPath("/" + String(repeating: "é", count: 1_366)) }
        #expect(throws: Malformed.self) { try canonicalPath("/" + String(repeating: "x", count: 1_000_000)) }
    }

    /// The index used to insert recursively, one stack frame per segment: a stored prefix of
    /// 60,000 segments crashed the daemon at every start. No rule of the index may depend on depth.
    @Test func theRevocationIndexTakesAnyDepthWithoutRecursion() {
        let deep = Self.path(segments: 200_000) + "/"
        var index = RevocationIndex()
        index.insert(.prefix(deep))
        index.insert(.issuedBefore(10, prefix: Self.path(segments: 100_000)))
        #expect(index.prefixCount == 2)
        #expect(!index.isRevoked(id: .random(), path: "/a/a/x", issuedAt: 5))
        #expect(index.isRevoked(id: .random(), path: Self.path(segments: 200_001), issuedAt: 5))
        #expect(index.isRevoked(id: .random(), path: Self.path(segments: 100_000), issuedAt: 5))
        #expect(!index.isRevoked(id: .random(), path: Self.path(segments: 100_000), issuedAt: 10))
    }

    @Test func aPrefixIsAStandingBlockAndIssuedBeforeIsNot() {
        var index = RevocationIndex()
        index.insert(.prefix("/private/"))
        index.insert(.issuedBefore(1_000, prefix: "/old/"))
        #expect(index.isRevoked(id: .random(), path: "/private/a", issuedAt: .max - 1))
        #expect(index.isRevoked(id: .random(), path: "/private/", issuedAt: 0))
        #expect(!index.isRevoked(id: .random(), path: "/private", issuedAt: 0))
        #expect(!index.isRevoked(id: .random(), path: "/privateer/a", issuedAt: 0))
        #expect(index.isBlocked(path: "/private/new.txt", issuedAt: 2_000))
        #expect(index.isBlocked(path: "/old/a", issuedAt: 999))
        #expect(!index.isBlocked(path: "/old/a", issuedAt: 1_000))
        #expect(!index.isBlocked(path: "/public/a", issuedAt: 0))
    }

    static func hostBound(_ host: String) -> LinkGrant {
        LinkGrant(epoch: 1, id: .random(), issuedAt: 0, expiresAt: 10, host: host)
    }

    @Test(arguments: [
        ("kiosk.example", true), ("KIOSK.EXAMPLE", true), ("Kiosk.Example:8080", true),
        ("\u{212A}iosk.example", false), ("kiosk.exampl\u{00E9}", false), ("kiosk.example\u{200B}", false),
        ("ｋiosk.example", false), ("kiosk.example.", false), ("", false),
    ])
    func hostsMatchAsASCIIBytes(requestHost: String, matches: Bool) {
        #expect(Self.hostBound("kiosk.example").matches(host: requestHost) == matches)
    }

    @Test func hostPortBindingsNeedTheSamePortBytes() {
        let grant = Self.hostBound("kiosk.example:8443")
        #expect(grant.matches(host: "KIOSK.example:8443"))
        #expect(!grant.matches(host: "kiosk.example:08443"))
        #expect(!grant.matches(host: "kiosk.example"))
        #expect(!grant.matches(host: "\u{212A}iosk.example:8443"))
    }

    @Test func prefixesAndMethodsCompareBytes() {
        #expect(LinkGrant.path("/files/a", isUnder: "/files/"))
        #expect(LinkGrant.path("/files/", isUnder: "/files/"))
        #expect(LinkGrant.path("/files/a", isUnder: "/files"))
        #expect(!LinkGrant.path("/filesx", isUnder: "/files"))
        #expect(!LinkGrant.path("/file", isUnder: "/files"))
        // "e" + COMBINING ACUTE is canonically equivalent to "é": Swift's `==` says equal.
        #expect("/caf\u{0065}\u{0301}" == "/caf\u{00E9}")
        #expect(!LinkGrant.path("/caf\u{0065}\u{0301}", isUnder: "/caf\u{00E9}"))
        #expect(HTTPMethods(method: "GET") == .get)
        #expect(HTTPMethods(method: "get") == nil)
        #expect(HTTPMethods(method: "GE\u{0054}\u{0301}") == nil)
    }

    @Test func anIssuerHostIsFoldedInASCIIOnly() throws {
        let request = IssueRequest(
            resource: "https://\u{212A}iosk.example/a.txt", expiresAt: Fixtures.issuedAt + 60, bindHost: true)
        #expect(throws: IssueError.self) {
            try LinkIssuer.issue(request, id: .random(), epoch: 1, key: Fixtures.key, now: Fixtures.issuedAt)
        }
        var upper = request
        upper.resource = "HTTPS://KIOSK.example/a.txt"
        let issued = try LinkIssuer.issue(upper, id: .random(), epoch: 1, key: Fixtures.key, now: Fixtures.issuedAt)
        #expect(issued.grant.host == "kiosk.example")
        #expect(issued.url.hasPrefix("https://kiosk.example/a.txt?"))
    }
}
