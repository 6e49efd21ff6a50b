import AuthorityCore

/// The state a check needs: the key ring, the active signing key and the revocation index (nil
/// when the revocation list is switched off).
public struct StoreSnapshot: Sendable {
    public var keyRing: KeyRing
    public var signing: (epoch: UInt64, key: SigningKey)
    public var revocations: RevocationIndex?
    /// The store's version serial (`Store.version`) as of the last change this state reflects:
    /// it only grows, and two states with the same serial are the same state.
    public var serial: Int64

    public init(
        keyRing: KeyRing, signing: (epoch: UInt64, key: SigningKey), revocations: RevocationIndex?, serial: Int64 = 0
    ) {
        self.keyRing = keyRing
        self.signing = signing
        self.revocations = revocations
        self.serial = serial
    }

    /// `change` applied: a revocation is inserted in place (the index is copied only if someone
    /// else holds it at that moment), a replacement replaces.
    public mutating func apply(_ change: StoreChange, serial: Int64) {
        self.serial = max(self.serial, serial)
        switch change {
        case .everything(let snapshot): self = snapshot
        case .keys(let ring, let signing):
            keyRing = ring
            self.signing = signing
        case .revoked(let revocation): revocations?.insert(revocation)
        case .revocations(let index): revocations = index
        }
    }
}

/// What a subscriber of a store hears: first everything, then each change, each with the version
/// serial right after the write that made it (a batch of writes gives each its own). Changes are small (one
/// revocation, not the whole index) so that the subscriber's copy is changed in place, never
/// copied, and hearing one twice blocks nothing more (only the index's `count` would tell).
public enum StoreChange: Sendable {
    /// The whole state: the first thing a subscriber hears.
    case everything(StoreSnapshot)
    /// The key ring changed (rotation, retirement, a retire mark raised), with the active key.
    case keys(KeyRing, signing: (epoch: UInt64, key: SigningKey))
    /// One revocation was added.
    case revoked(Revocation)
    /// The index was rebuilt (a revocation lifted, revocations collected).
    case revocations(RevocationIndex)
}
