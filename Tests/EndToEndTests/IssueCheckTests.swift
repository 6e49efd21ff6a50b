import AuthorityAPI
import AuthorityTesting
import Foundation
import Testing

extension EndToEnd {
    /// Issue and check through the real daemon; the key set it publishes.
    @Suite(.serialized) struct IssueAndCheck {
        @Test func healthOfAFreshStateDirectory() async throws {
            try await DaemonProcess.with { daemon in
                let health = try daemon.client().health()
                #expect(health.status == "ok")
                #expect(health.activeEpoch == 1)
                #expect(health.revocations == 0)
                #expect(!health.version.isEmpty)
                #expect(health.uptimeSeconds >= 0)
            }
        }

        @Test func issuedAbsoluteLinkChecksOkInBothForms() async throws {
            try await DaemonProcess.with { daemon in
                let client = daemon.client()
                let resource = "https://cdn.example.com/files/report%202026.pdf?download=1"
                let before = unixNow()
                let response = try client.post("/v1/links", json: IssueLinkRequest(resource: resource, ttl: 900))
                #expect(response.status == 201, "\(response.text)")
                #expect(response.header("Content-Type")?.hasPrefix("application/json") == true)
                let link = try response.decode(IssueLinkResponse.self)
                #expect(link.url.hasPrefix(resource + "&au_v=1&au_k=1&au_id=\(link.id)&au_iat="), "\(link.url)")
                #expect(link.id.count == 22)
                #expect(link.epoch == 1)
                #expect((before + 900...unixNow() + 900).contains(link.expiresAt))
                #expect(queryValue(link.url, "au_exp") == String(link.expiresAt))
                #expect(link.notBefore == nil)
                #expect(link.methods == ["GET", "HEAD"])

                let absolute = try client.check(CheckLinkRequest(url: link.url))
                #expect(absolute == CheckLinkResponse(valid: true, reason: "ok", id: link.id, epoch: 1, expiresAt: link.expiresAt))
                let origin = originForm(link.url)
                #expect(origin.hasPrefix("/files/report%202026.pdf?download=1&au_v=1"))
                #expect(try client.reason(origin, method: "HEAD", host: "cdn.example.com") == "ok")
                #expect(try client.reason(link.url, method: "PUT") == "method_not_allowed")
                // One altered signature character (the first one cannot leave the signature canonical).
                let sig = try #require(queryValue(link.url, "au_sig"))
                let altered = sig.first == "A" ? "B" + sig.dropFirst() : "A" + sig.dropFirst()
                #expect(try client.reason(link.url.replacingOccurrences(of: sig, with: altered)) == "bad_signature")
            }
        }

        @Test func originFormResourceAndBindings() async throws {
            try await DaemonProcess.with { daemon in
                let client = daemon.client()
                let plain = try client.issue("/files/a.txt", ttl: 60)
                #expect(plain.url.hasPrefix("/files/a.txt?au_v=1&au_k=1&"))
                #expect(try client.reason(plain.url) == "ok")
                #expect(try client.reason(plain.url, host: "any.example") == "ok")

                let bound = try client.issue("/files/b.txt", ip: "203.0.113.0/24")
                #expect(queryValue(bound.url, "au_ip") == "203.0.113.0/24")
                #expect(try client.reason(bound.url, clientIP: "203.0.113.9") == "ok")
                #expect(try client.reason(bound.url, clientIP: "198.51.100.1") == "ip_mismatch")
                #expect(try client.reason(bound.url) == "ip_mismatch")

                let request = IssueLinkRequest(resource: "https://Media.Example.com/v/1.mp4", ttl: 60, bindHost: true)
                let hostBound = try client.issue(request)
                #expect(queryValue(hostBound.url, "au_h") == "media.example.com")
                #expect(try client.reason(originForm(hostBound.url), host: "media.example.com:8443") == "ok")
                #expect(try client.reason(originForm(hostBound.url), host: "evil.example") == "resource_mismatch")

                let prefix = try client.issue(IssueLinkRequest(resource: "/videos/abc/", ttl: 60, prefix: true))
                let segment = prefix.url.replacingOccurrences(of: "/videos/abc/?", with: "/videos/abc/seg1.ts?")
                #expect(try client.reason(segment) == "ok")
                let outside = prefix.url.replacingOccurrences(of: "/videos/abc/?", with: "/videos/abcd?")
                #expect(try client.reason(outside) == "resource_mismatch")

                let upload = try client.issue("/up/x.bin", ttl: 60, methods: ["PUT", "POST"])
                #expect(upload.methods == ["PUT", "POST"])
                #expect(queryValue(upload.url, "au_m") == "PUT,POST")
                #expect(try client.reason(upload.url, method: "POST") == "ok")
                #expect(try client.reason(upload.url, method: "GET") == "method_not_allowed")
            }
        }

        @Test func issueRefusesBadValues() async throws {
            try await DaemonProcess.with(arguments: ["--max-ttl", "3600"]) { daemon in
                let client = daemon.client()
                let tooLong = try client.post("/v1/links", json: IssueLinkRequest(resource: "/a", ttl: 3_601))
                expectError(tooLong, 422, "request.invalid", "ttl above --max-ttl")
                let both = try client.post("/v1/links", json: IssueLinkRequest(resource: "/a", ttl: 60, expiresAt: unixNow() + 60))
                expectError(both, 422, "request.invalid", "ttl and expires_at")
                let relative = try client.post("/v1/links", json: IssueLinkRequest(resource: "a/b", ttl: 60))
                expectError(relative, 422, "request.invalid", "relative resource")
                let method = try client.post("/v1/links", json: IssueLinkRequest(resource: "/a", methods: ["PATCH"], ttl: 60))
                expectError(method, 422, "request.invalid", "PATCH")
                let badIP = try client.post("/v1/links/check", json: CheckLinkRequest(url: "/a?au_v=1", clientIP: "not-an-ip"))
                expectError(badIP, 422, "request.invalid", "invalid client_ip")
                let expires = try client.issue(IssueLinkRequest(resource: "/a", expiresAt: unixNow() + 120))
                #expect(try client.reason(expires.url) == "ok")
            }
        }

        @Test func keySetOfAFreshDaemon() async throws {
            try await DaemonProcess.with { daemon in
                let response = try daemon.client().get("/v1/keys")
                #expect(response.status == 200)
                let set = try response.decode(JSONWebKeySet.self)
                let key = try #require(set.keys.first)
                #expect(set.keys.count == 1)
                #expect(key.kty == "OKP")
                #expect(key.crv == "Ed25519")
                #expect(key.kid == "1")
                #expect(key.status == "active")
                #expect(key.use == "sig")
                #expect(key.alg == "EdDSA")
                #expect(key.x.count == 43)
                #expect(key.x.allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" })
                #expect(key.retiredAt == nil)
                #expect(abs(key.createdAt - unixNow()) < 60)
            }
        }
    }
}
