import AuthorityAPI
import NIOCore
import Testing

@testable import AuthorityServer

@Suite struct PipelineTests {
    @Test func healthAndCheckAnswerOnTheEventLoop() throws {
        let test = try TestAuthority()
        let harness = try PipelineHarness(test.authority)
        let health = try harness.send(PipelineHarness.request("GET", "/v1/health"))
        #expect(health.count == 1 && health[0].status == 200)
        #expect(try health[0].decode(HealthResponse.self).activeEpoch == 1)
        let check = try harness.send(PipelineHarness.request("POST", "/v1/links/check", json: #"{"url":"/a?au_v=1"}"#))
        #expect(check.first?.status == 200)
        let answer = try #require(try check.first?.decode(CheckLinkResponse.self))
        #expect(answer.reason == "malformed" && !answer.valid && answer.detail != nil)
        #expect(check.first?.headers["cache-control"] == "no-store")
    }

    @Test func oversizedBodyIs413AndCloses() throws {
        let test = try TestAuthority()
        let harness = try PipelineHarness(test.authority, bodyLimit: 1_024)
        let body = "{\"url\":\"" + String(repeating: "a", count: 2_000) + "\"}"
        let answers = try harness.send(PipelineHarness.request("POST", "/v1/links/check", json: body))
        #expect(answers.first?.status == 413)
        #expect(answers.first?.errorCode == "body.too_large")
        #expect(answers.first?.headers["connection"] == "close")
    }

    @Test func chunkedBodyOverTheLimitIs413() throws {
        let test = try TestAuthority()
        let harness = try PipelineHarness(test.authority, bodyLimit: 1_024)
        let chunk = String(repeating: "b", count: 800)
        let raw = "POST /v1/links/check HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
            + "320\r\n\(chunk)\r\n320\r\n\(chunk)\r\n0\r\n\r\n"
        #expect(try harness.send(raw).first?.status == 413)
    }

    @Test(arguments: [
        ("GET", "/nope", nil as String?, "application/json", 404, "route.not_found"),
        ("DELETE", "/v1/links", nil, "application/json", 405, "route.method_not_allowed"),
        ("GET", "/v1/keys/1/retire", nil, "application/json", 405, "route.method_not_allowed"),
        ("POST", "/v1/links/check", "{not json", "application/json", 400, "body.invalid_json"),
        ("POST", "/v1/links/check", "[1]", "application/json", 400, "body.invalid_json"),
        ("POST", "/v1/links/check", #"{"url": 5}"#, "application/json", 400, "body.invalid_json"),
        ("POST", "/v1/links/check", #"{"url": "/a", "urll": 1}"#, "application/json", 422, "request.unknown_field"),
        ("POST", "/v1/links/check", #"{"url": "/a"}"#, "text/plain", 415, "body.unsupported_media_type"),
        ("POST", "/v1/links/check", #"{"url": "/a", "client_ip": "999.1.1.1"}"#, "application/json", 422, "request.invalid"),
        ("POST", "/v1/links/check", "", "application/json", 400, "body.invalid_json"),
        ("GET", "/v1/revocations?limit=0", nil, "application/json", 422, "request.invalid"),
        ("GET", "/v1/audit?limit=abc", nil, "application/json", 422, "request.invalid"),
    ])
    func clientMistakesGetTheirDocumentedError(
        method: String, path: String, json: String?, contentType: String, status: Int, code: String
    ) throws {
        let test = try TestAuthority()
        let harness = try PipelineHarness(test.authority)
        let answers = try harness.send(PipelineHarness.request(method, path, json: json, contentType: contentType))
        #expect(answers.first?.status == status)
        #expect(answers.first?.errorCode == code)
        if status == 405 { #expect(answers.first?.headers["allow"] != nil) }
        // The connection keeps serving.
        #expect(try harness.send(PipelineHarness.request("GET", "/v1/health")).first?.status == 200)
    }

    /// The media type of `Content-Type` is compared as ASCII bytes: parameters and the spaces and
    /// tabs around it do not matter, a Unicode space or a look-alike letter is not JSON.
    @Test(arguments: [
        ("application/json", true), ("Application/JSON", true), ("application/json; charset=utf-8", true),
        ("application/json ;charset=utf-8", true), ("application/json\t; charset=utf-8", true),
        ("application/jsonx", false), ("application/json\u{A0}", false), ("\u{A0}application/json", false),
        ("application/json\u{200B}", false), ("applicat\u{131}on/json", false), ("text/plain; application/json", false),
        ("application/ json", false),
    ])
    func contentTypeIsJSONOnlyAsASCII(contentType: String, accepted: Bool) throws {
        let test = try TestAuthority()
        let harness = try PipelineHarness(test.authority)
        let answer = try harness.send(PipelineHarness.request("POST", "/v1/links/check", json: #"{"url": "/a"}"#, contentType: contentType)).first
        if accepted {
            #expect(answer?.status == 200, "\(contentType.debugDescription)")
        } else {
            #expect(answer?.status == 415, "\(contentType.debugDescription)")
            #expect(answer?.errorCode == "body.unsupported_media_type")
        }
    }

    @Test func garbageIsAJSON400ThenClose() throws {
        let test = try TestAuthority()
        let harness = try PipelineHarness(test.authority)
        do {
            try harness.channel.writeInbound(ByteBuffer(string: "\u{1}\u{2} nonsense\r\n\r\n"))
        } catch {
            // The decoder's error also surfaces here; the answer is what matters.
        }
        let answers = try harness.answers()
        #expect(answers.first?.status == 400)
        #expect(answers.first?.errorCode == "http.malformed")
    }

    @Test func callersWithoutTheRightAreForbidden() throws {
        let test = try TestAuthority(policy: Policy(defaultRights: [.check], daemonUID: 4242))
        let harness = try PipelineHarness(test.authority, peer: stranger)
        for (method, path, json) in [
            ("POST", "/v1/links", #"{"resource":"/a","ttl":5}"#), ("POST", "/v1/keys/rotate", nil),
            ("POST", "/v1/keys/1/retire", nil), ("POST", "/v1/revocations", #"{"id":"AAAAAAAAAAAAAAAAAAAAAA"}"#),
            ("GET", "/v1/revocations", nil), ("GET", "/v1/audit", nil),
        ] {
            let answer = try harness.send(PipelineHarness.request(method, path, json: json)).first
            #expect(answer?.status == 403, "\(method) \(path)")
            #expect(answer?.errorCode == "forbidden")
        }
        #expect(try harness.send(PipelineHarness.request("GET", "/v1/keys")).first?.status == 200)
        #expect(try harness.send(PipelineHarness.request("GET", "/metrics")).first?.status == 200)
    }

    /// A write the store cannot make (here: the group commit is closed) answers a JSON 503
    /// `storage.unavailable` with Retry-After, never an empty answer, a generic 500 or none.
    @Test func aStoreErrorOnAGroupCommitWriteIsAJSON503() throws {
        let test = try TestAuthority()
        let harness = try PipelineHarness(test.authority)
        test.store.groupCommit.close()
        for (path, json) in [
            ("/v1/revocations", #"{"id":"AAAAAAAAAAAAAAAAAAAAAA"}"#), ("/v1/links", #"{"resource":"/a","ttl":5}"#),
        ] {
            let answer = try harness.send(PipelineHarness.request("POST", path, json: json)).first
            #expect(answer?.status == 503, "\(path)")
            #expect(answer?.errorCode == "storage.unavailable", "\(path)")
            #expect(answer?.headers["retry-after"] == "5", "\(path)")
        }
    }

    @Test func commitsAreCounted() throws {
        let test = try TestAuthority()
        _ = try test.revoke(RevokeRequest(prefix: "/m/"), peer: root)
        _ = try test.issue(IssueLinkRequest(resource: "/n/a", ttl: 60), rights: CallerRights(rights: [.issue]), peer: root)
        let text = test.authority.metrics.text()
        #expect(text.contains("authority_commits_total 2"), "\(text)")
        #expect(text.contains("authority_committed_writes_total 2"))
        #expect(text.contains("authority_commit_batch_size_bucket{le=\"1.0\"} 2"))
    }

    @Test func metricsAreInPrometheusTextFormat() throws {
        let test = try TestAuthority()
        let harness = try PipelineHarness(test.authority)
        _ = try harness.send(PipelineHarness.request("POST", "/v1/links/check", json: #"{"url":"/a?b"}"#))
        let answer = try #require(try harness.send(PipelineHarness.request("GET", "/metrics")).first)
        #expect(answer.headers["content-type"]?.hasPrefix("text/plain") == true)
        #expect(answer.body.contains("authority_checks_total{reason=\"malformed\"} 1"))
        #expect(answer.body.contains("authority_active_epoch 1"))
        #expect(answer.body.contains("authority_check_duration_seconds_bucket"))
    }

    /// HTTP/1.1 servers must accept the absolute form of a target (RFC 9112 §3.2.2); the fuzzer
    /// found it answered 404 `no route http://localhost/v1/health`.
    @Test(arguments: ["http://localhost/v1/health", "HTTP://x:1/v1/health", "https://a/v1/health?x=1"])
    func absoluteFormTargetsReachTheirRoute(target: String) throws {
        let test = try TestAuthority()
        let harness = try PipelineHarness(test.authority)
        let answer = try #require(try harness.send("GET \(target) HTTP/1.1\r\nHost: x\r\n\r\n").first)
        #expect(answer.status == 200, "\(answer.body)")
    }
}
