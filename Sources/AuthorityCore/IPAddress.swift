/// An IPv4 or IPv6 address, parsed without the C library so the rules are exactly the documented
/// ones (docs/link-format.md §5).
public enum IPAddress: Hashable, Sendable, CustomStringConvertible {
    case v4(UInt32)
    case v6(high: UInt64, low: UInt64)

    /// Parses any valid IPv4 or IPv6 text (embedded dotted IPv4 and upper-case hex included).
    /// An IPv4-mapped IPv6 address (`::ffff:192.0.2.1`) becomes that IPv4 address.
    public init?(_ text: some StringProtocol) {
        let bytes = Array(text.utf8)
        if let v4 = Self.parseV4(bytes[...]) {
            self = .v4(v4)
        } else if let (high, low) = Self.parseV6(bytes) {
            self = high == 0 && low >> 32 == 0xFFFF ? .v4(UInt32(truncatingIfNeeded: low)) : .v6(high: high, low: low)
        } else {
            return nil
        }
    }

    /// Parses only the canonical text (dotted quad without leading zeros, or RFC 5952 IPv6 with
    /// hex groups only), and refuses IPv4-mapped IPv6 addresses.
    public init?(canonical text: some StringProtocol) {
        let bytes = Array(text.utf8)
        if let v4 = Self.parseV4(bytes[...]) {
            self = .v4(v4)
        } else if let (high, low) = Self.parseV6(bytes), !(high == 0 && low >> 32 == 0xFFFF) {
            self = .v6(high: high, low: low)
            guard description.utf8.elementsEqual(bytes) else { return nil }
        } else {
            return nil
        }
    }

    public var isV4: Bool { if case .v4 = self { true } else { false } }
    public var bitCount: Int { isV4 ? 32 : 128 }

    /// The canonical text (RFC 5952 for IPv6).
    public var description: String {
        switch self {
        case .v4(let value):
            return (0..<4).map { String(value >> (24 - 8 * UInt32($0)) & 0xFF) }.joined(separator: ".")
        case .v6(let high, let low):
            let groups = (0..<4).map { UInt16(truncatingIfNeeded: high >> (48 - 16 * UInt64($0))) }
                + (0..<4).map { UInt16(truncatingIfNeeded: low >> (48 - 16 * UInt64($0))) }
            var best = (start: -1, length: 0)
            var index = 0
            while index < 8 {
                guard groups[index] == 0 else {
                    index += 1
                    continue
                }
                var end = index
                while end < 8 && groups[end] == 0 { end += 1 }
                if end - index > best.length { best = (index, end - index) }
                index = end
            }
            func hex(_ range: Range<Int>) -> String {
                groups[range].map { String($0, radix: 16) }.joined(separator: ":")
            }
            guard best.length >= 2 else { return hex(0..<8) }
            return hex(0..<best.start) + "::" + hex((best.start + best.length)..<8)
        }
    }

    static func parseV4(_ bytes: ArraySlice<UInt8>) -> UInt32? {
        let parts = bytes.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var value: UInt32 = 0
        for part in parts {
            guard (1...3).contains(part.count), part.allSatisfy({ (48...57).contains($0) }) else { return nil }
            if part.count > 1 && part.first == UInt8(ascii: "0") { return nil }
            let octet = part.reduce(UInt32(0)) { $0 * 10 + UInt32($1 - 48) }
            guard octet <= 255 else { return nil }
            value = value << 8 | octet
        }
        return value
    }

    static func parseV6(_ bytes: [UInt8]) -> (UInt64, UInt64)? {
        guard bytes.count >= 2, bytes.count <= 45 else { return nil }
        // Split at "::" (at most once), then parse each side's groups.
        var head = bytes[...]
        var tail: ArraySlice<UInt8>? = nil
        if let index = (0..<(bytes.count - 1)).first(where: { bytes[$0] == 58 && bytes[$0 + 1] == 58 }) {
            head = bytes[..<index]
            tail = bytes[(index + 2)...]
        }
        guard let headGroups = groups(head, allowV4: tail == nil) else { return nil }
        var all = headGroups
        if let tail {
            guard let tailGroups = groups(tail, allowV4: true), headGroups.count + tailGroups.count <= 7 else {
                return nil
            }
            all += [UInt16](repeating: 0, count: 8 - headGroups.count - tailGroups.count) + tailGroups
        }
        guard all.count == 8 else { return nil }
        let high = all[0..<4].reduce(UInt64(0)) { $0 << 16 | UInt64($1) }
        let low = all[4..<8].reduce(UInt64(0)) { $0 << 16 | UInt64($1) }
        return (high, low)
    }

