import AuthorityAPI
import AuthorityTesting
import Foundation
import Testing

extension EndToEnd {
    /// Rotation keeps old links valid until their epoch is retired.
    @Suite(.serialized) struct KeyRotation {
        @Test func rotateThenRetire() async throws {
            try await DaemonProcess.with { daemon in
                let client = daemon.client()
                let short = try client.issue("/k/short.txt", ttl: 60)
                let long = try client.issue("/k/long.txt", ttl: 7_200)
                #expect(short.epoch == 1 && long.epoch == 1)

                let rotated = try client.post("/v1/keys/rotate")
                #expect(rotated.status == 201, "\(rotated.text)")
                #expect(try rotated.decode(RotateResponse.self) == RotateResponse(epoch: 2, previousEpoch: 1))
                #expect(try client.health().activeEpoch == 2)

                #expect(try client.reason(short.url) == "ok")
                #expect(try client.reason(long.url) == "ok")
                let fresh = try client.issue("/k/fresh.txt", ttl: 60)
                #expect(fresh.epoch == 2)
                #expect(queryValue(fresh.url, "au_k") == "2")
                let freshAnswer = try client.check(CheckLinkRequest(url: fresh.url))
                #expect(freshAnswer.reason == "ok")
                #expect(freshAnswer.epoch == 2)

                let keys = try client.keys().keys
                #expect(keys.map(\.kid) == ["1", "2"])
                #expect(keys.map(\.status) == ["verify_only", "active"])
                #expect(Set(keys.map(\.x)).count == 2)
                #expect((keys[0].retireAfter ?? 0) >= long.expiresAt, "retire_after \(String(describing: keys[0].retireAfter))")

                expectError(try client.post("/v1/keys/1/retire"), 409, "key.live_links", "retire 1 without force")
                expectError(
                    try client.post("/v1/keys/1/retire", json: RetireRequest(force: false)), 409, "key.live_links",
                    "retire 1 with force false")
                #expect(try client.reason(long.url) == "ok")

                let forced = try client.post("/v1/keys/1/retire", json: RetireRequest(force: true))
                #expect(forced.status == 200, "\(forced.text)")
                let retiredKey = try forced.decode(JSONWebKey.self)
                #expect(retiredKey.kid == "1")
                #expect(retiredKey.status == "retired")
                #expect(retiredKey.retiredAt != nil)

                #expect(try client.reason(short.url) == "retired_key")
                #expect(try client.reason(long.url) == "retired_key")
                #expect(try client.reason(fresh.url) == "ok")
                #expect(try client.keys().keys.map(\.status) == ["retired", "active"])

                expectError(try client.post("/v1/keys/1/retire", json: RetireRequest(force: true)), 409, "key.already_retired", "again")
                expectError(try client.post("/v1/keys/2/retire", json: RetireRequest(force: true)), 409, "key.active", "active")
                expectError(try client.post("/v1/keys/99/retire"), 404, "key.not_found", "unknown epoch")
                expectError(try client.post("/v1/keys/99/retire", json: RetireRequest(force: true)), 404, "key.not_found", "unknown forced")

                let actions = try client.audit().map(\.action)
                #expect(actions.contains("keys.rotate"))
                #expect(actions.contains("keys.retire.forced"))
            }
        }

        @Test func rotateTwiceKeepsOneActiveEpoch() async throws {
            try await DaemonProcess.with { daemon in
                let client = daemon.client()
                let first = try client.issue("/k/a", ttl: 60)
                for expected in UInt64(2)...3 {
                    let rotated = try client.post("/v1/keys/rotate")
                    #expect(try rotated.decode(RotateResponse.self) == RotateResponse(epoch: expected, previousEpoch: expected - 1))
                }
                let keys = try client.keys().keys
                #expect(keys.map(\.status) == ["verify_only", "verify_only", "active"])
                // Epoch 2 signed nothing: nothing can still be live under it.
                let retired = try client.post("/v1/keys/2/retire")
                #expect(retired.status == 200, "\(retired.text)")
                #expect(try client.reason(first.url) == "ok")
            }
        }
    }
}
