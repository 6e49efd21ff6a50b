import CSodium

/// The key of the integrity MACs (rows, head), derived from the master key: BLAKE2b-256 keyed by
/// the master key over the context `authority-integrity-v1`. Held in `sodium_malloc` memory.
///
/// `@unchecked Sendable`: written once in `init`, only read afterwards.
package final class IntegrityKey: @unchecked Sendable {
    static let byteCount = 32
    static let macCount = 32
    private let key: UnsafeMutablePointer<UInt8>

    package init(masterKey: MasterKey) {
        key = sodium_malloc(Self.byteCount)!.bindMemory(to: UInt8.self, capacity: Self.byteCount)
        let context = Array("authority-integrity-v1".utf8)
        masterKey.withBytes { master in
            _ = crypto_generichash(key, Self.byteCount, context, UInt64(context.count), master.baseAddress, master.count)
        }
    }

    deinit { sodium_free(key) }

    /// BLAKE2b-256 of `message` under this key.
    package func mac(_ message: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: Self.macCount)
        _ = crypto_generichash(&out, Self.macCount, message, UInt64(message.count), key, Self.byteCount)
        return out
    }

    /// Whether `mac` is `message`'s MAC (compared in constant time; nothing allocated).
    package func verify(_ mac: [UInt8], of message: [UInt8]) -> Bool {
        guard mac.count == Self.macCount else { return false }
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: Self.macCount) { expected in
            guard let out = expected.baseAddress else { return false }
            _ = crypto_generichash(out, Self.macCount, message, UInt64(message.count), key, Self.byteCount)
            return sodium_memcmp(out, mac, Self.macCount) == 0
        }
    }
}

/// The bytes a row's MAC covers: a label, then every column in a fixed order, each one
/// length-prefixed or fixed-width, so no two different rows share bytes.
package struct SealedBytes {
    package private(set) var bytes: [UInt8]

    package init(_ label: String) {
        bytes = []
        bytes.reserveCapacity(192)
        bytes += label.utf8
        bytes.append(0)
    }

    package mutating func add(_ value: Int64?) {
        guard let value else { return bytes.append(0) }
        bytes.append(1)
        withUnsafeBytes(of: value.bigEndian) { bytes += $0 }
    }

    package mutating func add(_ value: [UInt8]?) {
        guard let value else { return bytes.append(0) }
        bytes.append(1)
        add(Int64(value.count))
        bytes += value
    }

    package mutating func add(_ value: String?) { add(value.map { Array($0.utf8) }) }
}

/// XORs a 32-byte MAC into a digest, in place: the head's digest is the XOR of every sealed
/// row's MAC, so adding, changing or removing a row changes it in O(1).
package func xorDigest(_ digest: inout [UInt8], _ mac: [UInt8]) {
    for index in 0..<min(digest.count, mac.count) { digest[index] ^= mac[index] }
}

package let zeroDigest = [UInt8](repeating: 0, count: IntegrityKey.macCount)
