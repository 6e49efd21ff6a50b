import AuthorityCore
import AuthorityStore
import AuthorityTesting
import Foundation
import Logging
import Synchronization
import Testing

@testable import AuthorityPostgres

/// Two stores (two daemons' worth) on one real PostgreSQL cluster: what one writes, the other
/// holds; uses are counted exactly once between them; PostgreSQL going away fails writes closed.
@Suite(.serialized) struct FleetStoreTests {
    static func open(_ cluster: PostgresCluster, keyFile: String, state: String) async throws -> PostgresStore {
        var logger = Logger(label: "fleet-test")
        logger.logLevel = .warning
        return try await PostgresStore.open(
            StoreConfiguration(stateDirectory: state, masterKeyFile: keyFile), location: try PostgresLocation(parsing: cluster.url),
            now: Int64(Date().timeIntervalSince1970), logger: logger)
    }

    static func result<T: Sendable>(_ body: (@escaping @Sendable (Result<T, any Error>) -> Void) -> Void) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in body { continuation.resume(with: $0) } }
    }

    /// Waits up to `seconds` for `condition`; returns how long it took.
    static func within(_ seconds: Double, _ condition: () -> Bool) async throws -> Double {
        let start = ContinuousClock.now
        while !condition() {
            if ContinuousClock.now - start > .milliseconds(Int(seconds * 1_000)) { throw ClusterError("not within \(seconds) s") }
            try await Task.sleep(for: .milliseconds(10))
        }
        let elapsed = ContinuousClock.now - start
        return Double(elapsed.components.attoseconds) / 1e18 + Double(elapsed.components.seconds)
    }

    @Test func twoDaemonsShareKeysRevocationsAndUsesAndFailClosedWithoutPostgres() async throws {
        let cluster = try PostgresCluster()
        defer { cluster.remove() }
        let directory = try TemporaryDirectory("au-fleet")
        defer { directory.remove() }
        let keyFile = directory.path + "/master.key"
        try Fixtures.writeMasterKey(to: keyFile)
        let a = try await Self.open(cluster, keyFile: keyFile, state: directory.path + "/a")
        let b = try await Self.open(cluster, keyFile: keyFile, state: directory.path + "/b")
        defer {
            a.close()
            b.close()
        }
        #expect(a.signingKey.epoch == 1 && b.signingKey.epoch == 1)
        #expect(a.signingKey.key.publicKey == b.signingKey.key.publicKey, "one first epoch for the fleet")

        // A one-time link issued on A: 64 concurrent uses spread over A and B give one.
        let now = Int64(Date().timeIntervalSince1970)
        let id = LinkID.random()
        try await Self.result { a.recordIssue(epoch: 1, expiresAt: now + 600, linkID: id, detail: nil, state: LinkState(maxUses: 1), now: now, caller: .daemon, completion: $0) }
        let outcomes = try await withThrowingTaskGroup(of: UseOutcome.self) { group in
            for index in 0..<64 {
                let store = index % 2 == 0 ? a : b
                group.addTask { try await Self.result { store.consumeUse(id, completion: $0) } }
            }
            return try await group.reduce(into: [UseOutcome]()) { $0.append($1) }
        }
        #expect(outcomes.filter { $0 == .used(remaining: 0) }.count == 1)
        #expect(outcomes.filter { $0 == .exhausted }.count == 63)

        // A revocation written on A reaches B's subscriber within a second.
        let heard = Mutex<[Revocation]>([])
        b.subscribe { change, _ in
            if case .revoked(let revocation) = change { heard.withLock { $0.append(revocation) } }
        }
        let revoked = LinkID.random()
        _ = try await Self.result { a.revoke(.id(revoked), reason: "test", now: now, caller: .daemon, completion: $0) }
        let propagation = try await Self.within(1) { heard.withLock { $0 }.contains(.id(revoked)) }
        #expect(propagation < 1)

        // A rotation on B: A signs with the new epoch within a second.
        let epoch = try b.rotate(now: now, caller: .daemon)
        #expect(epoch == 2)
        _ = try await Self.within(1) { a.signingKey.epoch == 2 }
        #expect(a.signingKey.key.publicKey == b.signingKey.key.publicKey)
        #expect(a.version.serial == b.version.serial || abs(a.version.serial - b.version.serial) < 10)

        // PostgreSQL gone: writes fail at once as storage trouble (503), and say so.
        try cluster.stop()
        do {
            _ = try await Self.result { a.revoke(.prefix("/gone/"), reason: nil, now: now, caller: .daemon, completion: $0) }
            Issue.record("a revocation was acknowledged without PostgreSQL")
        } catch {
            #expect(a.storageTrouble(error) != nil, "\(error)")
        }
        _ = try await Self.within(5) { a.unavailableReason != nil }
        let outcome = try? await Self.result { b.consumeUse(id, completion: $0) }
        #expect(outcome == nil, "a use counted without PostgreSQL")

        // Back: the next writes succeed after the reconnect, and both hold the same state.
        try cluster.start()
        var record: RevocationRecord?
        for _ in 0..<100 where record == nil {
            record = try? await Self.result { a.revoke(.prefix("/back/"), reason: nil, now: now, caller: .daemon, completion: $0) }
            if record == nil { try await Task.sleep(for: .milliseconds(100)) }
        }
        #expect(record != nil)
        _ = try await Self.within(2) { heard.withLock { $0 }.contains(.prefix("/back/")) }
        #expect(a.unavailableReason == nil)
        let report = try a.verifyIntegrity()
        #expect(report.problem == nil, "\(report)")
    }
}
