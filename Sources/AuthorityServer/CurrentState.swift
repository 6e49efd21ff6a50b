import AuthorityCore
import AuthorityStore
import Synchronization

/// The server's copy of what a check needs (key ring, signing key, revocation index), kept
/// current by the store's change notifications, which arrive before the write that caused them is
/// acknowledged. The check path reads only this, never the store. The revocation index lives here
/// only: the store handed it over when this subscribed, and each revocation is inserted in place.
final class CurrentState: Sendable {
    /// Nil only until `subscribe` has delivered everything, which it does before returning.
    private let value = Mutex<StoreSnapshot?>(nil)
    /// Called with each new active epoch (the metrics' gauge).
    private let onEpoch: @Sendable (UInt64) -> Void

    init(following store: any Store, onEpoch: @escaping @Sendable (UInt64) -> Void = { _ in }) {
        self.onEpoch = onEpoch
        store.subscribe { [weak self] change in self?.apply(change) }
    }

    var snapshot: StoreSnapshot { value.withLock { $0.unsafelyUnwrapped } }
    /// Key ring and revocations of one snapshot: all a check reads.
    var forCheck: (keyRing: KeyRing, revocations: RevocationIndex?) {
        value.withLock { ($0.unsafelyUnwrapped.keyRing, $0.unsafelyUnwrapped.revocations) }
    }
    var keyRing: KeyRing { value.withLock { $0.unsafelyUnwrapped.keyRing } }
    var signing: (epoch: UInt64, key: SigningKey) { value.withLock { $0.unsafelyUnwrapped.signing } }
    var revocations: RevocationIndex? { value.withLock { $0.unsafelyUnwrapped.revocations } }

    private func apply(_ change: StoreChange) {
        let epoch = value.withLock { current -> UInt64 in
            if case .everything(let snapshot) = change {
                current = snapshot
            } else {
                current!.apply(change)
            }
            return current!.signing.epoch
        }
        if case .revoked = change { return }
        onEpoch(epoch)
    }
}
