import AuthorityAPI
import AuthorityTesting
import Foundation
import Testing

extension EndToEnd {
    /// `GET /v1/links/{id}` and `ref` through the real daemon (issue #18).
    @Suite(.serialized) struct LinkStates {
        @Test func aLinksStateFollowsItsUsesAndItsRevocation() async throws {
            try await DaemonProcess.with { daemon in
                let client = daemon.client()
                let before = unixNow()
                let link = try client.issue(IssueLinkRequest(
                    resource: "https://files.example/img/cat.jpg?size=2", ttl: 600, bindHost: true, maxUses: 2,
                    ref: "image:42/cat"))
                #expect(link.ref == "image:42/cat")
                var state = try client.getDecoded("/v1/links/\(link.id)", LinkStateResponse.self)
                #expect(state.id == link.id && state.status == "active" && state.ref == "image:42/cat")
                #expect(state.resource == "/img/cat.jpg" && !state.prefix && state.host == "files.example")
                #expect(state.methods == ["GET", "HEAD"] && state.epoch == link.epoch && state.expiresAt == link.expiresAt)
                #expect(state.issuedAt >= before && state.issuerUID == getuid() && !state.password && !state.cookie)
                #expect(state.maxUses == 2 && state.uses == 0 && state.usesLeft == 2 && state.revokedBy.isEmpty)

                for _ in 0..<2 { #expect(try client.reason(link.url) == "ok") }
                state = try client.getDecoded("/v1/links/\(link.id)", LinkStateResponse.self)
                #expect(state.status == "used_up" && state.uses == 2 && state.usesLeft == 0)

                // A rule deeper than a prefix link's prefix does not end it; one covering it does.
                let folder = try client.issue(IssueLinkRequest(resource: "/share/7/", ttl: 600, prefix: true))
                _ = try client.revoke(RevokeRequest(prefix: "/share/7/private/"))
                #expect(try client.getDecoded("/v1/links/\(folder.id)", LinkStateResponse.self).status == "active")
                let covering = try client.revoke(RevokeRequest(prefix: "/share/"))
                let byID = try client.revoke(RevokeRequest(id: folder.id))
                state = try client.getDecoded("/v1/links/\(folder.id)", LinkStateResponse.self)
                #expect(state.status == "revoked" && state.prefix && state.revokedBy == [covering.serial, byID.serial], "\(state)")

                // The audit entry carries the reference.
                let issued = try client.audit().first { $0.linkID == link.id && $0.action == "link.issue" }
                #expect(issued?.detail?.contains("ref image:42/cat") == true, "\(String(describing: issued))")
            }
        }

        /// Allowed forward-auth answers carry the issuer's ref, also after a restart; refusals never
        /// (some proxies hand them to the client), nor answers about a link whose signature failed.
        @Test func forwardAuthAnswersCarryTheRef() async throws {
            try await DaemonProcess.with { daemon in
                func auth(_ url: String, method: String = "GET") throws -> HTTPResponse {
                    try daemon.client().request("GET", "/v1/auth/nginx", headers: [
                        ("X-Original-URI", url), ("X-Original-Method", method), ("X-Original-Host", "files.example"),
                        ("X-Real-IP", "192.0.2.1"),
                    ])
                }
                let link = try daemon.client().issue(IssueLinkRequest(resource: "/r/a.jpg", ttl: 600, ref: "order:9/a"))
                let plain = try daemon.client().issue("/r/b.jpg", ttl: 600)
                var allowed = try auth(link.url)
                #expect(allowed.status == 204 && allowed.header("X-Authority-Ref") == "order:9/a", "\(allowed.headers)")
                let refused = try auth(link.url, method: "DELETE")
                #expect(refused.status == 403 && refused.header("X-Authority-Ref") == nil, "\(refused.headers)")
                let forged = try auth(link.url.replacingOccurrences(of: "au_sig=", with: "au_sig=A"))
                #expect(forged.status != 204 && forged.header("X-Authority-Ref") == nil, "\(forged.headers)")
                #expect(try auth(plain.url).header("X-Authority-Ref") == nil)
                _ = try daemon.restart()
                allowed = try auth(link.url)
                #expect(allowed.status == 204 && allowed.header("X-Authority-Ref") == "order:9/a", "after a restart: \(allowed.headers)")
            }
        }

        @Test func badIDsRefsAndUnknownLinksGetClearErrors() async throws {
            try await DaemonProcess.with { daemon in
                let client = daemon.client()
                for bad in ["", " spaced", String(repeating: "r", count: 129), "caf\u{E9}", "tab\there", "line\nbreak"] {
                    let refused = try client.post("/v1/links", json: IssueLinkRequest(resource: "/a", ttl: 60, ref: bad))
                    #expect(refused.status == 422 && refused.errorCode == "request.invalid", "\(bad.debugDescription): \(refused.text)")
                }
                #expect(try client.issue(IssueLinkRequest(resource: "/a", ttl: 60, ref: String(repeating: "r", count: 128))).ref?.count == 128)

                let unknown = try client.get("/v1/links/AAAAAAAAAAAAAAAAAAAAAA")
                #expect(unknown.status == 404 && unknown.errorCode == "link.not_found", "\(unknown.text)")
                for bad in ["/v1/links/short", "/v1/links/AAAAAAAAAAAAAAAAAAAAA%41", "/v1/links/AAAAAAAAAAAAAAAAAAAAA="] {
                    let refused = try client.get(bad)
                    #expect(refused.status == 422 && refused.errorCode == "request.invalid", "\(bad): \(refused.text)")
                }
                let deeper = try client.get("/v1/links/AAAAAAAAAAAAAAAAAAAAAA/uses")
                #expect(deeper.status == 404 && deeper.errorCode == "route.not_found", "\(deeper.text)")
                let delete = try client.request("DELETE", "/v1/links/AAAAAAAAAAAAAAAAAAAAAA")
                #expect(delete.status == 405 && delete.header("Allow") == "GET", "\(delete.text)")
            }
        }

        @Test func authorityctlIssuesWithARefAndShowsTheLink() async throws {
            try await DaemonProcess.with { daemon in
                let link = try daemon.ctlIssue("/img/dog.jpg", "--max-uses", "1", "--ref", "image:7")
                let id = try #require(queryValue(link, "au_id"))
                #expect(try daemon.client().reason(link) == "ok")
                let shown = Ctl.expect(try daemon.ctl("links", "show", id), 0)
                for line in ["status      used_up", "ref         image:7", "resource    /img/dog.jpg", "uses        1 of 1 used, 0 left"] {
                    #expect(shown.stdout.contains(line + "\n"), "\(line): \(shown.stdout)")
                }
                #expect(!shown.stdout.contains("au_sig"), "the link was printed")
                let json = try Ctl.decode(LinkStateResponse.self, Ctl.expect(try daemon.ctl("--json", "links", "show", id), 0))
                #expect(json.ref == "image:7" && json.status == "used_up")

                Ctl.expectAPIError(try daemon.ctl("links", "show", "AAAAAAAAAAAAAAAAAAAAAA"), 5, "link.not_found")
                let usage = Ctl.expect(try daemon.ctl("links", "show", "not-an-id"), 2)
                #expect(usage.stderr.contains("22 base64url characters"), "\(usage)")
                let badRef = try daemon.ctl("issue", "/img/x.jpg", "--ref", "has space")
                Ctl.expectAPIError(badRef, 5, "request.invalid")
            }
        }

        /// A caller sees the state of the links it issued only; the admin right sees every link.
        @Test func aCallerSeesOnlyItsOwnLinks() async throws {
            try await DaemonProcess.with(start: false) { daemon in
                daemon.arguments = ["--socket-mode", "0666", "--policy", try PeerPolicy.writePolicy(in: daemon.directory)]
                try daemon.start()
                let socket = daemon.socketPath
                let issued = try PeerPolicy.curlAsNobody(
                    socket, "POST", "/v1/links", body: #"{"resource":"/public/n","ttl":60,"ref":"mine"}"#)
                #expect(issued.status == 201, "\(issued.body)")
                let own = try JSONDecoder().decode(IssueLinkResponse.self, from: Data(issued.body.utf8))
                let mine = try PeerPolicy.curlAsNobody(socket, "GET", "/v1/links/\(own.id)")
                #expect(mine.status == 200 && mine.body.contains(#""ref":"mine""#) && mine.body.contains(#""issuer_uid":65534"#), "\(mine.body)")

                let roots = try daemon.client().issue("/public/root", ttl: 60)
                let other = try PeerPolicy.curlAsNobody(socket, "GET", "/v1/links/\(roots.id)")
                #expect(other.status == 404 && other.errorCode == "link.not_found", "\(other.body)")
                // Root is admin: it sees the other caller's link.
                #expect(try daemon.client().getDecoded("/v1/links/\(own.id)", LinkStateResponse.self).issuerUID == 65534)
            }
        }
    }
}
