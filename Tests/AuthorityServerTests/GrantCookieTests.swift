import AuthorityAPI
import AuthorityCore
import Testing

@testable import AuthorityServer

/// Grant cookies, the redirect that drops the token, renewal, path tokens and CORS preflights,
/// through `/v1/auth/<dialect>` and the real pipeline (docs/link-format.md §11–§13).
@Suite struct GrantCookieTests {
    let forward = ForwardAuthTests()

    func link(_ test: TestAuthority, _ body: IssueLinkRequest) throws -> IssueLinkResponse {
        try test.issue(body, rights: CallerRights(rights: [.admin]), peer: root)
    }

    /// The `name=value` of an answer's `Set-Cookie`, and its attributes.
    func cookie(_ answer: Answer) throws -> (pair: String, attributes: [String]) {
        let header = try #require(answer.headers["set-cookie"], "no Set-Cookie: \(answer.headers)")
        let parts = header.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
        return (parts[0], Array(parts.dropFirst()))
    }

    func nginx(_ harness: PipelineHarness, _ target: String, method: String = "GET", cookie: String? = nil,
               extra: [(String, String)] = []) throws -> Answer {
        let cookies = cookie.map { [("Cookie", "theme=dark; " + $0)] } ?? []
        return try forward.auth(harness, path: "/v1/auth/nginx", ForwardAuthTests.nginx(target, method: method) + cookies + extra)
    }

    func origin(_ url: String) -> String { String(url.dropFirst("http://files.example".count)) }

    @Test func theFirstAnswerSetsTheCookieAndDropsTheToken() throws {
        let test = try TestAuthority()
        let harness = try PipelineHarness(test.authority)
        let issued = try link(test, IssueLinkRequest(
            resource: "http://files.example/preview/site/", ttl: 3_600, prefix: true, bindHost: true, cookie: true))
        #expect(issued.url.contains("au_f=c"))
        let target = origin(issued.url).replacingOccurrences(of: "/site/?", with: "/site/page.html?lang=en&")
        let first = try nginx(harness, target)
        #expect(first.status == 401 && first.headers["x-authority-reason"] == "ok")
        #expect(first.headers["x-authority-location"] == "/preview/site/page.html?lang=en")
        #expect(first.headers["referrer-policy"] == "no-referrer" && first.headers["cache-control"] == "no-store")
        let (pair, attributes) = try cookie(first)
        #expect(pair.hasPrefix("authority_grant_\(issued.id)="))
        #expect(attributes == ["Path=/preview/site/", "Max-Age=1800", "HttpOnly", "Secure", "SameSite=Lax"])
        #expect(!attributes.contains { $0.hasPrefix("Domain") })

        // Caddy, Traefik and Envoy hand a refusal to the client as it is: a 303.
        let caddy = try forward.auth(harness, path: "/v1/auth/caddy", ForwardAuthTests.forwarded(target))
        #expect(caddy.status == 303 && caddy.headers["location"] == "/preview/site/page.html?lang=en")
        #expect(caddy.headers["set-cookie"] != nil && caddy.headers["referrer-policy"] == "no-referrer")

        // Then the cookie alone passes under the prefix, never cached, and nothing else does.
        for path in ["/preview/site/", "/preview/site/style.css", "/preview/site/img/a%20b.png"] {
            let asset = try nginx(harness, path, cookie: pair)
            #expect(asset.status == 204 && asset.headers["cache-control"] == "no-store", "\(path): \(asset.status)")
            #expect(asset.headers["set-cookie"] == nil, "renewed too early")
        }
        #expect(try nginx(harness, "/preview/other/", cookie: pair).headers["x-authority-reason"] == "resource_mismatch")
        #expect(try nginx(harness, "/preview/site/x", method: "PUT", cookie: pair).headers["x-authority-reason"] == "method_not_allowed")
        let otherHost = try forward.auth(harness, path: "/v1/auth/nginx",
            ForwardAuthTests.nginx("/preview/site/", host: "evil.example") + [("Cookie", pair)])
        #expect(otherHost.status == 403 && otherHost.headers["x-authority-reason"] == "resource_mismatch")
        #expect(try nginx(harness, "/preview/site/").status == 401)
        // A path game is refused before any cookie is looked at.
        #expect(try nginx(harness, "/preview/site/../../etc/passwd", cookie: pair).status == 401)
    }

