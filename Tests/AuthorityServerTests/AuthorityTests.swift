import AuthorityAPI
import AuthorityCore
import AuthorityStore
import Foundation
import Testing

@testable import AuthorityServer

@Suite struct AuthorityTests {
    func issueError(_ test: TestAuthority, _ body: IssueLinkRequest, rights: CallerRights = CallerRights(rights: [.admin])) -> APIError? {
        do {
            _ = try test.issue(body, rights: rights, peer: root)
            return nil
        } catch {
            return error as? APIError
        }
    }

    @Test func issueThenCheckThenRevoke() throws {
        let test = try TestAuthority()
        let link = try test.issue(
            IssueLinkRequest(resource: "https://cdn.example/a/b.pdf?x=1", ttl: 600), rights: CallerRights(rights: [.issue]), peer: root)
        #expect(link.epoch == 1 && link.expiresAt == test.now + 600 && link.methods == ["GET", "HEAD"])
        #expect(try test.check(CheckLinkRequest(url: link.url)).reason == "ok")
        let entry = try test.revoke(RevokeRequest(id: link.id, reason: "test"), peer: root)
        #expect(entry.kind == "id" && entry.id == link.id && entry.createdByUID == 0)
        #expect(try test.check(CheckLinkRequest(url: link.url)).reason == "revoked")
        let audit = try test.administration.audit(limit: 10, on: test.loop).wait().entries.map(\.action)
        #expect(audit == ["revoke", "link.issue", "keys.init"])
    }

    /// Issue #12: a prefix revocation used to spare links issued a second after it.
    @Test func prefixRevocationIsAStandingBlock() throws {
        let test = try TestAuthority()
        let rights = CallerRights(rights: [.issue])
        let before = try test.issue(IssueLinkRequest(resource: "/p/a", ttl: 600), rights: rights, peer: root)
        _ = try test.revoke(RevokeRequest(prefix: "/p/"), peer: root)
        test.now += 1
        #expect(issueError(test, IssueLinkRequest(resource: "/p/a", ttl: 600))?.code == .prefixBlocked)
        let parent = try test.issue(IssueLinkRequest(resource: "/", ttl: 600, prefix: true), rights: rights, peer: root)
        #expect(try test.check(CheckLinkRequest(url: before.url)).reason == "revoked")
        let under = parent.url.replacingOccurrences(of: "/?", with: "/p/b?")
        #expect(try test.check(CheckLinkRequest(url: under)).reason == "revoked")
        test.now += 86_400 * 365
        try test.store.collectRevocations(now: test.now)
        #expect(test.store.revocations?.isBlocked(path: "/p/a", issuedAt: test.now) == true)
    }

    @Test func issueValidation() throws {
        let test = try TestAuthority()
        #expect(issueError(test, IssueLinkRequest(resource: "/a"))?.code == .invalidRequest)  // no ttl
        #expect(issueError(test, IssueLinkRequest(resource: "/a", ttl: 5, expiresAt: test.now + 5))?.code == .invalidRequest)
        #expect(issueError(test, IssueLinkRequest(resource: "/a", ttl: 604_801))?.code == .invalidRequest)
        #expect(issueError(test, IssueLinkRequest(resource: "/a", ttl: 0))?.code == .invalidRequest)
        #expect(issueError(test, IssueLinkRequest(resource: "/a", expiresAt: test.now))?.code == .invalidRequest)
        #expect(issueError(test, IssueLinkRequest(resource: "/a", methods: ["PATCH"], ttl: 5))?.code == .invalidRequest)
        #expect(issueError(test, IssueLinkRequest(resource: "/a", methods: [], ttl: 5))?.code == .invalidRequest)
        #expect(issueError(test, IssueLinkRequest(resource: "/a", ttl: 5, ip: "10.0.0.1/8"))?.code == .invalidRequest)
        #expect(issueError(test, IssueLinkRequest(resource: "/a b", ttl: 5))?.code == .invalidRequest)
        #expect(issueError(test, IssueLinkRequest(resource: "/a?x=1", ttl: 5, prefix: true))?.code == .invalidRequest)
        #expect(issueError(test, IssueLinkRequest(resource: "/a", ttl: 5, notBefore: test.now + 5))?.code == .invalidRequest)
        #expect(issueError(test, IssueLinkRequest(resource: "/a", ttl: 5, maxUses: 0))?.code == .invalidRequest)
        #expect(issueError(test, IssueLinkRequest(resource: "/a", ttl: 5, password: ""))?.code == .invalidRequest)
        #expect(issueError(test, IssueLinkRequest(resource: "/a", ttl: 5, bindHost: true))?.code == .invalidRequest)
        #expect(try test.administration.audit(limit: 10, on: test.loop).wait().entries.count == 1)  // nothing issued
    }

