import AuthorityAPI
import AuthorityTesting
import Foundation
import Testing

/// Issue #17: a real player (ffmpeg) reads an HLS stream through nginx configured as
/// docs/browsing.md documents, with a path-carried token or a grant cookie, and nothing without
/// one; renewal and the hard maximum with the daemon's clock shifted (libfaketime).
@Suite(.serialized)
struct PlayerTests {
    /// `(path, status)` of every access log line of nginx-browsing.conf's format.
    static func requests(_ log: String) -> [(path: String, status: Int)] {
        log.split(separator: "\n").compactMap { line in
            guard let open = line.firstIndex(of: "\""), let close = line[line.index(after: open)...].firstIndex(of: "\"") else { return nil }
            let request = line[line.index(after: open)..<close].split(separator: " ")
            let status = line[line.index(after: close)...].split(separator: " ").first.flatMap { Int($0) }
            guard request.count == 2, let status else { return nil }
            return (String(request[1]), status)
        }
    }

    @Test func aPlayerFollowsAPathTokenOrAGrantCookieAndNothingElse() async throws {
        try await DaemonProcess.with(arguments: ["--socket-mode", "0666"]) { daemon in
            let root = daemon.directory + "/www"
            let segments = try Browsing.createStream(root: root)
            #expect(segments.count == 4, "\(segments)")
            let nginx = try BrowsingProxy.nginx(in: daemon.directory, socket: daemon.socketPath, root: root)
            defer { nginx.stop() }
            let client = daemon.client()
            var seen = 0
            /// The requests logged since the last call.
            func newRequests() -> [(path: String, status: Int)] {
                let all = Self.requests(nginx.accessLog)
                defer { seen = all.count }
                return Array(all.dropFirst(seen))
            }

            // A path-carried token: the relative segment URLs inherit it.
            let byPath = try client.issue(IssueLinkRequest(resource: "/media/42/", ttl: 600, prefix: true))
            let pathURL = try #require(byPath.pathURL)
            let played = try Browsing.play(nginx.local + pathURL + "master.m3u8")
            #expect(played.status == 0, "\(played)")
            let pathRequests = newRequests()
            for segment in segments {
                #expect(pathRequests.contains { $0.path == "/~au/REDACTED/media/42/\(segment)" && [200, 206].contains($0.status) },
                        "\(segment): \(pathRequests)")
            }

            // A grant cookie: the first answer sends the player on without the token.
            let byCookie = try client.issue(IssueLinkRequest(resource: "/media/42/", ttl: 600, prefix: true, cookie: true))
            let master = originForm(byCookie.url).replacingOccurrences(of: "/media/42/?", with: "/media/42/master.m3u8?")
            let cookiePlay = try Browsing.play(nginx.local + master)
            #expect(cookiePlay.status == 0, "\(cookiePlay)")
            let cookieRequests = newRequests()
            #expect(cookieRequests.first?.status == 303, "\(cookieRequests)")
            for segment in segments {
                #expect(cookieRequests.contains { $0.path == "/media/42/\(segment)" && [200, 206].contains($0.status) },
                        "\(segment): \(cookieRequests)")
            }

            // Nothing without either.
            let bare = try Browsing.play(nginx.local + "/media/42/master.m3u8")
            #expect(bare.status != 0 && bare.stderr.contains("401"), "\(bare)")
            #expect(newRequests().map(\.status) == [401])

