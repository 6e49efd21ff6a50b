import AuthorityCore

/// The state a check needs, as of one commit: the key ring, the active signing key and the
/// revocation index (nil when the revocation list is switched off). `generation` grows with every
/// change, so a holder never replaces a newer snapshot with an older one.
public struct StoreSnapshot: Sendable {
    public var keyRing: KeyRing
    public var signing: (epoch: UInt64, key: SigningKey)
    public var revocations: RevocationIndex?
    public var generation: UInt64

    public init(
        keyRing: KeyRing, signing: (epoch: UInt64, key: SigningKey), revocations: RevocationIndex?, generation: UInt64 = 0
    ) {
        self.keyRing = keyRing
        self.signing = signing
        self.revocations = revocations
        self.generation = generation
    }
}