    /// A browser sends the cookie with any request under the prefix, a form another page posts
    /// included: the cookie grants GET and HEAD only. `/%7Eau/…` is `/~au/…` to the proxy, which
    /// would serve what follows the segment: never granted by a cookie for `/`.
    @Test func theCookieGrantsOnlyViewingAndNotTheTokenMarker() throws {
        let test = try TestAuthority()
        let harness = try PipelineHarness(test.authority)
        let issued = try link(test, IssueLinkRequest(
            resource: "http://files.example/", methods: ["GET", "HEAD", "PUT", "POST", "DELETE"], ttl: 3_600, prefix: true,
            cookie: true))
        let first = try nginx(harness, origin(issued.url).replacingOccurrences(of: "/?", with: "/a.html?"), method: "PUT")
        #expect(first.status == 204 && first.headers["x-authority-location"] == nil, "the link itself allows PUT")
        let (pair, _) = try cookie(first)
        #expect(try nginx(harness, "/a.html", cookie: pair).status == 204)
        for method in ["PUT", "POST", "DELETE"] {
            #expect(try nginx(harness, "/a.html", method: method, cookie: pair).headers["x-authority-reason"] == "method_not_allowed")
        }
        for marker in ["/%7Eau/eA/secret/a.html", "/%7eau/x/a", "/%7Eau", "/~au/eA/secret/a.html"] {
            #expect(try nginx(harness, marker, cookie: pair).status == 401, "\(marker)")
        }
        // The query form is refused too: a link for `/` never reaches past the marker.
        let marked = origin(issued.url).replacingOccurrences(of: "/?", with: "/%7Eau/eA/secret?")
        #expect(try nginx(harness, marked).headers["x-authority-reason"] == "malformed")
        // A cookie named for another link is not looked at.
        let renamed = pair.replacingOccurrences(of: "authority_grant_\(issued.id)=", with: "authority_grant_AAAAAAAAAAAAAAAAAAAAAA=")
        #expect(try nginx(harness, "/a.html", cookie: renamed).status == 401)
        #expect(refusal(test, IssueLinkRequest(resource: "/up/", methods: ["PUT"], ttl: 60, prefix: true, cookie: true))
            .contains("cookie needs GET or HEAD"))
    }

    func refusal(_ test: TestAuthority, _ body: IssueLinkRequest) -> String {
        do { _ = try link(test, body); return "issued" } catch { return "\(error)" }
    }

    @Test func aForgedOrAlteredCookieNeverPasses() throws {
        let test = try TestAuthority()
        let harness = try PipelineHarness(test.authority)
        let issued = try link(test, IssueLinkRequest(resource: "/p/", ttl: 3_600, prefix: true, cookie: true))
        let pair = try cookie(try nginx(harness, issued.url)).pair
        let value = String(pair.split(separator: "=", maxSplits: 1)[1])
        var fields = value.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        fields[10] = Base64URL.encode(Array("/".utf8))  // widen the prefix to the whole site
        let widened = "authority_grant_\(issued.id)=" + fields.joined(separator: ".")
        #expect(try nginx(harness, "/other", cookie: widened).headers["x-authority-reason"] == "bad_signature")
        fields = value.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        fields[5] = String(test.now + 86_400)  // a later expiry
        #expect(try nginx(harness, "/p/x", cookie: "authority_grant_\(issued.id)=" + fields.joined(separator: ".")).headers["x-authority-reason"] == "bad_signature")
        for garbage in ["", "1", String(repeating: "A", count: 5_000), value + ".x", "2" + value.dropFirst()] {
            let answer = try nginx(harness, "/p/x", cookie: "authority_grant_\(issued.id)=" + garbage)
            #expect(answer.status == 401 && answer.headers["x-authority-reason"] == "malformed")
        }
        // An unlock cookie's signature is no grant cookie (another context), nor is a link's.
        #expect(GrantCookie(value: value) != nil)
    }

    @Test func revocationRetirementAndExpiryEndTheCookie() throws {
        let test = try TestAuthority()
        let harness = try PipelineHarness(test.authority)
        func cookieFor(_ resource: String) throws -> (IssueLinkResponse, String) {
            let issued = try link(test, IssueLinkRequest(resource: resource, ttl: 600, prefix: true, cookie: true))
            return (issued, try cookie(try nginx(harness, issued.url)).pair)
        }
        let (byID, idCookie) = try cookieFor("/a/")
        let (_, prefixCookie) = try cookieFor("/b/")
        let (_, lateCookie) = try cookieFor("/c/")
        _ = try test.revoke(RevokeRequest(id: byID.id), peer: root)
        _ = try test.revoke(RevokeRequest(prefix: "/b/x/"), peer: root)
        #expect(try nginx(harness, "/a/x", cookie: idCookie).headers["x-authority-reason"] == "revoked")
        #expect(try nginx(harness, "/b/x/y", cookie: prefixCookie).headers["x-authority-reason"] == "revoked")
        #expect(try nginx(harness, "/b/y", cookie: prefixCookie).status == 204)
        // Several cookies coexist: each request passes on the one for its prefix.
        #expect(try nginx(harness, "/c/z", cookie: prefixCookie + "; " + lateCookie).status == 204)
        _ = try test.administration.rotate(caller: root, on: test.loop).wait()
        #expect(try nginx(harness, "/c/z", cookie: lateCookie).status == 204)
        _ = try test.administration.retire(epoch: 1, force: true, caller: root, on: test.loop).wait()
        #expect(try nginx(harness, "/c/z", cookie: lateCookie).headers["x-authority-reason"] == "retired_key")
        let (_, fresh) = try cookieFor("/d/")
        test.now += 600
        #expect(try nginx(harness, "/d/z", cookie: fresh).headers["x-authority-reason"] == "expired")
    }

    /// Sliding expiry: renewed once less than half the idle time is left, never past the link's
    /// expiry; an unused cookie dies after the idle time.
    @Test func renewalSlidesUpToTheLinksExpiry() throws {
        let test = try TestAuthority(configure: { $0.grantCookieIdle = 600 })
        let harness = try PipelineHarness(test.authority)
        let start = test.now
        let issued = try link(test, IssueLinkRequest(resource: "/film/", ttl: 1_300, prefix: true, cookie: true))
        let first = try cookie(try nginx(harness, issued.url))
        #expect(first.attributes.contains("Max-Age=600"))
        test.now = start + 200
        #expect(try nginx(harness, "/film/seg1.ts", cookie: first.pair).headers["set-cookie"] == nil)
        test.now = start + 400
        let renewed = try cookie(try nginx(harness, "/film/seg2.ts", cookie: first.pair))
        #expect(renewed.attributes.contains("Max-Age=600"))
        test.now = start + 700
        #expect(try nginx(harness, "/film/seg3.ts", cookie: first.pair).headers["x-authority-reason"] == "expired")
        #expect(try nginx(harness, "/film/seg3.ts", cookie: renewed.pair).status == 204)
        test.now = start + 900
        let capped = try cookie(try nginx(harness, "/film/seg4.ts", cookie: renewed.pair))
        #expect(capped.attributes.contains("Max-Age=400"), "capped at the link's expiry: \(capped.attributes)")
        test.now = start + 1_250
        let last = try nginx(harness, "/film/seg5.ts", cookie: capped.pair)
        #expect(last.status == 204 && last.headers["set-cookie"] == nil, "nothing past the maximum")
        test.now = start + 1_300
        #expect(try nginx(harness, "/film/seg6.ts", cookie: capped.pair).headers["x-authority-reason"] == "expired")
    }

    @Test func pathTokensCarryThePrefixLink() throws {
        let test = try TestAuthority()
        let harness = try PipelineHarness(test.authority)
        let issued = try link(test, IssueLinkRequest(resource: "/videos/42/", ttl: 600, prefix: true, cookie: true))
        let pathURL = try #require(issued.pathURL)
        #expect(pathURL.hasPrefix("/~au/") && pathURL.hasSuffix("/videos/42/"))
        let segment = try nginx(harness, pathURL + "seg1.ts?_HLS_msn=2")
        #expect(segment.status == 204 && segment.headers["set-cookie"] == nil, "no cookie, no redirect for a path token")
        #expect(try nginx(harness, pathURL.replacingOccurrences(of: "/videos/42/", with: "/videos/43/x")).headers["x-authority-reason"]
            == "resource_mismatch")
        #expect(try nginx(harness, pathURL + "seg1.ts?au_v=1").status == 401)
        #expect(try link(test, IssueLinkRequest(resource: "/f.txt", ttl: 60)).pathURL == nil)
        _ = try test.revoke(RevokeRequest(id: issued.id), peer: root)
        #expect(try nginx(harness, pathURL + "seg2.ts").headers["x-authority-reason"] == "revoked")
    }

    @Test func issuingRefusesWhatCannotWork() throws {
        let test = try TestAuthority()
        let rights = CallerRights(rights: [.admin])
        func refusal(_ body: IssueLinkRequest) -> String {
            do { _ = try test.issue(body, rights: rights, peer: root); return "issued" } catch { return "\(error)" }
        }
        #expect(refusal(IssueLinkRequest(resource: "/f", ttl: 60, cookie: true)).contains("cookie needs a prefix link"))
        // Browsers drop a cookie over 4096 bytes silently: such a link would pass once and never again.
        let long = "/" + String(repeating: "a", count: 1_800) + "/"
        let tooLarge = refusal(IssueLinkRequest(resource: long, ttl: 60, prefix: true, cookie: true))
        #expect(tooLarge.contains("cookie: its grant cookie would take") && tooLarge.contains("over the 4096"), "\(tooLarge)")
        let fits = "/" + String(repeating: "a", count: 1_000) + "/"
        #expect(refusal(IssueLinkRequest(resource: fits, ttl: 60, prefix: true, cookie: true)) == "issued")
        #expect(refusal(IssueLinkRequest(resource: long, ttl: 60, prefix: true)) == "issued", "no cookie, no limit")
        #expect(refusal(IssueLinkRequest(resource: "/~au/x/", ttl: 60, prefix: true)).contains("reserved for path-carried"))
        #expect(refusal(IssueLinkRequest(resource: "/~au", ttl: 60, prefix: true)).contains("reserved for path-carried"))
        for bad in [["https://app.example/"], ["ftp://app.example"], ["https://app.example/path"], [], Array(repeating: "https://a.example", count: 1) + (0..<8).map { "https://\($0).example" }, ["https://\u{212A}.example"], ["https://a.example:0"]] {
            #expect(refusal(IssueLinkRequest(resource: "/v/", ttl: 60, prefix: true, origins: bad)).contains("origins must be"), "\(bad)")
        }
        let fine = try test.issue(IssueLinkRequest(resource: "/v/", ttl: 60, prefix: true, origins: ["https://B.example", "https://a.example", "https://a.example"]), rights: rights, peer: root)
        #expect(fine.url.contains("au_o=https://a.example,https://b.example&"))
    }

    @Test func preflightsPassForListedOriginsOnly() throws {
        let test = try TestAuthority()
        let harness = try PipelineHarness(test.authority)
        let issued = try link(test, IssueLinkRequest(
            resource: "/videos/7/", ttl: 600, prefix: true, maxUses: 1, origins: ["https://app.example"]))
        let pathURL = try #require(issued.pathURL) + "master.m3u8"
        func preflight(_ origin: String, method: String = "GET", target: String = pathURL) throws -> Answer {
            try nginx(harness, target, method: "OPTIONS", extra: [("Origin", origin), ("Access-Control-Request-Method", method)])
        }
        for _ in 0..<3 {
            let pass = try preflight("https://app.example")
            #expect(pass.status == 204 && pass.headers["x-authority-allow-origin"] == "https://app.example")
            #expect(pass.headers["x-authority-allow-methods"] == "GET,HEAD")
        }
        #expect(try preflight("https://APP.example").status == 204)
        #expect(try preflight("https://evil.example").headers["x-authority-reason"] == "origin_not_allowed")
        #expect(try preflight("https://app.example", method: "PUT").headers["x-authority-reason"] == "method_not_allowed")
        #expect(try preflight("https://app.example", target: "/videos/7/master.m3u8").status == 401)
        // Preflights use no use (the real request's answer comes from the group commit, off this
        // embedded loop: the end-to-end tests make it through nginx).
        #expect(try test.store.remainingUses(try #require(LinkID(issued.id))) == 1)
        let open = try link(test, IssueLinkRequest(resource: "/videos/9/", ttl: 600, prefix: true, origins: ["https://app.example"]))
        let real = try nginx(harness, open.url, extra: [("Origin", "https://app.example")])
        #expect(real.status == 204 && real.headers["x-authority-allow-origin"] == "https://app.example")
        #expect(try nginx(harness, open.url, extra: [("Origin", "https://evil.example")]).headers["x-authority-allow-origin"] == nil)
        let plain = try link(test, IssueLinkRequest(resource: "/videos/8/", ttl: 600, prefix: true))
        #expect(try nginx(harness, plain.url, extra: [("Origin", "https://app.example")]).headers["x-authority-allow-origin"] == nil)
        #expect(try preflight("https://app.example", target: plain.url).headers["x-authority-reason"] == "origin_not_allowed")
    }
}
