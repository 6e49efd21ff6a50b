import AuthorityAPI
import AuthorityStore
import NIOCore
import NIOHTTP1
import Testing

@testable import AuthorityServer

/// The router is the one place a caller's right is checked and the one place answers become HTTP.
@Suite struct RouterTests {
    /// A policy in which `stranger` holds exactly `rights`.
    static func harness(_ test: TestAuthority, strangerHolds rights: Set<Right>) throws -> PipelineHarness {
        test.authority.policy.replace(Policy(defaultRights: rights, daemonUID: 4242))
        return try PipelineHarness(test.authority, peer: stranger)
    }

    /// `stranger`'s request, holding exactly `rights`, through the router; waits for the answer.
    static func respond(_ test: TestAuthority, _ method: HTTPMethod, _ path: String, body: String, holding rights: Set<Right>)
        throws -> APIResponse
    {
        test.authority.policy.replace(Policy(defaultRights: rights, daemonUID: 4242))
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "application/json")
        let request = APIRequest(
            head: HTTPRequestHead(version: .http1_1, method: method, uri: path, headers: headers), body: ByteBuffer(string: body))
        return try Router(authority: test.authority).respond(to: request, peer: stranger, eventLoop: test.loop).response()
    }

    /// Every endpoint with the right it needs; a caller holding every other right but that one is
    /// refused before its input is read (an empty body would be a 422).
    static let endpoints: [(method: HTTPMethod, path: String, right: Right?)] = [
        (.GET, "/v1/health", nil), (.POST, "/v1/links/check", .check), (.POST, "/v1/links/explain", .check),
        (.GET, "/v1/keys", .check), (.GET, "/metrics", .check), (.POST, "/v1/links", .issue),
        (.POST, "/v1/revocations", .revoke), (.GET, "/v1/revocations", .revoke), (.POST, "/v1/keys/rotate", .admin),
        (.GET, "/v1/audit", .admin), (.GET, "/v1/integrity", .admin), (.DELETE, "/v1/revocations/1", .admin),
        (.POST, "/v1/keys/1/retire", .admin),
    ]

    @Test func everyEndpointNeedsItsRightAndOnlyThat() throws {
        let test = try TestAuthority()
        for (method, path, right) in Self.endpoints {
            let others = Set(Right.allCases).subtracting([.admin]).subtracting(right.map { [$0] } ?? [])
            let refused = try Self.respond(test, method, path, body: "{", holding: others)
            guard let right else {
                #expect(refused.status == .ok, "\(method) \(path)")
                continue
            }
            #expect(refused.status == .forbidden, "\(method) \(path)")
            #expect(String(buffer: refused.body).contains("lacks the \(right.rawValue) right"), "\(method) \(path)")
            // With the right, the same request gets past the router: its broken body (or a
            // missing row) answers, never a 403.
            let allowed = try Self.respond(test, method, path, body: "{", holding: [right])
            #expect(allowed.status != .forbidden, "\(method) \(path): \(allowed.status)")
        }
    }

    @Test func forwardAuthWithoutTheCheckRightIsAHeaderOnly403() throws {
        let test = try TestAuthority()
        let answers = try Self.harness(test, strangerHolds: [.issue, .revoke]).send(
            "GET /v1/auth/nginx HTTP/1.1\r\nHost: x\r\nX-Original-URI: /a\r\nX-Original-Method: GET\r\nX-Original-Host: h\r\nX-Real-IP: 192.0.2.1\r\n\r\n")
        #expect(answers.first?.status == 403 && answers.first?.headers["x-authority-reason"] == "forbidden")
        #expect(answers.first?.body.isEmpty == true)
    }

    @Test func unknownPathsAndMethodsAreRefusedBeforeRights() throws {
        let test = try TestAuthority()
        let harness = try Self.harness(test, strangerHolds: [])
        let wrongMethod = try harness.send(PipelineHarness.request("PUT", "/v1/revocations"))
        #expect(wrongMethod.first?.status == 405 && wrongMethod.first?.headers["allow"] == "GET, POST")
        #expect(try harness.send(PipelineHarness.request("GET", "/v1/revocations/7")).first?.headers["allow"] == "DELETE")
        #expect(try harness.send(PipelineHarness.request("GET", "/v1/keys/7/retire")).first?.headers["allow"] == "POST")
        #expect(try harness.send(PipelineHarness.request("GET", "/v1/nothing")).first?.status == 404)
        #expect(try harness.send(PipelineHarness.request("POST", "/v1/keys/0/retire")).first?.status == 404)
        // Out of range, but the route exists: the right is checked first, then the 422.
        #expect(try harness.send(PipelineHarness.request("DELETE", "/v1/revocations/0")).first?.status == 403)
        let admin = try PipelineHarness(test.authority, peer: root)
        #expect(try admin.send(PipelineHarness.request("DELETE", "/v1/revocations/0")).first?.status == 422)
    }

    /// The check path reads the server's copy of the store's state; the copy hears of every
    /// change before the write is acknowledged. The store no longer holds the index it handed
    /// over (two holders would copy it at every revocation): it reads the database instead.
    @Test func theServersStateFollowsTheStoreBeforeTheAnswer() throws {
        let test = try TestAuthority()
        let entry = try test.revoke(RevokeRequest(prefix: "/gone/"), peer: root)
        #expect(test.authority.state.revocations?.isBlocked(path: "/gone/x", issuedAt: test.now) == true, "\(entry.serial)")
        #expect(test.store.revocations?.isBlocked(path: "/gone/x", issuedAt: test.now) == true)
        _ = try test.administration.rotate(caller: root, on: test.loop).wait()
        let snapshot = test.authority.state.snapshot
        #expect(snapshot.signing.epoch == 2 && snapshot.keyRing.activeEpoch == 2)
        #expect(test.authority.metrics.text().contains("authority_active_epoch 2"))
        _ = try test.administration.liftRevocation(serial: entry.serial, caller: root, on: test.loop).wait()
        #expect(test.authority.state.revocations?.isBlocked(path: "/gone/x", issuedAt: test.now) == false)
    }
}
