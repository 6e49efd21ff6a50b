import AuthorityAPI
import AuthorityTesting
import Foundation
import Testing

extension EndToEnd {
    /// State survives a clean restart and a `kill -9`.
    @Suite(.serialized) struct Persistence {
        @Test func keysRevocationsAndAuditSurviveARestart() async throws {
            try await DaemonProcess.with { daemon in
                let client = daemon.client()
                let kept = try client.issue("/p/kept.txt")
                let revoked = try client.issue("/p/revoked.txt")
                _ = try client.revoke(RevokeRequest(id: revoked.id))
                _ = try client.revoke(RevokeRequest(prefix: "/p/gone/"))
                #expect(try client.post("/v1/keys/rotate").status == 201)
                let second = try client.issue("/p/second.txt")
                let keys = try client.keys()
                let revocations = try client.allRevocations()
                let audit = try client.audit()

                #expect(try daemon.restart() == .exited(0))
                // The old keep-alive connection was closed by the old process: the client reconnects.
                #expect(try client.health().status == "ok")
                let after = daemon.client()
                let keysAfter = try after.keys()
                #expect(keysAfter.keys.map(\.kid) == ["1", "2"])
                #expect(keysAfter.keys.map(\.x) == keys.keys.map(\.x))
                #expect(keysAfter.keys.map(\.status) == ["verify_only", "active"])
                #expect(keysAfter == keys)
                #expect(try after.allRevocations() == revocations)
                #expect(try after.health().revocations == 2)
                #expect(try after.reason(kept.url) == "ok")
                #expect(try after.reason(revoked.url) == "revoked")
                #expect(try after.reason(second.url) == "ok")
                let third = try after.issue("/p/third.txt")
                #expect(third.epoch == 2)

                let auditAfter = try after.audit()
                #expect(Set(audit.map(\.id)).isSubset(of: Set(auditAfter.map(\.id))))
                #expect(auditAfter.filter { audit.contains($0) }.count == audit.count, "entries changed across the restart")

                let actions = Set(auditAfter.map(\.action))
                #expect(actions.isSuperset(of: ["keys.init", "link.issue", "keys.rotate", "revoke"]), "\(actions)")
                let byCaller = auditAfter.filter { ["link.issue", "keys.rotate", "revoke"].contains($0.action) }
                #expect(byCaller.count == 7, "\(byCaller.map(\.action))")
                #expect(byCaller.allSatisfy { $0.actorUID == 0 && $0.actorPID == getpid() }, "\(byCaller)")
                #expect(auditAfter.filter { $0.action == "link.issue" }.map(\.linkID) == [third.id, second.id, revoked.id, kept.id])
                #expect(zip(auditAfter, auditAfter.dropFirst()).allSatisfy { $0.id > $1.id }, "newest first")
            }
        }

        /// Four clients stream revocations; the daemon is killed with SIGKILL at a random moment,
        /// 20 times. Every revocation answered 201 must be listed after the restart.
        @Test func killNineLosesNoAcknowledgedRevocation() async throws {
            try await DaemonProcess.with { daemon in
                var acknowledged = Set<String>()
                var attempted = 0
                for round in 0..<20 {
                    let streamed = Self.streamRevocations(to: daemon.socketPath, after: Double.random(in: 0.2...0.8)) {
                        _ = daemon.kill9()
                    }
                    acknowledged.formUnion(streamed.acknowledged)
                    attempted += streamed.attempted
                    try daemon.start()
                    let listed = Set(try daemon.client().allRevocations().compactMap(\.id))
                    let lost = acknowledged.subtracting(listed)
                    #expect(lost.isEmpty, "round \(round): \(lost.count) acknowledged revocations lost")
                    #expect(streamed.acknowledged.count > 0, "round \(round): nothing acknowledged")
                    print("kill -9 round \(round): \(streamed.acknowledged.count) acknowledged, \(listed.count) listed in total")
                }
                let listed = try daemon.client().allRevocations()
                print("kill -9: \(attempted) revocations sent, \(acknowledged.count) acknowledged, \(listed.count) present after 20 kills")
                #expect(try daemon.client().health().revocations == listed.count)
            }
        }

        /// SIGTERM while 16 clients stream revocations: the daemon drains, commits what is
        /// queued and exits 0; every revocation answered 201 is listed after the restart.
        @Test func sigtermCommitsEveryAcknowledgedRevocation() async throws {
            try await DaemonProcess.with { daemon in
                let streamed = Self.streamRevocations(to: daemon.socketPath, clients: 16, after: 0.5) {
                    _ = daemon.terminate()
                }
                #expect(daemon.terminate() == .exited(0))  // it has exited: this reads how
                #expect(streamed.acknowledged.count > 0)
                try daemon.start()
                let listed = Set(try daemon.client().allRevocations().compactMap(\.id))
                #expect(Set(streamed.acknowledged).subtracting(listed).isEmpty)
                print("SIGTERM: \(streamed.attempted) revocations sent, \(streamed.acknowledged.count) acknowledged, \(listed.count) listed")
            }
        }

        /// Streams `{"id": random}` revocations on `clients` connections until the daemon stops
        /// answering, and runs `stop` after `delay` seconds. Returns the acknowledged ids and the
        /// number sent.
        static func streamRevocations(
            to path: String, clients: Int = 4, after delay: Double, stop: @escaping @Sendable () -> Void
        ) -> (acknowledged: [String], attempted: Int) {
            let results = onThreads(clients + 1, timeout: 60) { index -> ([String], Int) in
                guard index < clients else {
                    usleep(UInt32(delay * 1_000_000))
                    stop()
                    return ([], 0)
                }
                let client = UnixHTTPClient(path: path, timeout: 10)
                var acknowledged: [String] = []
                var attempted = 0
                let deadline = Date().addingTimeInterval(30)
                while Date() < deadline {
                    let id = Fixtures.randomLinkID()
                    attempted += 1
                    guard let response = try? client.post("/v1/revocations", json: RevokeRequest(id: id)) else { break }
                    if response.status == 201 { acknowledged.append(id) }
                }
                return (acknowledged, attempted)
            }
            let finished = results.compactMap(\.self)
            return (finished.flatMap(\.0), finished.map(\.1).reduce(0, +))
        }
    }
}
