import AuthorityCore
import AuthorityStore
import Synchronization

/// The server's copy of what a check needs (key ring, signing key, revocation index), kept
/// current by the store's change notifications, which arrive before the write that caused them is
/// acknowledged. The check path reads only this, never the store.
final class CurrentState: Sendable {
    private let value: Mutex<StoreSnapshot>

    init(following store: any Store) {
        value = Mutex(store.snapshot)
        replace(store.subscribe { [weak self] in self?.replace($0) })
    }

    var snapshot: StoreSnapshot { value.withLock { $0 } }
    /// Key ring and revocations of one snapshot: all a check reads.
    var forCheck: (keyRing: KeyRing, revocations: RevocationIndex?) { value.withLock { ($0.keyRing, $0.revocations) } }
    var keyRing: KeyRing { value.withLock { $0.keyRing } }
    var signing: (epoch: UInt64, key: SigningKey) { value.withLock { $0.signing } }
    var revocations: RevocationIndex? { value.withLock { $0.revocations } }

    /// Takes `newer` unless a later snapshot is already here (notifications may race the first read).
    private func replace(_ newer: StoreSnapshot) {
        value.withLock { if newer.generation >= $0.generation { $0 = newer } }
    }
}