            // Revoked: the very next request is refused, so not one segment more is served.
            _ = try client.revoke(RevokeRequest(id: byPath.id))
            _ = try client.revoke(RevokeRequest(id: byCookie.id))
            for url in [pathURL + "master.m3u8", pathURL + segments[2], master] {
                let after = try Browsing.play(nginx.local + url)
                #expect(after.status != 0 && after.stderr.contains("403"), "\(after)")
            }
            #expect(newRequests().map(\.status) == [403, 403, 403])
            let log = nginx.accessLog
            #expect(!log.contains(pathURL.split(separator: "/")[1]), "a path-carried token reached the access log")
            #expect(!log.contains(try #require(queryValue(byCookie.url, "au_sig"))), "a signature reached the access log")
        }
    }

    /// CORS through nginx-browsing.conf: a preflight of a path token passes for a listed origin
    /// only and uses no use; answers name the origin; cookie answers allow credentials with it.
    @Test func preflightsAndOriginsThroughNginx() async throws {
        try await DaemonProcess.with(arguments: ["--socket-mode", "0666"]) { daemon in
            let root = daemon.directory + "/www"
            let segments = try Browsing.createStream(root: root)
            let nginx = try BrowsingProxy.nginx(in: daemon.directory, socket: daemon.socketPath, root: root)
            defer { nginx.stop() }
            let client = daemon.client()
            let app = "https://app.example"
            let once = try client.issue(IssueLinkRequest(
                resource: "/media/42/", ttl: 600, prefix: true, maxUses: 1, origins: [app]))
            let playlist = nginx.local + (try #require(once.pathURL)) + "master.m3u8"
            func preflight(_ origin: String, method: String = "GET") throws -> (status: Int, headers: [String: String], body: String) {
                try curl(playlist, method: "OPTIONS", headers: [("Origin", origin), ("Access-Control-Request-Method", method)])
            }
            for _ in 0..<3 {
                let passed = try preflight(app)
                #expect(passed.status == 204, "\(passed)")
                #expect(passed.headers["access-control-allow-origin"] == app)
                #expect(passed.headers["access-control-allow-methods"] == "GET,HEAD")
                #expect(passed.headers["access-control-allow-headers"] == "Range")
            }
            let evil = try preflight("https://evil.example")
            #expect(evil.status == 403 && evil.headers["access-control-allow-origin"] == nil, "\(evil)")
            #expect(try preflight(app, method: "DELETE").status == 403)
            #expect(try curl(nginx.local + "/media/42/master.m3u8", method: "OPTIONS",
                             headers: [("Origin", app), ("Access-Control-Request-Method", "GET")]).status == 401)
            // The three preflights used no use: the one use serves the real request, which names the origin.
            let real = try curl(playlist, headers: [("Origin", app)])
            #expect(real.status == 200 && real.headers["access-control-allow-origin"] == app, "\(real.status)")
            #expect(real.headers["cache-control"] == "private, no-store", "no shared cache may keep it: \(real.headers)")
            #expect(try curl(playlist, headers: [("Origin", app)]).status == 403)

            // A cookie link: its answers allow credentials for the listed origin only.
            let cookieLink = try client.issue(IssueLinkRequest(
                resource: "/media/42/", ttl: 600, prefix: true, cookie: true, origins: [app]))
            let first = try curl(nginx.local + cookieLink.url)  // origin form already (originForm would cut at au_o's ://)
            let pair = try #require(first.headers["set-cookie"]?.split(separator: ";").first.map(String.init), "\(first.status) \(first.headers)")
            let segment = nginx.local + "/media/42/" + segments[0]
            let credentialed = try curl(segment, headers: [("Cookie", pair), ("Origin", app)])
            #expect(credentialed.status == 200 && credentialed.headers["access-control-allow-origin"] == app)
            #expect(credentialed.headers["access-control-allow-credentials"] == "true")
            let foreign = try curl(segment, headers: [("Cookie", pair), ("Origin", "https://evil.example")])
            #expect(foreign.status == 200 && foreign.headers["access-control-allow-origin"] == nil)
            #expect(foreign.headers["access-control-allow-credentials"] == nil)
            #expect(credentialed.headers["cache-control"] == "private, no-store" && credentialed.headers["vary"] == "Origin, Cookie")

            // A 405 that is not a preflight stays a 405 (a POST the link allows, to a static file):
            // only an OPTIONS reaches the preflight answer.
            let poster = try client.issue(IssueLinkRequest(
                resource: "/media/42/", methods: ["GET", "POST"], ttl: 600, prefix: true, origins: [app]))
            let posted = try curl(nginx.local + (try #require(poster.pathURL)) + "master.m3u8", method: "POST", headers: [("Origin", app)])
            #expect(posted.status == 405 && posted.headers["access-control-allow-methods"] == nil, "\(posted)")


            // nginx decodes `/%7Eau/` to its `/~au/` location and serves what follows the segment:
            // a link for the whole site must not reach a revoked prefix that way.
            let whole = try client.issue(IssueLinkRequest(resource: "/", ttl: 600, prefix: true))
            _ = try client.revoke(RevokeRequest(prefix: "/media/42/"))
            let query = String(whole.url[whole.url.firstIndex(of: "?")!...])
            #expect(try curl(nginx.local + "/media/42/master.m3u8" + query).status == 403)
            let encoded = try curl(nginx.local + "/%7Eau/eA/media/42/master.m3u8" + query)
            #expect(encoded.status == 401 && encoded.headers["x-authority-reason"] == "malformed", "\(encoded.status) \(encoded.headers)")
        }
    }

    /// Sliding renewal through nginx with the daemon's clock moved: the cookie is renewed when
    /// less than half of --grant-cookie-idle is left, never past the link's expiry, and dies there.
    @Test func renewalSlidesAndStopsAtTheHardMaximum() async throws {
        let clock = try FakeClock()
        defer { clock.remove() }
        try await DaemonProcess.with(
            arguments: ["--socket-mode", "0666", "--grant-cookie-idle", "600"], environment: try clock.environment
        ) { daemon in
            let root = daemon.directory + "/www"
            _ = try Browsing.createStream(root: root)
            let nginx = try BrowsingProxy.nginx(in: daemon.directory, socket: daemon.socketPath, root: root)
            defer { nginx.stop() }
            let link = try daemon.client().issue(IssueLinkRequest(resource: "/media/42/", ttl: 1_300, prefix: true, cookie: true))
            func get(_ path: String, cookie: String?) throws -> (status: Int, cookie: String?, maxAge: String?) {
                let answer = try curl(nginx.local + path, headers: cookie.map { [("Cookie", $0)] } ?? [])
                let setCookie = answer.headers["set-cookie"]
                let parts = setCookie?.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) } ?? []
                return (answer.status, parts.first, parts.first { $0.hasPrefix("Max-Age=") })
            }
            let first = try get(originForm(link.url), cookie: nil)
            #expect(first.status == 303 && first.maxAge == "Max-Age=600")
            let original = try #require(first.cookie)
            try clock.set(200)
            let early = try get("/media/42/seg0.ts", cookie: original)
            #expect(early.status == 200 && early.cookie == nil)
            try clock.set(400)
            let renewal = try get("/media/42/seg1.ts", cookie: original)
            #expect(renewal.status == 200 && renewal.maxAge == "Max-Age=600")
            let renewed = try #require(renewal.cookie)
            try clock.set(750)
            #expect(try get("/media/42/seg2.ts", cookie: original).status == 403)
            let capped = try get("/media/42/seg2.ts", cookie: renewed)
            let cappedAge = capped.maxAge.flatMap { Int($0.dropFirst("Max-Age=".count)) } ?? 0
            #expect(capped.status == 200 && (500...550).contains(cappedAge), "capped at the link's expiry: \(String(describing: capped.maxAge))")
            try clock.set(1_100)
            let last = try get("/media/42/seg3.ts", cookie: try #require(capped.cookie))
            #expect(last.status == 200 && last.cookie == nil, "renewed past the hard maximum")
            try clock.set(1_300)
            #expect(try get("/media/42/seg3.ts", cookie: try #require(capped.cookie)).status == 403)
        }
    }
}
