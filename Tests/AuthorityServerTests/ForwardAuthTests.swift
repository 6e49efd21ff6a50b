import AuthorityAPI
import NIOHTTP1
import Testing

@testable import AuthorityServer

/// `/v1/auth/<dialect>` through the real pipeline: each dialect reads only the headers its proxy
/// sets, each exactly once; a header another proxy would set, or a client could add, never wins.
@Suite struct ForwardAuthTests {
    func link(_ test: TestAuthority, _ body: IssueLinkRequest) throws -> String {
        try test.issue(body, rights: CallerRights(rights: [.admin]), peer: root).url
    }

    func auth(_ harness: PipelineHarness, method: String = "GET", path: String, host: String = "auth",
              _ headers: [(String, String)]) throws -> Answer {
        var raw = "\(method) \(path) HTTP/1.1\r\nHost: \(host)\r\n"
        for (name, value) in headers { raw += "\(name): \(value)\r\n" }
        raw += "Content-Length: 0\r\n\r\n"
        return try #require(try harness.send(raw).first)
    }

    /// Every header a dialect reads: in the order the dialect's proxy sends them.
    static func nginx(_ url: String, method: String = "GET", host: String = "files.example", ip: String = "192.0.2.5") -> [(String, String)] {
        [("X-Original-URI", url), ("X-Original-Method", method), ("X-Original-Host", host), ("X-Real-IP", ip)]
    }

    static func forwarded(_ url: String, method: String = "GET", host: String = "files.example", forwardedFor: String = "192.0.2.5") -> [(String, String)] {
        [("X-Forwarded-For", forwardedFor), ("X-Forwarded-Method", method), ("X-Forwarded-Proto", "http"),
         ("X-Forwarded-Host", host), ("X-Forwarded-Uri", url)]
    }

    /// Headers of another proxy's dialect, forged by a client to win the check.
    static func forgeries(_ url: String) -> [(String, String)] {
        nginx(url, ip: "192.0.2.9") + forwarded(url, forwardedFor: "192.0.2.9") + [("Forwarded", "for=192.0.2.9;host=files.example")]
    }

    @Test func nginxReadsItsFourHeaders() throws {
        let test = try TestAuthority()
        let harness = try PipelineHarness(test.authority)
        let url = try link(test, IssueLinkRequest(resource: "/files/a.pdf", ttl: 600, ip: "192.0.2.0/24"))
        let ok = try auth(harness, path: "/v1/auth/nginx", Self.nginx(url))
        #expect(ok.status == 204)
        #expect(ok.headers["x-authority-reason"] == "ok")
        #expect(ok.headers["cache-control"] == "private, max-age=60")
        #expect(ok.headers["x-authority-expires-at"] == String(test.now + 600))
        #expect(ok.headers["x-authority-link-id"] != nil)
        #expect(ok.body.isEmpty)
        let wrongIP = try auth(harness, path: "/v1/auth/nginx", Self.nginx(url, ip: "198.51.100.1"))
        #expect(wrongIP.status == 403 && wrongIP.headers["x-authority-reason"] == "ip_mismatch")
        #expect(wrongIP.headers["cache-control"] == "no-store")
        let wrongMethod = try auth(harness, path: "/v1/auth/nginx", Self.nginx(url, method: "DELETE"))
        #expect(wrongMethod.status == 403 && wrongMethod.headers["x-authority-reason"] == "method_not_allowed")
        let noLink = try auth(harness, path: "/v1/auth/nginx", Self.nginx("/files/a.pdf"))
        #expect(noLink.status == 401 && noLink.headers["x-authority-reason"] == "malformed")
        #expect(try auth(harness, path: "/v1/auth/nginx", []).status == 401)
    }

    /// nginx overwrites only its four headers: X-Forwarded-*, Forwarded and the Host of the auth
    /// request are the client's (or nginx's own), never read.
    @Test func nginxIgnoresEveryOtherProxysHeaders() throws {
        let test = try TestAuthority()
        let harness = try PipelineHarness(test.authority)
        let url = try link(test, IssueLinkRequest(resource: "/files/a.pdf", ttl: 600, ip: "192.0.2.0/24"))
        let secret = Self.nginx("/files/secret.txt", ip: "198.51.100.1")
        let forged = try auth(harness, path: "/v1/auth/nginx", host: "files.example", secret + Self.forwarded(url) + [("Forwarded", "for=192.0.2.5")])
        #expect(forged.status == 401 && forged.headers["x-authority-reason"] == "malformed")
        let wrongClient = try auth(harness, path: "/v1/auth/nginx", Self.nginx(url, ip: "198.51.100.1") + Self.forwarded(url))
        #expect(wrongClient.status == 403 && wrongClient.headers["x-authority-reason"] == "ip_mismatch")
    }

