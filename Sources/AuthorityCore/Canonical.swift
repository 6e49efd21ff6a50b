/// The canonicalisation rules of docs/link-format.md §3–§4. Every function returns nil (or throws
/// `Malformed`) for input the rules reject: ambiguous input is refused, never guessed.
enum Canonical {
    static let slash = UInt8(ascii: "/")
    static let percent = UInt8(ascii: "%")

    @inline(__always)
    static func isUnreserved(_ byte: UInt8) -> Bool {
        switch byte {
        case 65...90, 97...122, 48...57, 45, 46, 95, 126: true  // A-Z a-z 0-9 - . _ ~
        default: false
        }
    }

    @inline(__always)
    static func isControl(_ byte: UInt8) -> Bool { byte < 0x20 || byte == 0x7F }

    private static let hexUpper = Array("0123456789ABCDEF".utf8)

    /// Appends `bytes`, writing unreserved bytes as themselves and every other byte as `%XX`.
    static func appendEncoded(_ bytes: some Sequence<UInt8>, to out: inout [UInt8]) {
        for byte in bytes {
            if isUnreserved(byte) {
                out.append(byte)
            } else {
                out.append(percent)
                out.append(hexUpper[Int(byte >> 4)])
                out.append(hexUpper[Int(byte & 0x0F)])
            }
        }
    }

    static func isValidUTF8(_ bytes: some Collection<UInt8>) -> Bool {
        if bytes.allSatisfy({ $0 < 0x80 }) { return true }
        return String(validating: bytes, as: UTF8.self) != nil
    }

    /// The longest canonical path, in bytes (§3 rule 7): longer paths are malformed.
    public static let maximumPathBytes = 4_096
    /// The most segments a path may have (§3 rule 7): `/a/b/` has three.
    public static let maximumPathSegments = 128

    /// The canonical form of a path (§3), or a description of the rule it breaks.
    static func path(_ raw: ArraySlice<UInt8>) throws(Malformed) -> String {
        guard raw.first == slash else { throw Malformed("the path does not start with /") }
        var out: [UInt8] = [slash]
        out.reserveCapacity(min(raw.count, maximumPathBytes) + 8)
        var segment: [UInt8] = []
        var segments = 0
        var index = raw.index(after: raw.startIndex)
        while true {
            let atEnd = index == raw.endIndex
            if atEnd || raw[index] == slash {
                if segment.isEmpty && !atEnd { throw Malformed("the path has an empty segment (//)") }
                if segment == [46] || segment == [46, 46] { throw Malformed("the path has a dot segment") }
                guard isValidUTF8(segment) else { throw Malformed("the path is not valid UTF-8") }
                segments += 1
                if segments > maximumPathSegments {
                    throw Malformed("the path has more than \(maximumPathSegments) segments")
                }
                appendEncoded(segment, to: &out)
                if out.count > maximumPathBytes {
                    throw Malformed("the path is longer than \(maximumPathBytes) bytes in canonical form")
                }
                if atEnd { break }
                out.append(slash)
                segment.removeAll(keepingCapacity: true)
                index += 1
                continue
            }
            var byte = raw[index]
            if byte == percent {
                guard index + 2 < raw.endIndex, let high = hexDigit(raw[index + 1]), let low = hexDigit(raw[index + 2])
                else { throw Malformed("the path has a bad percent escape") }
                byte = high << 4 | low
                if byte == slash { throw Malformed("the path has an encoded / (%2F)") }
                index += 3
            } else {
                index += 1
            }
            if byte == UInt8(ascii: "\\") { throw Malformed("the path has a backslash") }
            if isControl(byte) { throw Malformed("the path has a control character") }
            // A segment longer than the whole canonical path may be is refused before it grows.
            if segment.count >= maximumPathBytes {
                throw Malformed("the path is longer than \(maximumPathBytes) bytes in canonical form")
            }
            segment.append(byte)
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Decodes one query name or value with form rules: `+` is a space, `%XX` a byte.
    static func formDecode(_ raw: ArraySlice<UInt8>) throws(Malformed) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(raw.count)
        var index = raw.startIndex
        while index < raw.endIndex {
            let byte = raw[index]
            if byte == percent {
                guard index + 2 < raw.endIndex, let high = hexDigit(raw[index + 1]), let low = hexDigit(raw[index + 2])
                else { throw Malformed("the query has a bad percent escape") }
                out.append(high << 4 | low)
                index += 3
                continue
            }
            if byte <= 0x20 || byte == 0x7F { throw Malformed("the query has a raw space or control character") }
            out.append(byte == UInt8(ascii: "+") ? 0x20 : byte)
            index += 1
        }
        if out.contains(0) { throw Malformed("the query has a NUL byte") }
        guard isValidUTF8(out) else { throw Malformed("the query is not valid UTF-8") }
        return out
    }

    /// `text` with `A`–`Z` folded to `a`–`z`; nil when it holds any byte outside ASCII. Never
    /// Unicode case folding: `"\u{212A}".lowercased()` is `"k"`.
    static func asciiLowercased(_ text: some StringProtocol) -> String? {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count)
        for byte in text.utf8 {
            guard byte < 0x80 else { return nil }
            bytes.append(ASCII.lowered(byte))
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// `text` with `A`–`Z` folded to `a`–`z` and every other byte kept.
    static func asciiFolded(_ text: some StringProtocol) -> String {
        String(decoding: text.utf8.map(ASCII.lowered), as: UTF8.self)
    }

    /// Whether `text` is a valid `au_h` value: lowercase DNS name, IPv4, or bracketed canonical
    /// IPv6, with an optional port.
    static func isCanonicalHost(_ text: Substring) -> Bool {
        guard let (host, port) = splitHostPort(text) else { return false }
        if let port {
            guard port.first != "0", (1...5).contains(port.count), port.utf8.allSatisfy({ (48...57).contains($0) }),
                let value = Int(port), value <= 65535
            else { return false }
        }
        if host.first == "[" {
            guard host.last == "]", let address = IPAddress(canonical: host.dropFirst().dropLast()) else { return false }
            return !address.isV4
        }
        let isDigitsAndDots = host.allSatisfy { $0 == "." || ($0.isASCII && $0.isNumber) }
        if isDigitsAndDots { return IPAddress.parseV4(Array(host.utf8)[...]) != nil }
        let labels = host.split(separator: ".", omittingEmptySubsequences: false)
        return labels.allSatisfy { label in
            !label.isEmpty && label.utf8.allSatisfy { (97...122).contains($0) || (48...57).contains($0) || $0 == 45 }
        }
    }

    /// Splits `host[:port]` or `[v6][:port]`; nil when the brackets do not close.
    static func splitHostPort(_ text: Substring) -> (host: Substring, port: Substring?)? {
        if text.first == "[" {
            guard let close = text.firstIndex(of: "]") else { return nil }
            let host = text[...close]
            let rest = text[text.index(after: close)...]
            if rest.isEmpty { return (host, nil) }
            guard rest.first == ":" else { return nil }
            return (host, rest.dropFirst())
        }
        guard let colon = text.lastIndex(of: ":") else { return (text, nil) }
        return (text[..<colon], text[text.index(after: colon)...])
    }
}

/// Why a link or resource broke a rule of the format. Carries a human explanation for
/// `authorityctl explain` and API error messages; the reason code is always `malformed`.
public struct Malformed: Error, Equatable, Sendable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// The canonical form of an absolute path (docs/link-format.md §3), for callers outside the link
/// parser: revocation prefixes, policy prefixes.
public func canonicalPath(_ path: String) throws(Malformed) -> String {
    try Canonical.path(Array(path.utf8)[...])
}
