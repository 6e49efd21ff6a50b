import AuthorityAPI
import AuthorityTesting
import Foundation
import Testing

/// Fleet mode end to end: real daemons on one real PostgreSQL cluster (docs/fleet.md).
extension EndToEnd {
    @Suite(.serialized) struct FleetTests {
        /// 64 consuming checks of a one-time link, 8 per daemon on 8 daemons, all connected
        /// before any is sent: exactly one `ok`, every other answer `uses_exhausted`.
        @Test func sixtyFourUsesOverEightDaemonsGiveOneOk() async throws {
            try await Fleet.with(count: 8) { fleet in
                for round in 0..<3 {
                    let link = try fleet.daemons[round].client().issue(IssueLinkRequest(resource: "/once/\(round)", ttl: 600, maxUses: 1))
                    let clients = Unchecked((0..<64).map { fleet.daemons[$0 % 8].client() })
                    for client in clients.value { try client.connect() }
                    let tallies = onThreads(64) { index -> Tally in
                        var tally = Tally()
                        do { try clients.value[index].consume(link, into: &tally) } catch { tally.broken += 1 }
                        return tally
                    }
                    var total = Tally()
                    for tally in tallies { total.add(tally ?? Tally(broken: 1)) }
                    #expect(total.acknowledged[link.id] == 1, "round \(round): \(total)")
                    #expect(total.refused == ["uses_exhausted": 63], "round \(round): \(total)")
                    #expect(total.unavailable == 0 && total.broken == 0, "round \(round): \(total)")
                }
            }
        }

