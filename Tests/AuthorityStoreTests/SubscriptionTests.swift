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

        func hear(_ change: StoreChange) {
            state.withLock { current in
                if case .everything(let snapshot) = change { current = snapshot } else { current!.apply(change) }
            }
            changes.withLock { $0.append("\(change)".prefix(while: { $0 != "(" }).description) }
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
