import AuthorityAPI
import AuthorityTesting
import Foundation
import Testing

/// Issue #17: one link opens a whole preview site in a real headless Chromium, through nginx and
/// through Caddy configured as docs/browsing.md documents (docs/examples/nginx-browsing.conf,
/// Caddyfile-browsing), with the real daemon behind them.
@Suite(.serialized)
struct BrowserTests {
    enum Proxy { case nginx, caddy }

    @Test func onePreviewLinkOpensTheSiteThroughNginx() async throws { try await previewScenario(.nginx) }

    @Test func onePreviewLinkOpensTheSiteThroughCaddy() async throws { try await previewScenario(.caddy) }

    /// The browser follows the link, lands on the address without it, and every asset loads on
    /// the grant cookie; a second profile without the link gets 401 for each; the revocation of
    /// the link ends the cookie at the next request.
    func previewScenario(_ kind: Proxy) async throws {
        try await DaemonProcess.with(arguments: ["--socket-mode", "0666", "--grant-cookie-insecure"]) { daemon in
            let root = daemon.directory + "/www"
            try Browsing.createSite(root: root)
            let proxy = kind == .nginx
                ? try BrowsingProxy.nginx(in: daemon.directory, socket: daemon.socketPath, root: root)
                : try BrowsingProxy.caddy(in: daemon.directory, socket: daemon.socketPath, root: root)
            defer { proxy.stop() }
            let client = daemon.client()
            let link = try client.issue(IssueLinkRequest(
                resource: proxy.base + "/preview/site/", ttl: 3_600, prefix: true, bindHost: true, cookie: true))
            let landing = proxy.base + "/preview/site/"
            let reviewer = Chromium(profile: daemon.directory + "/profile-reviewer")

            let dom = try reviewer.dumpDOM(link.url)
            let marker = Chromium.marker(dom)
            if marker != "all-loaded " + landing {
                let shot = reviewer.screenshot(landing, name: "preview-\(kind)")
                Issue.record("the page did not load everything: \(marker ?? "no marker") (screenshot: \(shot))\n\(proxy.accessLog.suffix(2_000))")
            }
            #expect(marker.map { !$0.contains("au_") } ?? false, "a reserved parameter stayed in the address")

            if kind == .nginx {
                // Exactly one request carried the token: the 303; every asset then passed on the cookie.
                let lines = proxy.accessLog.split(separator: "\n")
                #expect(lines.filter { $0.contains("au_") }.count == 1 && lines.first { $0.contains("au_") }?.contains("\" 303 ") == true)
                for asset in Browsing.assets {
                    #expect(lines.contains { $0.contains("\"GET \(asset)\" 200 ") }, "\(asset) not served: \(lines)")
                }
                #expect(!proxy.accessLog.contains(try #require(queryValue(link.url, "au_sig"))), "a signature reached the log")
            }

            // Another profile, without the link: the page and every asset are refused.
            let stranger = Chromium(profile: daemon.directory + "/profile-stranger")
            #expect(Chromium.marker(try stranger.dumpDOM(landing)) == nil, "the page opened without the link")
            for asset in Browsing.assets {
                let answer = try curl(proxy.local + asset, headers: [("Host", String(proxy.base.dropFirst("http://".count)))])
                #expect(answer.status == 401, "\(asset) without the link: \(answer.status)")
            }

            // The revocation reaches the cookie at once.
            let before = proxy.accessLog.split(separator: "\n").count
            #expect(try client.post("/v1/revocations", json: RevokeRequest(id: link.id)).status == 201)
            #expect(Chromium.marker(try reviewer.dumpDOM(landing)) == nil, "the revoked link's cookie still opens the page")
            if kind == .nginx {
                let after = proxy.accessLog.split(separator: "\n").dropFirst(before)
                #expect(after.first?.contains("\"GET /preview/site/\" 403 ") == true && !after.contains { $0.contains("\" 200 ") },
                        "\(after)")
            }
        }
    }
}
