import AuthorityAPI
import Testing

@testable import AuthorityServer

/// `GET /v1/auth` through the real pipeline, with each proxy's header dialect.
@Suite struct ForwardAuthTests {
    func link(_ test: TestAuthority, _ body: IssueLinkRequest) throws -> String {
        try test.issue(body, grant: Grant(rights: [.admin]), peer: root).url
    }

    func auth(_ harness: PipelineHarness, method: String = "GET", path: String = "/v1/auth", _ headers: [(String, String)]) throws -> Answer {
        var raw = "\(method) \(path) HTTP/1.1\r\nHost: auth\r\n"
        for (name, value) in headers { raw += "\(name): \(value)\r\n" }
        raw += "Content-Length: 0\r\n\r\n"
        return try #require(try harness.send(raw).first)
    }

    @Test func nginxHeaders() throws {
        let test = try TestAuthority()
        let harness = try PipelineHarness(test.authority)
        let url = try link(test, IssueLinkRequest(resource: "/files/a.pdf", ttl: 600, ip: "192.0.2.0/24"))
        let ok = try auth(harness, [("X-Original-URI", url), ("X-Original-Method", "GET"), ("X-Real-IP", "192.0.2.5")])
        #expect(ok.status == 204)
        #expect(ok.headers["x-authority-reason"] == "ok")
        #expect(ok.headers["cache-control"] == "private, max-age=60")
        #expect(ok.headers["x-authority-expires-at"] == String(test.now + 600))
        #expect(ok.headers["x-authority-link-id"] != nil)
        #expect(ok.body.isEmpty)
        let wrongIP = try auth(harness, [("X-Original-URI", url), ("X-Real-IP", "198.51.100.1")])
        #expect(wrongIP.status == 403 && wrongIP.headers["x-authority-reason"] == "ip_mismatch")
        #expect(wrongIP.headers["cache-control"] == "no-store")
        let wrongMethod = try auth(harness, [("X-Original-URI", url), ("X-Original-Method", "DELETE"), ("X-Real-IP", "192.0.2.5")])
        #expect(wrongMethod.status == 403 && wrongMethod.headers["x-authority-reason"] == "method_not_allowed")
        let noLink = try auth(harness, [("X-Original-URI", "/files/a.pdf")])
        #expect(noLink.status == 401 && noLink.headers["x-authority-reason"] == "malformed")
        let nothing = try auth(harness, [])
        #expect(nothing.status == 401)
    }

    @Test func traefikAndCaddyHeadersAndTheNearestForwardedFor() throws {
        let test = try TestAuthority()
        let harness = try PipelineHarness(test.authority)
        let url = try link(test, IssueLinkRequest(resource: "https://cdn.example/v/", ttl: 600, prefix: true, ip: "203.0.113.7", bindHost: true))
        let query = String(url[url.firstIndex(of: "?")!...])
        let headers = [("X-Forwarded-Uri", "/v/seg1.ts" + query), ("X-Forwarded-Method", "GET"),
                       ("X-Forwarded-Host", "cdn.example"), ("X-Forwarded-Proto", "https")]
        #expect(try auth(harness, headers + [("X-Forwarded-For", "10.9.9.9, 203.0.113.7")]).status == 204)
        // A client-supplied first entry is not trusted: the last one is the proxy's own.
        #expect(try auth(harness, headers + [("X-Forwarded-For", "203.0.113.7, 10.9.9.9")]).headers["x-authority-reason"] == "ip_mismatch")
        let otherHost = [("X-Forwarded-Uri", "/v/seg1.ts" + query), ("X-Forwarded-Host", "evil.example"), ("X-Forwarded-For", "203.0.113.7")]
        #expect(try auth(harness, otherHost).headers["x-authority-reason"] == "resource_mismatch")
        // Traefik sends the auth request with the original method; any method is accepted.
        #expect(try auth(harness, method: "HEAD", headers + [("X-Forwarded-For", "203.0.113.7")]).status == 204)
    }

    @Test func envoyPathForm() throws {
        let test = try TestAuthority()
        let harness = try PipelineHarness(test.authority)
        let url = try link(test, IssueLinkRequest(resource: "/files/b.txt", methods: ["PUT"], ttl: 600))
        #expect(try auth(harness, method: "PUT", path: "/v1/auth" + url, [("X-Forwarded-For", "10.0.0.1")]).status == 204)
        #expect(try auth(harness, method: "GET", path: "/v1/auth" + url, []).headers["x-authority-reason"] == "method_not_allowed")
    }

    @Test func refusalsAreOnly401Or403AndCacheAgeNeverOutlivesTheLink() throws {
        let test = try TestAuthority(policy: Policy(defaultRights: [], daemonUID: 4242))
        let forbidden = try PipelineHarness(test.authority, peer: stranger)
        let answer = try auth(forbidden, [("X-Original-URI", "/a?au_v=1")])
        #expect(answer.status == 403 && answer.headers["x-authority-reason"] == "forbidden")
        let harness = try PipelineHarness(test.authority)
        let short = try link(test, IssueLinkRequest(resource: "/s", ttl: 10))
        #expect(try auth(harness, [("X-Original-URI", short)]).headers["cache-control"] == "private, max-age=10")
        test.now += 10
        #expect(try auth(harness, [("X-Original-URI", short)]).status == 403)
        #expect(try auth(harness, [("X-Original-URI", "/%zz?au_v=1")]).status == 401)
    }
}
