import AuthorityAPI

/// A quick reader for request bodies: one JSON object whose members are strings without escapes,
/// integers, `true`, `false`, `null` or arrays of such strings. Anything else (an escape, a fraction
/// or exponent, a nested object, invalid UTF-8, a repeated member) makes it give up, and the body
/// goes through `JSONDecoder`, which decides and words every error. The body's field table
/// (`WireFields.read(_:over:)`) turns the members into the request; it never accepts what
/// `JSONDecoder` would refuse, and refuses unknown members exactly as the strict path does.
struct FlatJSONObject {
    typealias Value = FlatJSONValue

    private(set) var members: [(name: String, value: Value)] = []
    /// More than any request body has (a check has eight).
    static let maximumMembers = 16

    init?(_ bytes: UnsafeBufferPointer<UInt8>) {
        guard let parsed = Self.parse(bytes) else { return nil }
        members = parsed
    }

    private static func parse(_ bytes: UnsafeBufferPointer<UInt8>) -> [(String, Value)]? {
        let maximumMembers = Self.maximumMembers
        var reader = Reader(bytes: bytes)
        var members: [(String, Value)] = []
        reader.skipSpace()
        guard reader.take(UInt8(ascii: "{")) else { return nil }
        reader.skipSpace()
        if reader.take(UInt8(ascii: "}")) {
            reader.skipSpace()
            return reader.atEnd ? members : nil
        }
        while true {
            reader.skipSpace()
            guard let name = reader.string() else { return nil }
            reader.skipSpace()
            guard reader.take(UInt8(ascii: ":")) else { return nil }
            reader.skipSpace()
            guard let value = reader.value() else { return nil }
            // Bounded, so that the duplicate scan stays cheap on a body of thousands of members (such
            // a body has unknown or repeated members anyway: JSONDecoder words its error).
            guard members.count < maximumMembers, !members.contains(where: { $0.0 == name }) else { return nil }
            members.append((name, value))
            reader.skipSpace()
            if reader.take(UInt8(ascii: ",")) { continue }
            guard reader.take(UInt8(ascii: "}")) else { return nil }
            reader.skipSpace()
            return reader.atEnd ? members : nil
        }
    }

    private struct Reader {
        let bytes: UnsafeBufferPointer<UInt8>
        var index = 0

        var atEnd: Bool { index == bytes.count }

        mutating func skipSpace() {
            while index < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[index]) { index += 1 }
        }

        mutating func take(_ byte: UInt8) -> Bool {
            guard index < bytes.count, bytes[index] == byte else { return false }
            index += 1
            return true
        }

        mutating func take(_ word: StaticString) -> Bool {
            let count = word.utf8CodeUnitCount
            guard index + count <= bytes.count else { return false }
            for offset in 0..<count where bytes[index + offset] != word.utf8Start[offset] { return false }
            index += count
            return true
        }

        /// A string without escapes or control characters, valid UTF-8.
        mutating func string() -> String? {
            guard take(UInt8(ascii: "\"")) else { return nil }
            let start = index
            while index < bytes.count {
                let byte = bytes[index]
                if byte == UInt8(ascii: "\"") {
                    let text = String(validating: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
                    index += 1
                    return text
                }
                if byte == UInt8(ascii: "\\") || byte < 0x20 { return nil }
                index += 1
            }
            return nil
        }

        mutating func value() -> Value? {
            guard index < bytes.count else { return nil }
            switch bytes[index] {
            case UInt8(ascii: "\""): return string().map { .string($0) }
            case UInt8(ascii: "["): return strings().map { .strings($0) }
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return integer().map { .integer($0) }
            default: break
            }
            if take("true") { return .bool(true) }
            if take("false") { return .bool(false) }
            if take("null") { return .null }
            return nil
        }

        /// `[]` or `["a", "b"]`: strings only.
        mutating func strings() -> [String]? {
            guard take(UInt8(ascii: "[")) else { return nil }
            var list: [String] = []
            skipSpace()
            if take(UInt8(ascii: "]")) { return list }
            while list.count < 16 {
                skipSpace()
                guard let text = string() else { return nil }
                list.append(text)
                skipSpace()
                if take(UInt8(ascii: "]")) { return list }
                guard take(UInt8(ascii: ",")) else { return nil }
            }
            return nil
        }

        /// An integer literal of at most 18 digits, without sign on zero, fraction or exponent:
        /// `JSONDecoder` reads exactly these the same way into an `Int64`.
        mutating func integer() -> Int64? {
            let negative = take(UInt8(ascii: "-"))
            let start = index
            while index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) { index += 1 }
            let digits = bytes[start..<index]
            guard (1...18).contains(digits.count), digits.count == 1 || digits.first != UInt8(ascii: "0") else { return nil }
            if index < bytes.count, [UInt8(ascii: "."), UInt8(ascii: "e"), UInt8(ascii: "E")].contains(bytes[index]) {
                return nil
            }
            let magnitude = digits.reduce(Int64(0)) { $0 * 10 + Int64($1 - UInt8(ascii: "0")) }
            if negative && magnitude == 0 { return nil }
            return negative ? -magnitude : magnitude
        }
    }
}
