import AuthorityCore
import AuthorityStore
import Synchronization

/// The server's copy of what a check needs (key ring, signing key, revocation index), kept
/// current by the store's change notifications, which arrive before the write that caused them is
/// acknowledged. The check path reads only this, never the store. The revocation index lives here
/// only: the store handed it over when this subscribed, and each revocation is inserted in place.
/// Beside it, under the same lock, the revocation bundle's journal of changes.
final class CurrentState: Sendable {
    private struct Held {
        /// Nil only until `subscribe` has delivered everything, which it does before returning.
        var snapshot: StoreSnapshot?
        var journal = RevocationJournal(serial: 0)
    }

    private let value = Mutex(Held())
    /// Called with each new active epoch (the metrics' gauge).
    private let onEpoch: @Sendable (UInt64) -> Void

    init(following store: any Store, onEpoch: @escaping @Sendable (UInt64) -> Void = { _ in }) {
        self.onEpoch = onEpoch
        store.subscribe { [weak self] change, serial in self?.apply(change, serial: serial) }
    }

    var snapshot: StoreSnapshot { value.withLock { $0.snapshot.unsafelyUnwrapped } }
    /// Key ring and revocations of one snapshot: all a check reads.
    var forCheck: (keyRing: KeyRing, revocations: RevocationIndex?) {
        value.withLock { ($0.snapshot.unsafelyUnwrapped.keyRing, $0.snapshot.unsafelyUnwrapped.revocations) }
    }
    var keyRing: KeyRing { value.withLock { $0.snapshot.unsafelyUnwrapped.keyRing } }
    var signing: (epoch: UInt64, key: SigningKey) { value.withLock { $0.snapshot.unsafelyUnwrapped.signing } }
    var revocations: RevocationIndex? { value.withLock { $0.snapshot.unsafelyUnwrapped.revocations } }

    /// What the revocation bundle is made of, all of one moment: the state, the serial of its
    /// content, and the changes since `base` (nil: no delta can be made from it, or none asked).
    func forBundle(since base: Int64?) -> (snapshot: StoreSnapshot, serial: Int64, changes: RevocationJournal.Changes?) {
        value.withLock { held in
            (held.snapshot.unsafelyUnwrapped, held.journal.serial, base.flatMap { held.journal.changes(since: $0) })
        }
    }

    private func apply(_ change: StoreChange, serial: Int64) {
        let epoch = value.withLock { held -> UInt64 in
            if case .everything(let snapshot) = change {
                held.snapshot = snapshot
                held.journal = RevocationJournal(serial: snapshot.serial)
            } else {
                if let entry = RevocationJournal.entry(for: change, serial: serial, before: held.snapshot!) {
                    held.journal.record(entry)
                }
                held.snapshot!.apply(change, serial: serial)
            }
            return held.snapshot!.signing.epoch
        }
        if case .revoked = change { return }
        onEpoch(epoch)
    }
}
