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
            "resource", "methods", "ttl", "expires_at", "not_before", "prefix", "ip", "bind_host", "max_uses", "password",
        ])
        #expect(CheckLinkRequest.fieldNames == ["url", "method", "client_ip", "host", "password", "consume", "cookie", "issue_cookie"])
        #expect(RevokeRequest.fieldNames == ["id", "prefix", "issued_before", "reason"])
        #expect(RetireRequest.fieldNames == ["force"])
    }

    @Test func answersCarryTheDocumentedMembers() throws {
        #expect(try members(IssueLinkResponse(url: "u", id: "i", epoch: 1, expiresAt: 2, notBefore: 3, methods: ["GET"]))
            == ["url", "id", "epoch", "expires_at", "not_before", "methods"])
        #expect(try members(CheckLinkResponse(valid: true, reason: "ok", id: "i", epoch: 1, expiresAt: 2, remainingUses: 3, detail: "d"))
            == ["valid", "reason", "id", "epoch", "expires_at", "remaining_uses", "detail", "cookie", "cookie_expires_at"])
        #expect(try members(JSONWebKey(x: "x", kid: "1", status: "active", createdAt: 1, retireAfter: 2, retiredAt: 3))
            == ["kty", "crv", "x", "kid", "use", "alg", "status", "created_at", "retire_after", "retired_at"])
        #expect(try members(APIErrorBody(code: "c", message: "m")) == ["error"])
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
