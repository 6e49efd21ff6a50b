import AuthorityAPI
import AuthorityCore
import NIOCore
import NIOHTTP1
import Testing

@testable import AuthorityServer

@Suite struct StatefulLinkTests {
    func issue(_ test: TestAuthority, _ body: IssueLinkRequest) throws -> IssueLinkResponse {
        try test.issue(body, rights: CallerRights(rights: [.admin]), peer: root)
    }

    @Test func anNUseLinkGivesExactlyNThenUsesExhausted() throws {
        let test = try TestAuthority()
        let link = try issue(test, IssueLinkRequest(resource: "/f", ttl: 600, maxUses: 3))
        #expect(link.url.contains("au_f=u"))
        #expect(try test.check(CheckLinkRequest(url: link.url, consume: false)).remainingUses == 3)
        var remaining: [Int64?] = []
        for _ in 0..<3 {
            let answer = try test.check(CheckLinkRequest(url: link.url))
            #expect(answer.reason == "ok")
            remaining.append(answer.remainingUses)
        }
        #expect(remaining == [2, 1, 0])
        let after = try test.check(CheckLinkRequest(url: link.url))
        #expect(after.reason == "uses_exhausted" && !after.valid && after.remainingUses == 0)
        #expect(try test.store.remainingUses(try #require(LinkID(link.id))) == 0)
    }

    @Test func concurrentConsumersGetExactlyTheUsesThereAre() async throws {
        let test = try TestAuthority()
        let link = try issue(test, IssueLinkRequest(resource: "/once", ttl: 600, maxUses: 5))
        let oks = try await withThrowingTaskGroup(of: Bool.self) { group in
            for _ in 0..<64 { group.addTask { try test.check(CheckLinkRequest(url: link.url)).valid } }
            return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
        }
        #expect(oks == 5)
    }