    @Test(arguments: ["/v1/auth/caddy", "/v1/auth/traefik"])
    func caddyAndTraefikReadXForwardedAndTheLastForwardedFor(path: String) throws {
        let test = try TestAuthority()
        let harness = try PipelineHarness(test.authority)
        let url = try link(test, IssueLinkRequest(resource: "https://cdn.example/v/", ttl: 600, prefix: true, ip: "203.0.113.7", bindHost: true))
        let query = String(url[url.firstIndex(of: "?")!...])
        let segment = "/v/seg1.ts" + query
        #expect(try auth(harness, path: path, Self.forwarded(segment, host: "cdn.example", forwardedFor: "203.0.113.7")).status == 204)
        // With trusted_proxies (Caddy) or trustForwardHeader (Traefik) the client's entries come first.
        #expect(try auth(harness, path: path, Self.forwarded(segment, host: "cdn.example", forwardedFor: "10.9.9.9, 203.0.113.7")).status == 204)
        let firstIsForged = try auth(harness, path: path, Self.forwarded(segment, host: "cdn.example", forwardedFor: "203.0.113.7, 10.9.9.9"))
        #expect(firstIsForged.headers["x-authority-reason"] == "ip_mismatch")
        let otherHost = try auth(harness, path: path, Self.forwarded(segment, host: "evil.example", forwardedFor: "203.0.113.7"))
        #expect(otherHost.headers["x-authority-reason"] == "resource_mismatch")
        // The client's X-Original-URI, X-Real-IP and Forwarded pass through both proxies untouched.
        let forged = Self.forgeries(segment).filter { $0.0.hasPrefix("X-Original") || $0.0 == "X-Real-IP" || $0.0 == "Forwarded" }
        let secret = try auth(harness, path: path, Self.forwarded("/v/secret.ts", host: "cdn.example", forwardedFor: "203.0.113.7") + forged)
        #expect(secret.status == 401 && secret.headers["x-authority-reason"] == "malformed")
        let address = try auth(harness, path: path, Self.forwarded(segment, host: "cdn.example", forwardedFor: "10.9.9.9")
            + [("X-Real-IP", "203.0.113.7"), ("Forwarded", "for=203.0.113.7")])
        #expect(address.headers["x-authority-reason"] == "ip_mismatch")
    }

    @Test func envoyPathFormMethodHostAndForwardedFor() throws {
        let test = try TestAuthority()
        let harness = try PipelineHarness(test.authority)
        let url = try link(test, IssueLinkRequest(resource: "/files/b.txt", methods: ["PUT"], ttl: 600, ip: "10.0.0.0/8"))
        let path = "/v1/auth/envoy" + url
        #expect(try auth(harness, method: "PUT", path: path, [("X-Forwarded-For", "192.0.2.1, 10.0.0.1")]).status == 204)
        #expect(try auth(harness, method: "GET", path: path, [("X-Forwarded-For", "10.0.0.1")]).headers["x-authority-reason"] == "method_not_allowed")
        // No X-Forwarded-For: no client address, so an IP-bound link is refused.
        #expect(try auth(harness, method: "PUT", path: path, []).headers["x-authority-reason"] == "ip_mismatch")
        let forged = try auth(harness, method: "PUT", path: "/v1/auth/envoy/files/secret.txt", Self.forgeries(url))
        #expect(forged.status == 401 && forged.headers["x-authority-reason"] == "malformed")
        #expect(try auth(harness, path: "/v1/auth/envoy", []).status == 401)
    }

    /// Missing, repeated and comma-listed headers, for every header of every dialect.
    @Test(arguments: ForwardAuthDialect.allCases)
    func everyHeaderReadExactlyOnce(dialect: ForwardAuthDialect) throws {
        let valid: [(String, String)]
        switch dialect {
        case .nginx: valid = Self.nginx("/f?au_v=1")
        case .caddy, .traefik: valid = Self.forwarded("/f?au_v=1")
        case .envoy: valid = [("Host", "files.example"), ("X-Forwarded-For", "192.0.2.5")]
        }
        func read(_ headers: [(String, String)]) -> ForwardedRequest? {
            ForwardedRequest(dialect, envoyPath: "/f", query: "au_v=1", method: .GET, headers: HTTPHeaders(headers))
        }
        let expected = read(valid)
        #expect(expected == ForwardedRequest(target: "/f?au_v=1", method: "GET", host: "files.example", clientAddress: "192.0.2.5"))
        for (index, (name, value)) in valid.enumerated() where name != "X-Forwarded-Proto" {
            var missing = valid
            missing.remove(at: index)
            let optional = dialect == .envoy && name == "X-Forwarded-For"
            #expect((read(missing) == nil) != optional, "\(dialect): without \(name)")
            #expect(read(valid + [(name.lowercased(), value)]) == nil, "\(dialect): \(name) twice")
            #expect(read(valid.map { $0.0 == name ? ($0.0, "") : $0 }) == nil, "\(dialect): \(name) empty")
            var listed = valid
            listed[index].1 = value + ", " + value
            let isList = name == "X-Forwarded-For" || name.hasSuffix("-URI") || name.hasSuffix("-Uri")
            #expect((read(listed) == nil) != isList, "\(dialect): \(name) as a list")
        }
        // A URI may hold a comma; the last X-Forwarded-For entry is the proxy's.
        if dialect != .envoy {
            let comma = valid.map { $0.0.lowercased().hasSuffix("uri") ? ($0.0, "/a,b?au_v=1") : $0 }
            #expect(read(comma)?.target == "/a,b?au_v=1")
        }
        if dialect != .nginx {
            let chain = valid.map { $0.0 == "X-Forwarded-For" ? ($0.0, "198.51.100.1,  192.0.2.5 ") : $0 }
            #expect(read(chain)?.clientAddress == "192.0.2.5")
            let trailing = valid.map { $0.0 == "X-Forwarded-For" ? ($0.0, "192.0.2.5, ") : $0 }
            #expect(read(trailing) == nil)
        }
    }

