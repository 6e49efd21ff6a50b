import AuthorityAPI
import Foundation
import Testing

/// The JSON member names are the published API (docs/api.md, docs/openapi.yaml): pin them.
@Suite struct WireFormatTests {
    func members(_ value: some Encodable) throws -> Set<String> {
        let object = try JSONSerialization.jsonObject(with: JSONEncoder().encode(value)) as? [String: Any]
        return Set(object?.keys ?? [:].keys)
    }

    @Test func requestFieldNamesAreSnakeCase() {
        #expect(IssueLinkRequest.fieldNames == [
            "resource", "methods", "ttl", "expires_at", "not_before", "prefix", "ip", "bind_host", "max_uses", "password", "cookie",
            "origins", "ref",
        ])
        #expect(CheckLinkRequest.fieldNames == ["url", "method", "client_ip", "host", "password", "consume", "cookie", "issue_cookie"])
        #expect(RevokeRequest.fieldNames == ["id", "prefix", "issued_before", "reason"])
        #expect(RetireRequest.fieldNames == ["force"])
    }

    @Test func answersCarryTheDocumentedMembers() throws {
        #expect(try members(IssueLinkResponse(url: "u", id: "i", epoch: 1, expiresAt: 2, notBefore: 3, methods: ["GET"]))
            == ["url", "id", "epoch", "expires_at", "not_before", "methods", "path_url", "ref"])
        #expect(try members(LinkEventBody(serial: 1, at: 2, kind: "used", linkID: "i", resource: "/r"))
            == ["serial", "at", "kind", "link_id", "resource", "issuer_uid", "ref", "uses_left", "revocation"])
        #expect(try members(EventPage(events: [], nextAfter: 0)) == ["events", "next_after"])
        #expect(try members(LinkStateResponse(
            id: "i", status: "active", resource: "/r", prefix: false, methods: ["GET"], epoch: 1, issuedAt: 1, expiresAt: 2,
            password: false, cookie: false, revokedBy: []))
            == ["id", "status", "ref", "resource", "prefix", "host", "methods", "ip", "epoch", "issued_at", "not_before", "expires_at",
                "issuer_uid", "password", "cookie", "max_uses", "uses", "uses_left", "locked_until", "first_used_at", "last_used_at",
                "last_refused", "last_refused_at", "revoked_by"])
        #expect(try members(CheckLinkResponse(valid: true, reason: "ok", id: "i", epoch: 1, expiresAt: 2, remainingUses: 3, detail: "d"))
            == ["valid", "reason", "id", "epoch", "expires_at", "remaining_uses", "detail", "cookie", "cookie_expires_at"])
        #expect(try members(JSONWebKey(x: "x", kid: "1", status: "active", createdAt: 1, retireAfter: 2, retiredAt: 3))
            == ["kty", "crv", "x", "kid", "use", "alg", "status", "created_at", "retire_after", "retired_at"])
        #expect(try members(APIErrorBody(code: "c", message: "m")) == ["error"])
    }

    /// Answers write every member (absent ones as `null`); request bodies, as `authorityctl` sends
    /// them, leave absent members out.
    @Test func answersWriteNullsAndRequestsLeaveThemOut() throws {
        #expect(try members(RotateResponse(epoch: 1, previousEpoch: nil)) == ["epoch", "previous_epoch"])
        #expect(try members(HealthResponse(status: "ok", version: "1", activeEpoch: 1, revocations: nil, uptimeSeconds: 0))
            == ["status", "version", "active_epoch", "revocations", "uptime_seconds", "storage", "storage_problem", "sync_age_ms"])
        #expect(try members(CheckLinkRequest(url: "/a", clientIP: "192.0.2.1")) == ["url", "client_ip"])
        #expect(try members(RevokeRequest(issuedBefore: 5)) == ["issued_before"])
        #expect(try members(RetireRequest()) == [])
    }

    @Test func unknownMembersAreFoundSortedAndWordedOnce() {
        let known = KnownMembers(["b_b", "a"])
        #expect(known.unknown(in: ["a", "zz", "b_b", "c"]) == ["c", "zz"])
        #expect(known.unknown(in: ["a"]).isEmpty)
        #expect(known.refusal(["c"]) == #"unknown field "c"; known: a, b_b"#)
        let long = String(repeating: "x", count: 100)
        #expect(known.refusal([long, "d", "e", "f", "g"])
            == "unknown field \"\(long.prefix(64))\", \"d\", \"e\" and 2 more; known: a, b_b")
    }

    @Test func missingRequiredMembersAndWrongTypesAreDecodingErrors() {
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(CheckLinkRequest.self, from: Data(#"{}"#.utf8)) }
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(CheckLinkRequest.self, from: Data(#"{"url":null}"#.utf8)) }
        #expect(throws: DecodingError.self) {
            try JSONDecoder().decode(RevocationEntry.self, from: Data(#"{"serial":1,"kind":"id","created_at":-1,"created_by_uid":-1}"#.utf8))
        }
        #expect(throws: DecodingError.self) {
            try JSONDecoder().decode(JSONWebKey.self, from: Data(#"{"x":"","kid":"1","status":"active","created_at":0}"#.utf8))
        }
    }

    @Test func requestsDecodeFromTheirWireForm() throws {
        let body = #"{"resource": "/a", "ttl": 60, "expires_at": null, "bind_host": true, "max_uses": 3}"#
        let request = try JSONDecoder().decode(IssueLinkRequest.self, from: Data(body.utf8))
        #expect(request == IssueLinkRequest(resource: "/a", ttl: 60, bindHost: true, maxUses: 3))
        #expect(throws: DecodingError.self) {
            try JSONDecoder().decode(IssueLinkRequest.self, from: Data(#"{"resource": 5}"#.utf8))
        }
    }

    @Test func everyErrorCodeHasAClientOrServerStatus() {
        for code in APIErrorCode.allCases {
            #expect((400...599).contains(code.status), "\(code)")
            #expect(code.rawValue.allSatisfy { $0.isLowercase || $0 == "." || $0 == "_" })
        }
        #expect(APIErrorCode.forbidden.rawValue == "forbidden" && APIErrorCode.forbidden.status == 403)
        #expect(APIErrorCode.bodyTooLarge.status == 413)
    }
}
