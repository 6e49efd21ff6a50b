/// A link id: 128 random bits, written as 22 canonical base64url characters.
/// Stored as two integers so that a million revoked ids cost 16 bytes each, not a heap string.
public struct LinkID: Hashable, Sendable, Comparable, CustomStringConvertible {
    public let high: UInt64
    public let low: UInt64

    public init(bytes: [UInt8]) {
        precondition(bytes.count == 16, "a link id is 16 bytes")
        var high: UInt64 = 0
        var low: UInt64 = 0
        for index in 0..<8 { high = high << 8 | UInt64(bytes[index]) }
        for index in 8..<16 { low = low << 8 | UInt64(bytes[index]) }
        self.high = high
        self.low = low
    }

    /// The id whose 16 bytes are `high` then `low`, big-endian.
    public init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    /// Parses the 22-character canonical base64url form; nil for anything else.
    public init?(_ text: some Collection<UInt8>) {
        guard text.count == 22, let bytes = Base64URL.decode(text), bytes.count == 16 else { return nil }
        self.init(bytes: bytes)
    }

    public init?(_ text: String) { self.init(Array(text.utf8)) }

    /// A fresh id from libsodium's CSPRNG.
    public static func random() -> LinkID { LinkID(bytes: Sodium.randomBytes(16)) }

    public var bytes: [UInt8] {
        (0..<8).map { UInt8(truncatingIfNeeded: high >> (56 - 8 * UInt64($0))) }
            + (0..<8).map { UInt8(truncatingIfNeeded: low >> (56 - 8 * UInt64($0))) }
    }

    public var description: String { Base64URL.encode(bytes) }

    public static func < (lhs: LinkID, rhs: LinkID) -> Bool { (lhs.high, lhs.low) < (rhs.high, rhs.low) }
}