    @Test func issuePrefixesLimitWhereACallerMayIssue() throws {
        let test = try TestAuthority()
        let limited = CallerRights(rights: [.issue], issuePrefixes: ["/uploads/"])
        #expect(issueError(test, IssueLinkRequest(resource: "/uploads/a.bin", ttl: 5), rights: limited) == nil)
        #expect(issueError(test, IssueLinkRequest(resource: "/private/a.bin", ttl: 5), rights: limited)?.code == .forbidden)
        #expect(issueError(test, IssueLinkRequest(resource: "/uploads", ttl: 5, prefix: true), rights: limited)?.code == .forbidden)
        #expect(issueError(test, IssueLinkRequest(resource: "/uploads/%2e%2e/x", ttl: 5), rights: limited)?.code == .invalidRequest)
    }

    @Test func revocationValidationAndSwitchingOff() throws {
        let test = try TestAuthority()
        for body in [RevokeRequest(), RevokeRequest(id: "short"), RevokeRequest(id: "AAAAAAAAAAAAAAAAAAAAAA", prefix: "/a"),
                     RevokeRequest(prefix: "/a//b"), RevokeRequest(issuedBefore: -1),
                     RevokeRequest(prefix: "/a", reason: String(repeating: "r", count: 501))] {
            #expect(throws: APIError.self) { try test.revoke(body, peer: root) }
        }
        let off = try TestAuthority(configure: { $0.revocationsEnabled = false })
        #expect(throws: APIError.self) { try off.revoke(RevokeRequest(prefix: "/"), peer: root) }
        #expect(try off.administration.health().wait().revocations == nil)
    }

    @Test func retireMapsKeyRingErrors() throws {
        let test = try TestAuthority()
        _ = try test.issue(IssueLinkRequest(resource: "/a", ttl: 600), rights: CallerRights(rights: [.issue]), peer: root)
        #expect(try test.administration.rotate(caller: root, on: test.loop).wait() == RotateResponse(epoch: 2, previousEpoch: 1))
        func code(_ epoch: UInt64, force: Bool) -> APIErrorCode? {
            do {
                _ = try test.administration.retire(epoch: epoch, force: force, caller: root, on: test.loop).wait()
                return nil
            } catch {
                return (error as? APIError)?.code
            }
        }
        #expect(code(1, force: false) == .keyLiveLinks)
        #expect(code(2, force: true) == .keyActive)
        #expect(code(9, force: true) == .keyNotFound)
        #expect(code(1, force: true) == nil)
        #expect(code(1, force: true) == .keyAlreadyRetired)
        #expect(try test.administration.keys().wait().keys.map(\.status) == ["retired", "active"])
    }

    @Test func maintenanceRotatesAndRetiresOnSchedule() async throws {
        let test = try TestAuthority(configure: { $0.rotationInterval = 3600 })
        let service = MaintenanceService(authority: test.authority)
        _ = try test.issue(IssueLinkRequest(resource: "/a", ttl: 60), rights: CallerRights(rights: [.issue]), peer: root)
        await service.tick()
        #expect(test.store.keyRing.activeEpoch == 1)
        test.now += 3600
        await service.tick()
        #expect(test.store.keyRing.activeEpoch == 2)
        let retireAfter = try #require(test.store.keyRing.records[1]?.retireAfter)
        #expect(retireAfter <= test.now)  // the 60 s link has expired: epoch 1 is retired in the same round
        #expect(test.store.keyRing.records[1]?.status == .retired)
    }
}

@Suite struct ExplainRouteTests {
    @Test func explainNamesTheDecisiveCheckAndShowsNoSignature() throws {
        let test = try TestAuthority()
        let link = try test.issue(IssueLinkRequest(resource: "/docs/a.pdf", ttl: 60), rights: CallerRights(rights: [.issue]), peer: root)
        let tampered = link.url.replacingOccurrences(of: "/docs/a.pdf", with: "/docs/b.pdf")
        let answer = try test.authority.checker.explain(ExplainLinkRequest(url: tampered)).get()
        #expect(answer.reason == "bad_signature" && !answer.valid)
        #expect(answer.checks.filter(\.decisive).map(\.name) == ["signature"])
        #expect(answer.grant?.path == "/docs/b.pdf")
        let signature = String(link.url[link.url.range(of: "au_sig=")!.upperBound...])
        let encoded = String(decoding: try JSONEncoder().encode(answer), as: UTF8.self)
        #expect(!encoded.contains(signature))
        #expect(answer.signedMessage?.hasPrefix("authority-link-v1\n") == true)
        test.now += 61
        let expired = try test.authority.checker.explain(ExplainLinkRequest(url: link.url)).get()
        #expect(expired.checks.filter(\.decisive).map(\.name) == ["expiry"])
        let malformed = try test.authority.checker.explain(ExplainLinkRequest(url: "/x")).get()
        #expect(malformed.reason == "malformed" && malformed.grant == nil && malformed.checks.first?.decisive == true)
    }
}
