import AuthorityAPI
import AuthorityTesting
import Foundation
import Testing

extension EndToEnd {
    /// Lifecycle events through the real daemon (issue #18): `GET /v1/events` in batches.
    @Suite(.serialized) struct Events {
        static func events(_ client: UnixHTTPClient, after: Int64? = nil, limit: Int = 1_000) throws -> EventPage {
            let query = [after.map { "after=\($0)" }, "limit=\(limit)"].compactMap(\.self).joined(separator: "&")
            return try client.getDecoded("/v1/events?" + query, EventPage.self)
        }

        /// A one-time link used through nginx: `first_used`, `used`, `used_up`, in order, after its
        /// `issued`; a prefix revocation: one `revoked` per live link it ends; a reader resuming
        /// after a kill -9 with the last serial it saw misses nothing and sees nothing twice.
        @Test func aOneTimeLinkThroughNginxAndAPrefixRevocationAreToldInOrder() async throws {
            try await DaemonProcess.with(arguments: ["--socket-mode", "0666"]) { daemon in
                let (nginx, base, _) = try NginxTests().startNginx(in: daemon.directory, socket: daemon.socketPath)
                defer { nginx.terminate() }
                let client = daemon.client()
                let once = try client.issue(IssueLinkRequest(resource: "/files/report.txt", ttl: 600, maxUses: 1, ref: "report:1"))
                #expect(try curl(base + once.url).status == 200)
                #expect(try curl(base + once.url).status != 200)
                var page = try Self.events(client)
                #expect(page.events.map { "\($0.kind) \($0.linkID == once.id) \($0.ref ?? "-")" } == [
                    "issued true report:1", "first_used true report:1", "used true report:1", "used_up true report:1",
                ])
                #expect(page.events.map(\.usesLeft) == [nil, 0, 0, 0] && page.nextAfter == page.events.last?.serial)
                let seen = page.nextAfter

                let inside = try (0..<3).map { try client.issue("/files/secret/\($0).txt", ttl: 600) }
                let outside = try client.issue("/files/public.txt", ttl: 600)
                let rule = try client.revoke(RevokeRequest(prefix: "/files/secret/"))
                page = try Self.events(client, after: seen)
                let revoked = page.events.filter { $0.kind == "revoked" }
                #expect(Set(revoked.map(\.linkID)) == Set(inside.map(\.id)) && revoked.count == 3, "\(page.events)")
                #expect(revoked.allSatisfy { $0.revocation == rule.serial } && !revoked.contains { $0.linkID == outside.id })
                let beforeKill = page.events.map(\.serial)

                // kill -9, and the reader resumes after the last serial it saw.
                let last = try #require(beforeKill.last)
                _ = daemon.kill9()
                try daemon.start()
                let again = try daemon.client().issue(IssueLinkRequest(resource: "/files/report.txt", ttl: 600, maxUses: 2))
                #expect(try curl(base + again.url).status == 200)
                let resumed = try Self.events(daemon.client(), after: last)
                #expect(resumed.events.map(\.kind) == ["issued", "first_used", "used"], "\(resumed.events)")
                #expect(resumed.events.allSatisfy { $0.serial > last && $0.linkID == again.id })
                let everything = try Self.events(daemon.client()).events.map(\.serial)
                #expect(everything == Array(Set(everything)).sorted() && Set(beforeKill).isSubset(of: everything))
                #expect(try daemon.client().getDecoded("/v1/links/\(again.id)", LinkStateResponse.self).usesLeft == 1)
            }
        }

        @Test func readersSeeTheirOwnLinksAndBadPagesAreRefused() async throws {
            try await DaemonProcess.with(start: false) { daemon in
                daemon.arguments = ["--socket-mode", "0666", "--policy", try PeerPolicy.writePolicy(in: daemon.directory)]
                try daemon.start()
                let socket = daemon.socketPath
                let mine = try PeerPolicy.curlAsNobody(socket, "POST", "/v1/links", body: #"{"resource":"/public/e","ttl":60}"#)
                #expect(mine.status == 201, "\(mine.body)")
                _ = try daemon.client().issue("/public/root", ttl: 60)
                let own = try PeerPolicy.curlAsNobody(socket, "GET", "/v1/events")
                let page = try JSONDecoder().decode(EventPage.self, from: Data(own.body.utf8))
                #expect(own.status == 200 && page.events.map(\.resource) == ["/public/e"] && page.events[0].issuerUID == 65534, "\(own.body)")
                #expect(try Self.events(daemon.client()).events.map(\.resource) == ["/public/e", "/public/root"])
                for bad in ["after=-1", "after=x", "limit=0", "limit=1001", "after=9223372036854775808"] {
                    let refused = try daemon.client().get("/v1/events?" + bad)
                    #expect(refused.status == 422 && refused.errorCode == "request.invalid", "\(bad): \(refused.text)")
                }
                let post = try daemon.client().post("/v1/events")
                #expect(post.status == 405 && post.header("Allow") == "GET", "\(post.text)")
                let check = try PeerPolicy.curlAsNobody(socket, "GET", "/v1/events?after=0")
                #expect(check.status == 200, "\(check.body)")
            }
        }

        /// A reader behind the retention is told so (410 `events.expired`), never skipped past.
        @Test func aReaderBehindTheRetentionGetsGone() async throws {
            let clock = try FakeClock()
            defer { clock.remove() }
            try await DaemonProcess.with(
                arguments: ["--event-retention", "60", "--maintenance-interval", "1"], environment: try clock.environment
            ) { daemon in
                let client = daemon.client()
                _ = try client.issue("/old", ttl: 30)
                let first = try #require(try Self.events(client).events.first?.serial)
                try clock.set(120)
                let deadline = Date().addingTimeInterval(20)
                var answer = try client.get("/v1/events?after=0")
                while answer.status == 200, Date() < deadline {
                    usleep(200_000)
                    answer = try client.get("/v1/events?after=0")
                }
                #expect(answer.status == 410 && answer.errorCode == "events.expired", "\(answer.text)")
                #expect(answer.text.contains("after=\(first)"), "\(answer.text)")
                // From the horizon on, and without `after`, reading goes on.
                #expect(try Self.events(client, after: first).events.isEmpty)
                _ = try client.issue("/new", ttl: 30)
                let page = try Self.events(client)
                #expect(page.events.map(\.resource) == ["/new"] && page.events[0].serial == first + 1)
            }
        }
    }
}
