import AuthorityAPI
import AuthorityTesting
import Foundation
import Testing

extension EndToEnd {
    /// Revocations take effect on the very next check and page in serial order.
    @Suite(.serialized) struct Revocations {
        @Test func revokeByIDIsEffectiveOnTheNextCheck() async throws {
            try await DaemonProcess.with { daemon in
                let client = daemon.client()
                let target = try client.issue("/r/one.txt")
                let other = try client.issue("/r/two.txt")
                #expect(try client.reason(target.url) == "ok")
                let entry = try client.revoke(RevokeRequest(id: target.id, reason: "leaked in a ticket"))
                #expect(entry.kind == "id")
                #expect(entry.id == target.id)
                #expect(entry.prefix == nil)
                #expect(entry.issuedBefore == nil)
                #expect(entry.reason == "leaked in a ticket")
                #expect(entry.createdByUID == 0)
                #expect(abs(entry.createdAt - unixNow()) < 60)
                let answer = try client.check(CheckLinkRequest(url: target.url))
                #expect(answer.reason == "revoked")
                #expect(!answer.valid)
                #expect(answer.id == target.id)
                #expect(try client.reason(other.url) == "ok")
                #expect(try client.health().revocations == 1)
            }
        }

        @Test func revokeByPrefixCoversEveryLinkUnderIt() async throws {
            try await DaemonProcess.with { daemon in
                let client = daemon.client()
                let inside = try client.issue("/r/p/a.txt")
                let deeper = try client.issue("/r/p/sub/b.txt?x=1")
                let prefixLink = try client.issue(IssueLinkRequest(resource: "/r/", ttl: 600, prefix: true))
                let sibling = try client.issue("/r/pq/c.txt")
                let outside = try client.issue("/s/p/a.txt")
                let entry = try client.revoke(RevokeRequest(prefix: "/r/p/"))
                #expect(entry.kind == "prefix")
                #expect(entry.prefix == "/r/p/")
                #expect(entry.id == nil)
                #expect(try client.reason(inside.url) == "revoked")
                #expect(try client.reason(deeper.url) == "revoked")
                // A prefix revocation refuses every request under it, whatever link it carries.
                let underRevoked = prefixLink.url.replacingOccurrences(of: "/r/?", with: "/r/p/z.txt?")
                #expect(try client.reason(underRevoked) == "revoked")
                #expect(try client.reason(prefixLink.url) == "ok")
                #expect(try client.reason(sibling.url) == "ok")
                #expect(try client.reason(outside.url) == "ok")

                let canonical = try client.revoke(RevokeRequest(prefix: "/r/%7eq/a+b"))
                #expect(canonical.prefix == "/r/~q/a%2Bb")
            }
        }

        @Test func revokeIssuedBeforeUnderAPrefix() async throws {
            try await DaemonProcess.with { daemon in
                let client = daemon.client()
                let old = try client.issue("/files/old.txt")
                let oldOutside = try client.issue("/other/old.txt")
                let oldIssuedAt = try #require(queryValue(old.url, "au_iat").flatMap { Int64($0) })
                // The next link must carry a later second.
                while unixNow() <= oldIssuedAt { try await Task.sleep(for: .milliseconds(50)) }
                let new = try client.issue("/files/new.txt")
                let newIssuedAt = try #require(queryValue(new.url, "au_iat").flatMap { Int64($0) })
                #expect(newIssuedAt > oldIssuedAt)

                let entry = try client.revoke(RevokeRequest(prefix: "/files/", issuedBefore: newIssuedAt))
                #expect(entry.kind == "issued_before")
                #expect(entry.issuedBefore == newIssuedAt)
                #expect(entry.prefix == "/files/")
                #expect(try client.reason(old.url) == "revoked")
                #expect(try client.reason(new.url) == "ok", "issued_before is strict")
                #expect(try client.reason(oldOutside.url) == "ok")

                // Without a prefix, issued_before covers `/`.
                _ = try client.revoke(RevokeRequest(issuedBefore: newIssuedAt))
                #expect(try client.reason(oldOutside.url) == "revoked")
                #expect(try client.reason(new.url) == "ok")
            }
        }

        @Test func refusedRevocations() async throws {
            try await DaemonProcess.with { daemon in
                let client = daemon.client()
                expectError(try client.post("/v1/revocations", json: RevokeRequest()), 422, "request.invalid", "empty")
                expectError(try client.post("/v1/revocations", json: RevokeRequest(id: "short")), 422, "request.invalid", "bad id")
                expectError(
                    try client.post("/v1/revocations", json: RevokeRequest(id: Fixtures.randomLinkID(), prefix: "/a/")),
                    422, "request.invalid", "id and prefix")
                expectError(try client.get("/v1/revocations?limit=0"), 422, "request.invalid", "limit 0")
                expectError(try client.get("/v1/revocations?limit=1001"), 422, "request.invalid", "limit 1001")
            }
        }

        @Test func revocationListSwitchedOff() async throws {
            try await DaemonProcess.with(arguments: ["--no-revocations"]) { daemon in
                let client = daemon.client()
                #expect(try client.health().revocations == nil)
                let link = try client.issue("/off/a.txt")
                expectError(
                    try client.post("/v1/revocations", json: RevokeRequest(id: link.id)), 409, "revocations.disabled", "revoke")
                #expect(try client.reason(link.url) == "ok")
            }
        }

        @Test func revocationsPageWithAfterAndLimit() async throws {
            try await DaemonProcess.with { daemon in
                let client = daemon.client()
                var created: [RevocationEntry] = []
                for n in 0..<7 {
                    created.append(try client.revoke(n % 2 == 0 ? RevokeRequest(id: Fixtures.randomLinkID()) : RevokeRequest(prefix: "/p\(n)/")))
                }
                #expect(zip(created, created.dropFirst()).allSatisfy { $0.serial < $1.serial })

                var pages: [RevocationPage] = []
                var after: Int64? = nil
                repeat {
                    let page = try client.revocationPage(after: after, limit: 3)
                    pages.append(page)
                    after = page.nextAfter
                } while after != nil && pages.count < 10
                #expect(pages.map(\.revocations.count) == [3, 3, 1])
                #expect(pages.flatMap(\.revocations) == created)
                #expect(pages.map(\.nextAfter) == [created[2].serial, created[5].serial, nil])

                let rest = try client.revocationPage(after: created[4].serial, limit: nil)
                #expect(rest.revocations == Array(created[5...]))
                #expect(rest.nextAfter == nil)
                let all = try client.revocationPage(after: nil, limit: nil)
                #expect(all.revocations == created)
                let past = try client.revocationPage(after: created[6].serial, limit: 5)
                #expect(past.revocations.isEmpty)
                #expect(past.nextAfter == nil)
            }
        }
    }
}