    private static func groups(_ bytes: ArraySlice<UInt8>, allowV4: Bool) -> [UInt16]? {
        if bytes.isEmpty { return [] }
        let parts = bytes.split(separator: 58, omittingEmptySubsequences: false)
        var result: [UInt16] = []
        for (position, part) in parts.enumerated() {
            if allowV4, position == parts.count - 1, part.contains(UInt8(ascii: ".")) {
                guard let v4 = parseV4(part) else { return nil }
                result += [UInt16(v4 >> 16), UInt16(v4 & 0xFFFF)]
                continue
            }
            guard (1...4).contains(part.count) else { return nil }
            var value: UInt16 = 0
            for char in part {
                guard let digit = hexDigit(char) else { return nil }
                value = value << 4 | UInt16(digit)
            }
            result.append(value)
        }
        return result
    }
}

@inline(__always)
func hexDigit(_ char: UInt8) -> UInt8? {
    switch char {
    case 48...57: char - 48
    case 65...70: char - 55
    case 97...102: char - 87
    default: nil
    }
}

/// An IPv4 or IPv6 network in CIDR notation.
public struct IPNetwork: Hashable, Sendable, CustomStringConvertible {
    public let address: IPAddress
    public let prefixLength: Int

    /// Parses `ADDRESS/LENGTH` in canonical form only: canonical address text, a length without
    /// leading zeros, and all host bits zero (`au_ip`).
    public init?(canonical text: some StringProtocol) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let address = IPAddress(canonical: parts[0]),
            let length = Self.parseLength(parts[1], max: address.bitCount)
        else { return nil }
        self.address = address
        self.prefixLength = length
        guard masked(address) == address else { return nil }
    }

    /// Parses what an operator writes when issuing: a canonical-or-not address with an optional
    /// length (none means a single address). Host bits must still be zero: a network is never guessed.
    public init?(lenient text: some StringProtocol) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), let address = IPAddress(parts[0]) else { return nil }
        let length = parts.count == 2 ? Self.parseLength(parts[1], max: address.bitCount) : address.bitCount
        guard let length else { return nil }
        self.address = address
        self.prefixLength = length
        guard masked(address) == address else { return nil }
    }

    private static func parseLength(_ text: some StringProtocol, max: Int) -> Int? {
        guard (1...3).contains(text.count), text.allSatisfy(\.isASCII), let value = Int(text),
            String(value) == String(text), value <= max
        else { return nil }
        return value
    }

    public var description: String { "\(address)/\(prefixLength)" }

    /// Whether `candidate` lies inside this network. IPv4 never matches IPv6 and the reverse.
    public func contains(_ candidate: IPAddress) -> Bool {
        guard candidate.isV4 == address.isV4 else { return false }
        return masked(candidate) == address
    }

    private func masked(_ value: IPAddress) -> IPAddress {
        switch value {
        case .v4(let bits):
            let mask: UInt32 = prefixLength == 0 ? 0 : ~UInt32(0) << UInt32(32 - prefixLength)
            return .v4(bits & mask)
        case .v6(let high, let low):
            let highMask: UInt64 = prefixLength >= 64 ? ~0 : (prefixLength == 0 ? 0 : ~UInt64(0) << UInt64(64 - prefixLength))
            let lowMask: UInt64 = prefixLength <= 64 ? 0 : (prefixLength == 128 ? ~0 : ~UInt64(0) << UInt64(128 - prefixLength))
            return .v6(high: high & highMask, low: low & lowMask)
        }
    }
}