        /// A revocation acknowledged by one daemon is effective on all 8 within a second, and so
        /// is a rotation: every daemon signs with the new epoch.
        @Test func revocationsAndRotationReachEveryDaemonWithinASecond() async throws {
            try await Fleet.with(count: 8) { fleet in
                let clients = fleet.clients()
                var slowest = 0.0
                for round in 0..<5 {
                    let link = try clients[round].issue("/r/\(round)", ttl: 600)
                    for client in clients { #expect(try client.reason(link.url) == "ok") }
                    _ = try clients[(round + 3) % 8].revoke(RevokeRequest(id: link.id))
                    let acknowledged = Date()
                    for (index, client) in clients.enumerated() {
                        while try client.reason(link.url) != "revoked" {
                            guard Date().timeIntervalSince(acknowledged) < 5 else {
                                Issue.record("round \(round): daemon \(index) still accepts a revoked link after 5 s")
                                break
                            }
                            usleep(5_000)
                        }
                    }
                    slowest = max(slowest, Date().timeIntervalSince(acknowledged))
                }
                #expect(slowest < 1, "a revocation took \(slowest) s to reach every daemon")

                let rotated = try clients[5].post("/v1/keys/rotate")
                #expect(rotated.status == 201, "\(rotated.text)")
                let epoch = try rotated.decode(RotateResponse.self).epoch
                let acknowledged = Date()
                for (index, client) in clients.enumerated() {
                    while try client.issue("/rot/\(index)", ttl: 60).epoch != epoch {
                        guard Date().timeIntervalSince(acknowledged) < 5 else {
                            Issue.record("daemon \(index) still signs with an old epoch 5 s after the rotation")
                            break
                        }
                        usleep(5_000)
                    }
                }
                let took = Date().timeIntervalSince(acknowledged)
                #expect(took < 1, "the rotation took \(took) s to reach every daemon")
                for client in clients { #expect(try client.health().activeEpoch == epoch) }
            }
        }

        /// `kill -9` of one of four daemons while all four consume: nothing acknowledged is
        /// lost, no link is used over its limit, and every daemon counts the same uses.
        @Test func killNineOfADaemonUnderLoadLosesNoAcknowledgedUse() async throws {
            try await Fleet.with(count: 4) { fleet in
                let maxUses: Int64 = 100_000
                let links = try (0..<4).map { try fleet.daemons[0].client().issue(IssueLinkRequest(resource: "/k/\($0)", ttl: 3_600, maxUses: maxUses)) }
                var spent: [String: Int64] = [:]
                for round in 0..<3 {
                    let victim = Unchecked(fleet.daemons[1 + round % 3])
                    let deadline = Date().addingTimeInterval(4)
                    let sockets = fleet.daemons.map(\.socketPath)
                    let restarted = Locked<String?>(nil)
                    // Eight consumers, two per daemon; the ninth thread kills the victim after
                    // 0.6 s and starts it again on the same state directory.
                    let tallies = onThreads(9) { worker -> Tally in
                        var tally = Tally()
                        if worker == 8 {
                            usleep(600_000)
                            _ = victim.value.kill9()
                            do { try victim.value.start(timeout: 60) } catch { restarted.withLock { $0 = "\(error)" } }
                            return tally
                        }
                        let client = UnixHTTPClient(path: sockets[worker % 4], timeout: 5)
                        var attempt = 0
                        while Date() < deadline {
                            let broken = tally.broken
                            do { try client.consume(links[(worker + attempt) % 4], into: &tally) } catch { tally.broken += 1 }
                            if tally.broken > broken { usleep(20_000) }  // the victim is down: wait for it
                            attempt += 1
                        }
                        return tally
                    }
                    #expect(restarted.withLock { $0 } == nil, "round \(round): \(restarted.withLock { $0 } ?? "")")
                    var total = Tally()
                    for tally in tallies { total.add(try #require(tally)) }
                    #expect(total.refused.isEmpty && total.unavailable == 0, "round \(round): \(total.refused), \(total.unavailable) unavailable")
                    #expect(total.broken > 0, "round \(round): the kill broke no connection")
                    for link in links {
                        let acknowledged = total.acknowledged[link.id, default: 0]
                        let left = try fleet.daemons.map { try #require(try $0.client().remainingUses(link)) }
                        #expect(Set(left).count == 1, "round \(round): the daemons disagree on the uses left: \(left)")
                        let used = maxUses - (left.first ?? maxUses)
                        #expect(used >= acknowledged, "round \(round): \(acknowledged) acknowledged, \(used) counted: a use was lost")
                        #expect(acknowledged > 0, "round \(round): no use of \(link.id) was acknowledged")
                        spent[link.id, default: 0] += acknowledged
                        #expect(used >= spent[link.id, default: 0], "round \(round): fewer uses counted than acknowledged over all rounds")
                    }
                }
                // The restarted daemons serve uses again.
                for client in fleet.clients() {
                    var step = Tally()
                    try client.consume(links[0], into: &step)
                    #expect(step.acknowledged[links[0].id] == 1, "\(step)")
                }
            }
        }

        /// PostgreSQL stopped and started again under load (three daemons, `--max-staleness 2`):
        /// while it is down, consuming checks and writes answer 503 `storage.unavailable`,
        /// stateless checks answer from memory until the staleness limit and 503 after it, a
        /// revoked link is never `ok`, health says degraded; after the restart every daemon
        /// serves uses again, and no acknowledged use is lost or over the limit.
        @Test func postgresRestartUnderLoadFailsClosedAndLosesNothing() async throws {
            try await Fleet.with(count: 3, arguments: ["--max-staleness", "2"]) { fleet in
                let first = fleet.daemons[0].client()
                let maxUses: Int64 = 1_000_000
                let counted = try first.issue(IssueLinkRequest(resource: "/pg/counted", ttl: 3_600, maxUses: maxUses))
                let plain = try first.issue("/pg/plain", ttl: 3_600)
                let revoked = try first.issue("/pg/revoked", ttl: 3_600)
                let cors = try first.issue(IssueLinkRequest(resource: "/pg/cors/", ttl: 3_600, prefix: true, origins: ["https://app.example"]))
                _ = try fleet.daemons[2].client().revoke(RevokeRequest(id: revoked.id))
                usleep(1_000_000)  // one poll at most: every daemon knows of the revocation

                let sockets = fleet.daemons.map(\.socketPath)
                let phase = Locked(0)  // 0 up, 1 down, 3 down past the staleness limit, 2 up again
                let stopping = Locked(false)
                // Three consumers and three stateless checkers (one of each per daemon) record what they
                // got per phase; the seventh thread stops PostgreSQL, writes and asks for health while
                // it is down, and starts it again.
                let work = Locked<[String: Int]>([:])
                let threads = onThreads(7) { worker -> Tally in
                    var tally = Tally()
                    if worker == 6 {
                        usleep(700_000)
                        try? fleet.cluster.stop()
                        phase.withLock { $0 = 1 }
                        usleep(800_000)
                        let write = try? UnixHTTPClient(path: sockets[1]).post("/v1/revocations", json: RevokeRequest(prefix: "/pg/x/"))
                        work.withLock { $0["down-revoke-\(write.map { "\($0.status) \($0.errorCode ?? "")" } ?? "broken")"] = 1 }
                        // A daemon whose only query was in flight as PostgreSQL went away notices at the
                        // job deadline; health is degraded by then, or once its state passes the 2 s
                        // staleness limit, whichever comes first.
                        let healthBy = Date().addingTimeInterval(3)
                        var health = try? UnixHTTPClient(path: sockets[2]).health()
                        while health?.status != "degraded" && Date() < healthBy {
                            usleep(100_000)
                            health = try? UnixHTTPClient(path: sockets[2]).health()
                        }
                        work.withLock { $0["down-health-\(health?.status ?? "none")"] = 1 }
                        usleep(2_500_000)  // past the 2 s staleness limit
                        phase.withLock { $0 = 3 }  // late in the outage: stateless checks must fail closed now
                        // A CORS preflight is a check too: refused as unavailable, never passed or called revoked.
                        let preflight = try? UnixHTTPClient(path: sockets[0]).request("OPTIONS", "/v1/auth/nginx", headers: [
                            ("X-Original-URI", cors.url), ("X-Original-Method", "OPTIONS"), ("X-Original-Host", "files.example"),
                            ("X-Real-IP", "192.0.2.1"), ("Origin", "https://app.example"), ("Access-Control-Request-Method", "GET"),
                        ])
                        work.withLock { $0["down-preflight-\(preflight.map { "\($0.status) \($0.header("X-Authority-Reason") ?? "")" } ?? "broken")"] = 1 }
                        usleep(500_000)
                        try? fleet.cluster.start()
                        phase.withLock { $0 = 2 }
                        // The reconnect back-off is at most 5 s; a query lost as the connection
                        // closed costs the engine's 10 s job deadline. Then load for 2 s more.
                        let back = Date().addingTimeInterval(20)
                        while Date() < back && (work.withLock { $0["phase2-consume-ok"] ?? 0 }) < 3 { usleep(100_000) }
                        usleep(2_000_000)
                        stopping.withLock { $0 = true }
                        return tally
                    }
                    let client = UnixHTTPClient(path: sockets[worker % 3], timeout: 10)
                    while !stopping.withLock({ $0 }) {
                        let now = phase.withLock { $0 }
                        if worker < 3 {
                            var step = Tally()
                            do { try client.consume(counted, into: &step) } catch { step.broken += 1 }
                            let seen = step.acknowledged.isEmpty ? (step.unavailable > 0 ? "503" : "other") : "ok"
                            if (now == 1 || now == 3) && seen == "ok" { work.withLock { $0["down-consume-ok", default: 0] += 1 } }
                            work.withLock { $0["phase\(now)-consume-\(seen)", default: 0] += 1 }
                            tally.add(step)
                        } else {
                            for (name, link) in [("plain", plain), ("revoked", revoked)] {
                                let answer = try? client.post("/v1/links/check", json: CheckLinkRequest(url: link.url))
                                let seen = answer.map { $0.status == 200 ? ((try? $0.decode(CheckLinkResponse.self).reason) ?? "?") : "\($0.status)" } ?? "broken"
                                work.withLock { $0["phase\(now)-\(name)-\(seen)", default: 0] += 1 }
                            }
                            usleep(20_000)
                        }
                    }
                    return tally
                }
                let seen = work.withLock { $0 }
                #expect(seen["down-consume-ok"] == nil, "a use was acknowledged while PostgreSQL was down: \(seen)")
                #expect((seen["phase1-consume-503"] ?? 0) > 0, "\(seen)")
                #expect(seen["down-revoke-503 storage.unavailable"] == 1, "\(seen)")
                #expect(seen["down-health-degraded"] == 1, "\(seen)")
                #expect(seen["down-preflight-403 unavailable"] == 1, "\(seen)")
                #expect((seen["phase1-plain-ok"] ?? 0) > 0, "stateless checks should answer from memory at first: \(seen)")
                #expect(seen["phase3-plain-ok"] == nil && (seen["phase3-plain-503"] ?? 0) > 0, "past the staleness limit: \(seen)")
                #expect(seen.keys.filter { $0.hasSuffix("revoked-ok") }.isEmpty, "a revoked link was accepted: \(seen)")
                #expect((seen["phase2-consume-ok"] ?? 0) > 0, "\(seen)")

                var total = Tally()
                for tally in threads { total.add(try #require(tally)) }
                // Every daemon serves uses again, agrees on the count, and lost none.
                let left = try fleet.daemons.map { try #require(try $0.client().remainingUses(counted)) }
                #expect(Set(left).count == 1, "the daemons disagree on the uses left: \(left)")
                #expect(maxUses - left[0] >= total.acknowledged[counted.id, default: 0], "an acknowledged use was lost: \(total), left \(left)")
                for (index, client) in fleet.clients().enumerated() {
                    var step = Tally()
                    let deadline = Date().addingTimeInterval(10)
                    while step.acknowledged.isEmpty && Date() < deadline {
                        try client.consume(counted, into: &step)
                        if step.acknowledged.isEmpty { usleep(100_000) }
                    }
                    #expect(step.acknowledged[counted.id] == 1, "daemon \(index) serves no use 10 s after the restart: \(step)")
                    #expect(try client.health().status == "ok")
                }
            }
        }
    }
}
