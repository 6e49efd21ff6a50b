import AuthorityAPI
import AuthorityTesting
import Foundation
import Testing

/// Use-limited and password-protected links through the real daemon over its socket.
@Suite(.serialized) struct UseLimitTests {
    static func issue(_ client: UnixHTTPClient, _ body: IssueLinkRequest) throws -> IssueLinkResponse {
        let answer = try client.post("/v1/links", json: body)
        guard answer.status == 201 else { throw HarnessError("issue answered \(answer.status): \(answer.text)") }
        return try answer.decode(IssueLinkResponse.self)
    }

    @Test func sixtyFourParallelChecksOfAOneTimeLinkGiveExactlyOneOk() async throws {
        try await DaemonProcess.with { daemon in
            for round in 0..<3 {
                let link = try Self.issue(daemon.client(), IssueLinkRequest(resource: "/once/\(round)", ttl: 600, maxUses: 1))
                // Connect all 64 first, so that the checks themselves overlap.
                let clients = Unchecked((0..<64).map { _ in daemon.client() })
                for client in clients.value { try client.connect() }
                let oks = onThreads(64) { index in
                    (try? clients.value[index].post("/v1/links/check", json: CheckLinkRequest(url: link.url))
                        .decode(CheckLinkResponse.self).valid) ?? false
                }.filter { $0 }.count
                #expect(oks == 1, "round \(round): \(oks) oks")
            }
        }
    }

    @Test func anNUseLinkGivesExactlyN() async throws {
        try await DaemonProcess.with { daemon in
            let client = daemon.client()
            let link = try Self.issue(client, IssueLinkRequest(resource: "/n", ttl: 600, maxUses: 7))
            var answers: [CheckLinkResponse] = []
            for _ in 0..<10 {
                answers.append(try client.post("/v1/links/check", json: CheckLinkRequest(url: link.url)).decode(CheckLinkResponse.self))
            }
            #expect(answers.filter(\.valid).count == 7)
            #expect(answers.prefix(7).map(\.remainingUses) == [6, 5, 4, 3, 2, 1, 0])
            #expect(answers.suffix(3).allSatisfy { $0.reason == "uses_exhausted" })
        }
    }

    /// `kill -9` while clients consume, 20 rounds: no use that was acknowledged is lost, and no
    /// link is ever used more often than it may be, across restarts.
    @Test func killNineWhileConsumingLosesNoAcknowledgedUse() async throws {
        try await DaemonProcess.with { daemon in
            let maxUses: Int64 = 5_000
            let links: [(url: String, id: String)] = try (0..<8).map { n in
                let link = try Self.issue(daemon.client(), IssueLinkRequest(resource: "/k/\(n)", ttl: 3_600, maxUses: maxUses))
                return (link.url, link.id)
            }
            var acknowledged: [String: Int64] = [:]
            for round in 0..<20 {
                // The killer runs on its own timer thread, the four clients on threads of their own.
                let pid = try #require(daemon.pid)
                DispatchQueue.global().asyncAfter(deadline: .now() + .milliseconds(40 + 15 * (round % 5))) {
                    kill(pid, SIGKILL)
                }
                let oks = onThreads(4) { worker -> [String] in
                    var used: [String] = []
                    let client = daemon.client(timeout: 5)
                    for attempt in 0..<20_000 {  // until the kill breaks the connection
                        let link = links[(worker + attempt) % links.count]
                        guard let answer = try? client.post("/v1/links/check", json: CheckLinkRequest(url: link.url))
                            .decode(CheckLinkResponse.self) else { break }
                        if answer.valid { used.append(link.id) }
                    }
                    return used
                }.flatMap { $0 }
                _ = daemon.kill9()  // reaps the process
                for id in oks { acknowledged[id, default: 0] += 1 }
                try daemon.start()
                let client = daemon.client()
                for link in links {
                    let answer = try client.post("/v1/links/check", json: CheckLinkRequest(url: link.url, consume: false))
                        .decode(CheckLinkResponse.self)
                    let used = maxUses - (answer.remainingUses ?? 0)
                    #expect(used >= acknowledged[link.id, default: 0], "round \(round): an acknowledged use was lost")
                    #expect(acknowledged[link.id, default: 0] <= maxUses, "round \(round): a link was used over its limit")
                }
            }
            print("kill -9 rounds: \(acknowledged.values.reduce(0, +)) acknowledged uses over 20 rounds")
        }
    }

    @Test func passwordsOverTheSocket() async throws {
        try await DaemonProcess.with { daemon in
            let client = daemon.client()
            let link = try Self.issue(client, IssueLinkRequest(resource: "/pw/a", ttl: 600, password: "s3cret"))
            func check(_ body: CheckLinkRequest) throws -> CheckLinkResponse {
                try client.post("/v1/links/check", json: body).decode(CheckLinkResponse.self)
            }
            #expect(try check(CheckLinkRequest(url: link.url)).reason == "password_required")
            for _ in 0..<5 { #expect(try check(CheckLinkRequest(url: link.url, password: "guess")).reason == "password_incorrect") }
            #expect(try check(CheckLinkRequest(url: link.url, password: "s3cret")).reason == "locked")
            let second = try Self.issue(client, IssueLinkRequest(resource: "/pw/b", ttl: 600, password: "s3cret"))
            let unlocked = try check(CheckLinkRequest(url: second.url, password: "s3cret"))
            let cookie = try #require(unlocked.cookie)
            #expect(unlocked.reason == "ok")
            #expect(try check(CheckLinkRequest(url: second.url, cookie: cookie)).reason == "ok")
            #expect(try check(CheckLinkRequest(url: link.url, cookie: cookie)).reason == "password_required")
            #expect(!daemon.log.contains("s3cret"), "a password reached the log")
            #expect(!daemon.log.contains(cookie), "a cookie reached the log")
        }
    }
}
