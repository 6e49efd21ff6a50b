import AuthorityCore

/// Fixed keys and clock for tests and the vector generator. Never used by the daemon.
public enum Fixtures {
    /// The worked example's key: seed bytes 00 01 … 1f.
    public static let seed: [UInt8] = Array(0..<32)
    public static let epoch: UInt64 = 7
    /// A second, unrelated key (seed bytes 0x80 … 0x9f) for "unknown epoch" cases.
    public static let otherSeed: [UInt8] = Array(0x80..<0xA0)
    /// The issue time of every vector.
    public static let issuedAt: Int64 = 1_790_000_000

    // Deriving a key from a fixed 32-byte seed cannot fail.
    public static let key = SigningKey.fromSeed(seed)!
    public static let otherKey = SigningKey.fromSeed(otherSeed)!

    /// A link id whose bytes are n, n+1, … n+15.
    public static func id(_ n: UInt8) -> LinkID { LinkID(bytes: (0..<16).map { n &+ $0 }) }

    /// A key ring holding only the fixed key as the active epoch.
    public static func keyRing() -> KeyRing {
        // A single active record always satisfies the ring's invariants.
        try! KeyRing(records: [KeyRecord(epoch: epoch, publicKey: key.publicKey, status: .active, createdAt: issuedAt)])
    }
}