    @Test func passwordsLockAndCookiesUnlock() throws {
        let test = try TestAuthority(configure: { $0.passwordMaxFailures = 3; $0.passwordLockout = 60 })
        let link = try issue(test, IssueLinkRequest(resource: "/secret/a.pdf", ttl: 600, password: "correct horse"))
        let other = try issue(test, IssueLinkRequest(resource: "/secret/b.pdf", ttl: 600, password: "correct horse"))
        #expect(try test.check(CheckLinkRequest(url: link.url)).reason == "password_required")
        let right = try test.check(CheckLinkRequest(url: link.url, password: "correct horse"))
        #expect(right.reason == "ok")
        let cookie = try #require(right.cookie)
        #expect(right.cookieExpiresAt == test.now + 600)
        #expect(try test.check(CheckLinkRequest(url: link.url, cookie: cookie)).reason == "ok")
        #expect(try test.check(CheckLinkRequest(url: other.url, cookie: cookie)).reason == "password_required")
        var tampered = Array(cookie)
        tampered[tampered.count - 5] = tampered[tampered.count - 5] == "A" ? "B" : "A"
        #expect(try test.check(CheckLinkRequest(url: link.url, cookie: String(tampered))).reason == "password_required")
        #expect(try test.check(CheckLinkRequest(url: link.url, cookie: "garbage")).reason == "password_required")

        for _ in 0..<3 { #expect(try test.check(CheckLinkRequest(url: link.url, password: "wrong")).reason == "password_incorrect") }
        #expect(try test.check(CheckLinkRequest(url: link.url, password: "correct horse")).reason == "locked")
        #expect(try test.check(CheckLinkRequest(url: link.url, cookie: cookie)).reason == "ok")  // a cookie is not a guess
        test.now += 61
        #expect(try test.check(CheckLinkRequest(url: link.url, password: "correct horse")).reason == "ok")
        // The second lockout lasts twice as long.
        for _ in 0..<3 { _ = try test.check(CheckLinkRequest(url: link.url, password: "nope")) }
        test.now += 61
        #expect(try test.check(CheckLinkRequest(url: link.url, password: "correct horse")).reason == "locked")
        test.now += 60
        #expect(try test.check(CheckLinkRequest(url: link.url, password: "correct horse")).reason == "ok")
    }

    @Test func cookiesOfIPBoundLinksAreBoundToTheClient() throws {
        let test = try TestAuthority()
        let link = try issue(test, IssueLinkRequest(resource: "/p", ttl: 600, ip: "10.0.0.0/8", password: "pw"))
        let answer = try test.check(CheckLinkRequest(url: link.url, clientIP: "10.1.1.1", password: "pw"))
        let cookie = try #require(answer.cookie)
        #expect(try test.check(CheckLinkRequest(url: link.url, clientIP: "10.1.1.1", cookie: cookie)).reason == "ok")
        #expect(try test.check(CheckLinkRequest(url: link.url, clientIP: "10.2.2.2", cookie: cookie)).reason == "password_required")
    }

    @Test func revokingOrExpiringTheLinkEndsItsCookies() throws {
        let test = try TestAuthority()
        let link = try issue(test, IssueLinkRequest(resource: "/r", ttl: 600, password: "pw"))
        let cookie = try #require(try test.check(CheckLinkRequest(url: link.url, password: "pw")).cookie)
        _ = try test.revoke(RevokeRequest(id: link.id), peer: root)
        #expect(try test.check(CheckLinkRequest(url: link.url, cookie: cookie)).reason == "revoked")
        let plain = try issue(test, IssueLinkRequest(resource: "/q", ttl: 100))
        let requested = try test.check(CheckLinkRequest(url: plain.url, issueCookie: true))
        #expect(requested.reason == "ok" && requested.cookieExpiresAt == test.now + 100)
    }

    @Test func forwardAuthCountsUsesAndAcceptsCookies() throws {
        let test = try TestAuthority()
        let once = try issue(test, IssueLinkRequest(resource: "/dl/a.zip", ttl: 600, maxUses: 1))
        func auth(_ url: String, cookie: String? = nil) throws -> APIResponse {
            var headers: HTTPHeaders = ["X-Original-URI": url, "X-Original-Method": "GET", "X-Original-Host": "h", "X-Real-IP": "192.0.2.1"]
            if let cookie { headers.add(name: "Cookie", value: "theme=dark; \(UnlockCookie.name)=\(cookie)") }
            let request = APIRequest(head: HTTPRequestHead(version: .http1_1, method: .GET, uri: "/v1/auth/nginx", headers: headers), body: nil)
            return try Router(authority: test.authority).forwardAuth(request, on: test.loop).response()
        }
        let first = try auth(once.url)
        #expect(first.status == .noContent && first.headers.first(name: "X-Authority-Remaining-Uses") == "0")
        #expect(first.headers.first(name: "Cache-Control") == "no-store")
        let second = try auth(once.url)
        #expect(second.status == .forbidden && second.headers.first(name: "X-Authority-Reason") == "uses_exhausted")
        let protected = try issue(test, IssueLinkRequest(resource: "/dl/b.zip", ttl: 600, password: "pw"))
        #expect(try auth(protected.url).headers.first(name: "X-Authority-Reason") == "password_required")
        let cookie = try #require(try test.check(CheckLinkRequest(url: protected.url, password: "pw")).cookie)
        #expect(try auth(protected.url, cookie: cookie).status == .noContent)
    }

    @Test func expiredLinkStateIsCollected() throws {
        let test = try TestAuthority()
        _ = try issue(test, IssueLinkRequest(resource: "/g", ttl: 10, maxUses: 2, password: "pw"))
        #expect(try test.store.collectExpiredLinkState(now: test.now + 9) == 0)
        #expect(try test.store.collectExpiredLinkState(now: test.now + 10) == 2)
    }

    /// The cookie is signed by the active epoch, which may have signed no link: rotating past it
    /// used to leave it without a retire mark, and the next maintenance round retired it under
    /// the cookie.
    @Test func aCookieKeepsItsEpochFromRetiring() async throws {
        let test = try TestAuthority()
        let link = try issue(test, IssueLinkRequest(resource: "/c", ttl: 7_200, password: "pw"))
        _ = try test.administration.rotate(caller: root, on: test.loop).wait()  // epoch 2 signs no link
        let answer = try test.check(CheckLinkRequest(url: link.url, password: "pw"))
        let cookie = try #require(answer.cookie)
        #expect(cookie.hasPrefix("1.2."))
        _ = try test.administration.rotate(caller: root, on: test.loop).wait()  // epoch 2 is now verify-only
        await MaintenanceService(authority: test.authority).tick()
        #expect(test.store.keyRing.records[2]?.status == .verifyOnly)
        #expect(try test.check(CheckLinkRequest(url: link.url, cookie: cookie)).reason == "ok")
        test.now += 7_201  // past the cookie (one hour) and its mark (rounded up to the hour)
        await MaintenanceService(authority: test.authority).tick()
        #expect(test.store.keyRing.records[2]?.status == .retired)
    }

    /// 100 wrong guesses at once used to all be hashed (the lock was checked only before each was
    /// queued), keeping the password pool busy for everyone else.
    @Test func concurrentGuessesAreBoundedPerLink() async throws {
        let test = try TestAuthority(configure: { $0.passwordMaxFailures = 5 })
        let link = try issue(test, IssueLinkRequest(resource: "/g", ttl: 600, password: "right"))
        let reasons = try await withThrowingTaskGroup(of: String.self) { group in
            for _ in 0..<100 { group.addTask { try test.check(CheckLinkRequest(url: link.url, password: "wrong")).reason } }
            return try await group.reduce(into: [String]()) { $0.append($1) }
        }
        let hashed = try #require(Self.counter("authority_password_verifications_total", in: test))
        #expect(hashed <= 5 + 2, "\(hashed) guesses hashed")
        #expect(reasons.filter { $0 == "password_incorrect" }.count <= 5)
        #expect(reasons.allSatisfy { ["password_incorrect", "locked"].contains($0) })
    }

    static func counter(_ name: String, in test: TestAuthority) -> Int? {
        let text = test.authority.metrics.text(verifyCache: test.authority.checker.verifier.cache)
        let line = text.split(separator: "\n").first { $0.hasPrefix(name + " ") }
        return line.flatMap { Double($0.split(separator: " ").last ?? "").map { Int($0) } }
    }
}