    @Test func namedEndpointsMatchExactlyAndFirst() {
        #expect(ForwardAuthRoute(path: "/v1/auth/nginx", configured: .envoy) == .dialect(.nginx, envoyPath: ""))
        #expect(ForwardAuthRoute(path: "/v1/auth/caddy", configured: nil) == .dialect(.caddy, envoyPath: ""))
        #expect(ForwardAuthRoute(path: "/v1/auth/traefik", configured: .nginx) == .dialect(.traefik, envoyPath: ""))
        #expect(ForwardAuthRoute(path: "/v1/auth/envoy/nginx", configured: nil) == .dialect(.envoy, envoyPath: "/nginx"))
        #expect(ForwardAuthRoute(path: "/v1/auth/envoy", configured: .nginx) == .dialect(.envoy, envoyPath: ""))
        #expect(ForwardAuthRoute(path: "/v1/auth/nginx/a.txt", configured: .envoy) == .dialect(.envoy, envoyPath: "/nginx/a.txt"))
        #expect(ForwardAuthRoute(path: "/v1/auth/envoyx", configured: .envoy) == .dialect(.envoy, envoyPath: "/envoyx"))
        #expect(ForwardAuthRoute(path: "/v1/auth/nginx/", configured: .caddy) == .dialect(.caddy, envoyPath: ""))
        #expect(ForwardAuthRoute(path: "/v1/auth", configured: .traefik) == .dialect(.traefik, envoyPath: ""))
        for path in ["/v1/auth", "/v1/auth/", "/v1/auth/NGINX", "/v1/auth/files/a.pdf", "/v1/auth/nginx/"] {
            #expect(ForwardAuthRoute(path: path, configured: nil) == .dialectRequired, "\(path)")
        }
    }

    @Test func bareAuthNeedsAConfiguredDialect() throws {
        let test = try TestAuthority()
        let url = try link(test, IssueLinkRequest(resource: "/files/a.pdf", ttl: 600))
        let harness = try PipelineHarness(test.authority)
        for path in ["/v1/auth", "/v1/auth/files/a.pdf"] {
            let answer = try auth(harness, path: path, Self.nginx(url) + Self.forwarded(url))
            #expect(answer.status == 403 && answer.headers["x-authority-reason"] == "dialect_required", "\(path)")
            #expect(answer.body.isEmpty && answer.headers["cache-control"] == "no-store")
        }
        let caddy = try TestAuthority(configure: { $0.forwardAuthDialect = .caddy })
        let caddyURL = try link(caddy, IssueLinkRequest(resource: "/files/a.pdf", ttl: 600))
        let caddyHarness = try PipelineHarness(caddy.authority)
        #expect(try auth(caddyHarness, path: "/v1/auth", Self.forwarded(caddyURL)).status == 204)
        #expect(try auth(caddyHarness, path: "/v1/auth", Self.nginx(caddyURL)).status == 401)
        let envoy = try TestAuthority(configure: { $0.forwardAuthDialect = .envoy })
        let envoyURL = try link(envoy, IssueLinkRequest(resource: "/files/a.pdf", ttl: 600))
        #expect(try auth(try PipelineHarness(envoy.authority), path: "/v1/auth" + envoyURL, []).status == 204)
    }

    @Test func refusalsAreOnly401Or403AndCacheAgeNeverOutlivesTheLink() throws {
        let test = try TestAuthority(policy: Policy(defaultRights: [], daemonUID: 4242))
        let forbidden = try PipelineHarness(test.authority, peer: stranger)
        let answer = try auth(forbidden, path: "/v1/auth/nginx", Self.nginx("/a?au_v=1"))
        #expect(answer.status == 403 && answer.headers["x-authority-reason"] == "forbidden")
        let harness = try PipelineHarness(test.authority)
        let short = try link(test, IssueLinkRequest(resource: "/s", ttl: 10))
        #expect(try auth(harness, path: "/v1/auth/nginx", Self.nginx(short)).headers["cache-control"] == "private, max-age=10")
        test.now += 10
        #expect(try auth(harness, path: "/v1/auth/nginx", Self.nginx(short)).status == 403)
        #expect(try auth(harness, path: "/v1/auth/nginx", Self.nginx("/%zz?au_v=1")).status == 401)
    }
}
