import AuthorityCore
import AuthorityTesting
import Synchronization
import Testing

@testable import AuthorityStore

/// What a subscriber hears, and that the store hands its revocation index over rather than keep a
/// second reference to it (with two holders, every revocation would copy the whole index).
@Suite struct SubscriptionTests {
    final class Heard: Sendable {
        let state = Mutex<StoreSnapshot?>(nil)
        let changes = Mutex<[String]>([])
        let serials = Mutex<[Int64]>([])

        func hear(_ change: StoreChange, serial: Int64) {
            state.withLock { current in
                if case .everything(let snapshot) = change { current = snapshot } else { current!.apply(change, serial: serial) }
            }
            changes.withLock { $0.append("\(change)".prefix(while: { $0 != "(" }).description) }
            serials.withLock { $0.append(serial) }
        }
    }

    @Test func everythingFirstThenEachChangeBeforeTheCompletion() async throws {
        try await TemporaryDirectory.with { dir in
            let store = try open(dir)
            defer { store.close() }
            try store.revoke(.prefix("/before/"), reason: nil, now: t0, caller: .daemon)
            let heard = Heard()
            store.subscribe(heard.hear)
            #expect(heard.changes.withLock { $0 } == ["everything"])
            #expect(heard.state.withLock { $0?.revocations?.isBlocked(path: "/before/x", issuedAt: t0) } == true)
            // Handed over: the store keeps no second reference to the index.
            #expect(store.shared.withLock { $0.handedOver && $0.revocations == nil })
            let id = LinkID.random()
            let record = try store.revoke(.id(id), reason: nil, now: t0, caller: .daemon)
            // Heard before the write returned (its completion ran after the notification).
            #expect(heard.state.withLock { $0?.revocations?.isRevoked(id: id, path: "/a", issuedAt: t0) } == true)
            _ = try store.rotate(now: t0, caller: .daemon)
            #expect(heard.state.withLock { $0?.signing.epoch } == 2)
            _ = try store.liftRevocation(serial: record.id, reason: nil, now: t0, caller: .daemon)
            #expect(heard.state.withLock { $0?.revocations?.isRevoked(id: id, path: "/a", issuedAt: t0) } == false)
            #expect(heard.changes.withLock { $0 } == ["everything", "revoked", "keys", "revocations"])
            // The store's own view now comes from the database, and says the same.
            #expect(store.revocations?.isBlocked(path: "/before/x", issuedAt: t0) == true)
            #expect(store.revocations?.isRevoked(id: id, path: "/a", issuedAt: t0) == false)
            // A later subscriber gets the committed index.
            let later = Heard()
            store.subscribe(later.hear)
            #expect(later.state.withLock { $0?.revocations?.isBlocked(path: "/before/x", issuedAt: t0) } == true)
            #expect(later.state.withLock { $0?.signing.epoch } == 2)
        }
    }

    /// The revocation bundle's serial (docs/revocation-bundle.md §1): each change has its own,
    /// growing, also for writes that share one batch, and a state's serial says which changes it
    /// holds.
    @Test func eachChangeHasItsOwnGrowingSerialAlsoInOneBatch() async throws {
        try await TemporaryDirectory.with { dir in
            let store = try open(dir)
            defer { store.close() }
            let heard = Heard()
            store.subscribe(heard.hear)
            #expect(heard.serials.withLock { $0 } == [store.version.serial])
            // 64 revocations submitted at once: the group commit batches them (usually in a few
            // transactions; the serials must grow whatever the batching).
            let done = Mutex(0)
            let ids = (0..<64).map { _ in LinkID.random() }
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                for id in ids {
                    store.revoke(.id(id), reason: nil, now: t0, caller: .daemon) { result in
                        if case .failure(let error) = result { return continuation.resume(throwing: error) }
                        if done.withLock({ $0 += 1; return $0 }) == ids.count { continuation.resume() }
                    }
                }
            }
            let serials = heard.serials.withLock { $0 }
            #expect(serials.count == 65)
            #expect(zip(serials, serials.dropFirst()).allSatisfy { $0 < $1 }, "\(serials)")
            #expect(serials.last == store.version.serial)
            #expect(heard.state.withLock { $0?.serial } == store.version.serial)
        }
    }

    @Test func withoutARevocationListThereIsNoIndexToHandOver() async throws {
        try await TemporaryDirectory.with { dir in
            let store = try open(dir, revocations: false)
            defer { store.close() }
            let heard = Heard()
            store.subscribe(heard.hear)
            #expect(heard.state.withLock { $0 != nil && $0?.revocations == nil })
            #expect(store.revocations == nil)
        }
    }
}
