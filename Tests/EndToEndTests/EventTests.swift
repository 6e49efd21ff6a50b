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

        /// A short-lived link: `expired` on the stream within a maintenance round of its expiry;
        /// a link for longer than `--expiring-soon`: `expiring_soon` first.
        @Test func expiriesComeOnTheStream() async throws {
            try await DaemonProcess.with(arguments: ["--maintenance-interval", "1", "--expiring-soon", "60"]) { daemon in
                let stream = UnixHTTPClient(path: daemon.socketPath, timeout: 15)
                #expect(try stream.openEventStream().status == 200)
                let short = try daemon.client().issue(IssueLinkRequest(resource: "/x/short", ttl: 2, ref: "short"))
                let soon = try daemon.client().issue(IssueLinkRequest(resource: "/x/soon", ttl: 62))
                let frames = try Self.frames(stream, 4)
                let told = frames.filter { $0.event.kind != "issued" }
                #expect(Set(told.map { "\($0.event.kind) \($0.event.linkID)" }) == ["expired \(short.id)", "expiring_soon \(soon.id)"], "\(frames)")
                let expired = try #require(told.first { $0.event.kind == "expired" })
                #expect(expired.event.at >= short.expiresAt && expired.event.at <= short.expiresAt + 3 && expired.event.ref == "short")
                #expect(try daemon.client().getDecoded("/v1/links/\(short.id)", LinkStateResponse.self).status == "expired")
            }
        }

        /// A plain link's checks write nothing per request: 300 checks through nginx cost at most
        /// one commit per second (the activity flush); its first use becomes one
        /// `first_used` event, and its state shows the first and last use and the last refusal.
        @Test func aPlainLinksChecksWriteNothingAndItsFirstUseIsToldOnce() async throws {
            try await DaemonProcess.with(arguments: ["--socket-mode", "0666"]) { daemon in
                let (nginx, base, _) = try NginxTests().startNginx(in: daemon.directory, socket: daemon.socketPath)
                defer { nginx.terminate() }
                let client = daemon.client()
                let plain = try client.issue(IssueLinkRequest(resource: "/files/public.txt", ttl: 600, ref: "plain"))
                let stream = UnixHTTPClient(path: daemon.socketPath, timeout: 15)
                #expect(try stream.openEventStream().status == 200)
                #expect(try Self.frames(stream, 1).map(\.event.kind) == ["issued"])
                func commits() throws -> Double {
                    let line = try client.get("/metrics").text.split(separator: "\n").first { $0.hasPrefix("authority_commits_total ") }
                    return Double(line?.split(separator: " ").last ?? "") ?? -1
                }
                let before = try commits()
                let started = Date()
                for _ in 0..<300 { #expect(try curl(base + plain.url).status == 200) }
                let during = try commits() - before
                let seconds = Date().timeIntervalSince(started)
                #expect(during <= seconds.rounded(.up) + 1, "\(during) commits for 300 checks of a plain link in \(seconds) s")
                let told = try Self.frames(stream, 1)
                #expect(told.map { "\($0.event.kind) \($0.event.ref ?? "")" } == ["first_used plain"], "\(told)")
                // A refusal after the signature held is the link's last refusal.
                #expect(try curl(base + plain.url, method: "DELETE").status == 403)
                let deadline = Date().addingTimeInterval(10)
                var state = try client.getDecoded("/v1/links/\(plain.id)", LinkStateResponse.self)
                while state.lastRefused == nil, Date() < deadline {
                    usleep(200_000)
                    state = try client.getDecoded("/v1/links/\(plain.id)", LinkStateResponse.self)
                }
                #expect(state.lastRefused == "method_not_allowed" && state.uses == 300, "\(state)")
                #expect(state.firstUsedAt == told.first?.event.at && (state.lastUsedAt ?? 0) >= (state.firstUsedAt ?? .max))
                // No second first_used: the next frame is the next event.
                _ = try client.issue("/files/next", ttl: 60)
                #expect(try Self.frames(stream, 1).map(\.event.resource) == ["/files/next"])
            }
        }

        /// A policy reload ends every stream: it was filtered with the rights it was opened with.
        @Test func aPolicyReloadEndsTheStreams() async throws {
            try await DaemonProcess.with(start: false) { daemon in
                daemon.arguments = ["--policy", try PeerPolicy.writePolicy(in: daemon.directory)]
                try daemon.start()
                let stream = UnixHTTPClient(path: daemon.socketPath, timeout: 10)
                #expect(try stream.openEventStream().status == 200)
                _ = try daemon.client().issue("/p/a", ttl: 60)
                #expect(try Self.frames(stream, 1).map(\.event.resource) == ["/p/a"])
                daemon.signal(SIGHUP)
                #expect(try stream.nextFrame() == nil, "the stream outlived the policy it was filtered by")
                #expect(try daemon.client().health().status == "ok")
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
                // From the horizon on, and without `after`, reading goes on: the link's expiry was
                // told after its issue, and is kept.
                #expect(try Self.events(client, after: first).events.map(\.kind) == ["expired"])
                _ = try client.issue("/new", ttl: 30)
                let page = try Self.events(client)
                #expect(page.events.map { "\($0.kind) \($0.resource)" } == ["expired /old", "issued /new"], "\(page.events)")
                #expect(page.events.map(\.serial) == [first + 1, first + 2])
            }
        }

        /// A database restored from a backup gives out again serials a reader already saw: a
        /// reader past the newest event is told so (410 `events.ahead`), on a page and on the
        /// stream, instead of waiting past the events the restored store now writes.
        @Test func aReaderAheadOfARestoredDatabaseIsTold() async throws {
            try await DaemonProcess.with { daemon in
                let client = daemon.client()
                _ = try client.issue("/kept", ttl: 600)
                let backup = daemon.directory + "/backup.sqlite"
                let database = daemon.stateDirectory + "/authority.sqlite"
                #expect(try run("/usr/bin/sqlite3", [database, ".timeout 10000", ".backup \(backup)"]).0 == 0)
                _ = try client.issue("/lost/1", ttl: 600)
                _ = try client.issue("/lost/2", ttl: 600)
                let seen = try #require(try Self.events(client).events.last?.serial)
                #expect(try daemon.terminate() == .exited(0))
                for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: database + suffix) }
                try FileManager.default.copyItem(atPath: backup, toPath: database)
                daemon.arguments = ["--adopt-database"]
                try daemon.start()
                let reused = try daemon.client().issue("/after-restore", ttl: 600)
                let answer = try daemon.client().get("/v1/events?after=\(seen)")
                #expect(answer.status == 410 && answer.errorCode == "events.ahead", "\(answer.text)")
                let stream = UnixHTTPClient(path: daemon.socketPath, timeout: 10)
                let head = try stream.openEventStream(headers: [("Last-Event-ID", "\(seen)")])
                let body = String(decoding: try stream.streamBody(head), as: UTF8.self)
                #expect(head.status == 410 && body.contains("events.ahead"), "\(head.status) \(body)")
                // The message names where to resume (the oldest kept): the restored store's new
                // event is there, under a serial the reader had seen for another.
                #expect(answer.text.contains("after=0"), "\(answer.text)")
                let page = try Self.events(daemon.client(), after: 0)
                #expect(page.events.map(\.resource) == ["/kept", "/after-restore"], "\(page.events)")
                #expect(page.events.last?.linkID == reused.id && page.events.last?.serial ?? 0 <= seen)
            }
        }

        /// Reads frames until `count` arrived (or the stream ends); each frame's event decoded.
        static func frames(_ stream: UnixHTTPClient, _ count: Int) throws -> [(id: String?, event: LinkEventBody)] {
            var got: [(id: String?, event: LinkEventBody)] = []
            while got.count < count, let frame = try stream.nextFrame() {
                got.append((frame.id, try JSONDecoder().decode(LinkEventBody.self, from: Data(frame.data.utf8))))
            }
            return got
        }

        /// The stream delivers each event as its write is acknowledged, with `id` = serial and
        /// `event` = kind; a reader that reconnects with `Last-Event-ID` after a kill -9 of the
        /// daemon misses nothing and sees nothing twice; a drain ends the stream and the daemon
        /// exits at once.
        @Test func theStreamResumesFromLastEventIDAcrossAKill() async throws {
            try await DaemonProcess.with { daemon in
                let stream = UnixHTTPClient(path: daemon.socketPath, timeout: 10)
                let head = try stream.openEventStream("/v1/events?after=0")
                #expect(head.status == 200 && head.header("Content-Type") == "text/event-stream", "\(head.headers)")
                #expect(head.header("Cache-Control") == "no-store" && head.header("Transfer-Encoding") == "chunked")
                let client = daemon.client()
                let once = try client.issue(IssueLinkRequest(resource: "/s/one", ttl: 600, maxUses: 1, ref: "s1"))
                #expect(try client.reason(once.url) == "ok")
                let first = try Self.frames(stream, 4)
                #expect(first.map(\.event.kind) == ["issued", "first_used", "used", "used_up"], "\(first)")
                #expect(first.allSatisfy { $0.id == String($0.event.serial) && $0.event.linkID == once.id && $0.event.ref == "s1" })
                let lastSeen = try #require(first.last?.id)

                // Events written while nobody reads, then a kill -9: all there on reconnection, once.
                let folder = try client.issue(IssueLinkRequest(resource: "/s/dir/", ttl: 600, prefix: true))
                _ = try client.revoke(RevokeRequest(prefix: "/s/"))
                stream.close()
                _ = daemon.kill9()
                try daemon.start()
                let resumed = UnixHTTPClient(path: daemon.socketPath, timeout: 10)
                #expect(try resumed.openEventStream(headers: [("Last-Event-ID", lastSeen)]).status == 200)
                let after = try Self.frames(resumed, 2)
                #expect(after.map { "\($0.event.kind) \($0.event.resource)" } == ["issued /s/dir/", "revoked /s/dir/"], "\(after)")
                #expect(after.allSatisfy { Int64($0.id ?? "") ?? 0 > Int64(lastSeen) ?? 0 && $0.event.linkID == folder.id })
                // Nothing more is owed: the next frame is a new event.
                _ = try daemon.client().issue("/t/later", ttl: 60)
                let later = try Self.frames(resumed, 1)
                #expect(later.map(\.event.resource) == ["/t/later"], "\(later)")

                // SIGTERM with the stream open: the stream ends, the daemon exits 0.
                let started = Date()
                daemon.signal(SIGTERM)
                #expect(try resumed.nextFrame() == nil)
                #expect(daemon.waitForExit(timeout: 10) == .exited(0))
                #expect(Date().timeIntervalSince(started) < 5, "the drain waited on the stream")
            }
        }

        @Test func aStreamThatCannotStartIsAnsweredAsJSON() async throws {
            let clock = try FakeClock()
            defer { clock.remove() }
            try await DaemonProcess.with(environment: try clock.environment, start: false) { daemon in
                daemon.arguments = [
                    "--event-retention", "60", "--maintenance-interval", "1", "--socket-mode", "0666",
                    "--policy", try PeerPolicy.writePolicy(in: daemon.directory),
                ]
                try daemon.start()
                try Self.streamRefusals(daemon, clock)
            }
        }

        /// (Synchronous: the compiler's region analysis crashes on this body inside the async closure.)
        static func streamRefusals(_ daemon: DaemonProcess, _ clock: FakeClock) throws {
            for bad in ["x", "-1", "9223372036854775808", "1.5", "+1", "0x10"] {
                let stream = UnixHTTPClient(path: daemon.socketPath)
                let head = try stream.openEventStream(headers: [("Last-Event-ID", bad)])
                let body = String(decoding: try stream.streamBody(head), as: UTF8.self)
                #expect(head.status == 422 && body.contains("request.invalid"), "\(bad): \(head.status) \(body)")
            }
            // A caller's stream carries its own links' events only.
            _ = try PeerPolicy.curlAsNobody(daemon.socketPath, "POST", "/v1/links", body: #"{"resource":"/public/s","ttl":60}"#)
            _ = try daemon.client().issue("/public/root", ttl: 60)
            let (status, output, _) = try run("/usr/bin/setpriv", [
                "--reuid", PeerPolicy.nobody, "--regid", PeerPolicy.nobody, "--clear-groups", "/usr/bin/curl", "-sN",
                "--max-time", "2", "-H", "Accept: text/event-stream", "--unix-socket", daemon.socketPath,
                "http://localhost/v1/events",
            ])
            #expect(status == 28 && output.contains("/public/s") && !output.contains("/public/root"), "\(status) \(output)")

            // Behind the retention: 410 before anything is streamed.
            try clock.set(120)
            let deadline = Date().addingTimeInterval(20)
            var answer = (status: 200, body: "")
            while answer.status == 200 && Date() < deadline {
                usleep(200_000)
                let stream = UnixHTTPClient(path: daemon.socketPath)
                let head = try stream.openEventStream(headers: [("Last-Event-ID", "0")])
                answer = (head.status, head.status == 200 ? "" : String(decoding: try stream.streamBody(head), as: UTF8.self))
            }
            #expect(answer.status == 410 && answer.body.contains("events.expired"), "\(answer)")
        }

        /// `authorityctl events` prints the kept events; `--follow` streams them and reconnects
        /// by itself after a kill -9 of the daemon, printing each event once.
        @Test func authorityctlPrintsAndFollowsTheEvents() async throws {
            try await DaemonProcess.with { daemon in
                let client = daemon.client()
                let first = try client.issue(IssueLinkRequest(resource: "/c/a", ttl: 600, ref: "c-a"))
                _ = try client.issue("/c/b", ttl: 600)
                let printed = Ctl.expect(try daemon.ctl("events"), 0)
                #expect(printed.lines.count == 2 && printed.lines[0].contains("issued  \(first.id)  /c/a  ref=c-a"), "\(printed)")
                let json = Ctl.expect(try daemon.ctl("--json", "events", "--after", "1"), 0)
                let decoded = try json.lines.map { try JSONDecoder().decode(LinkEventBody.self, from: Data($0.utf8)) }
                #expect(decoded.map(\.resource) == ["/c/b"], "\(json)")
                Ctl.expect(try daemon.ctl("events", "--after", "-1"), 2)

                let output = daemon.directory + "/follow.out"
                let follower = try ChildProcess(
                    [Ctl.executable, "--socket", daemon.socketPath, "--json", "events", "--follow", "--after", "2"],
                    environment: ProcessInfo.processInfo.environment, stdout: output, stderr: daemon.directory + "/follow.err")
                defer { _ = follower.terminate() }
                func followed(_ count: Int) -> [LinkEventBody] {
                    let deadline = Date().addingTimeInterval(15)
                    var events: [LinkEventBody] = []
                    repeat {
                        let text = (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
                        events = text.split(separator: "\n").compactMap { try? JSONDecoder().decode(LinkEventBody.self, from: Data($0.utf8)) }
                        if events.count >= count { break }
                        usleep(100_000)
                    } while Date() < deadline
                    return events
                }
                let once = try client.issue(IssueLinkRequest(resource: "/c/once", ttl: 600, maxUses: 1))
                #expect(try client.reason(once.url) == "ok")
                #expect(followed(4).map(\.kind) == ["issued", "first_used", "used", "used_up"])
                _ = daemon.kill9()
                try daemon.start()
                _ = try daemon.client().issue("/c/after-restart", ttl: 600)
                let all = followed(5)
                #expect(all.map(\.serial) == Array(3...7), "each once, in order: \(all.map(\.serial))")
                #expect(all.last?.resource == "/c/after-restart")
                #expect(follower.exitStatus == nil, "the follower gave up")
            }
        }
    }
}
