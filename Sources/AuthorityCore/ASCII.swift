/// ASCII-only case folding and comparison, for everything that reaches a security decision:
/// never Unicode case mapping or `String ==`, which calls canonically equivalent text equal
/// (`"\u{212A}"` equals `"K"`, and lowercases to `"k"`).
public enum ASCII {
    /// `A`–`Z` as `a`–`z`; every other byte as itself.
    @inlinable @inline(__always)
    public static func lowered(_ byte: UInt8) -> UInt8 { (65...90).contains(byte) ? byte + 32 : byte }

    /// Whether `a` and `b` are the same bytes up to the case of ASCII letters.
    ///
    /// `@inlinable`, as the other generic comparisons here: callers in other modules (a request's
    /// `Content-Type`, header names) get it specialized for their collection; the unspecialized
    /// form looked up generic metadata for every byte, about 5 % of a check's CPU.
    @inlinable
    public static func equalsIgnoringCase(_ a: some Collection<UInt8>, _ b: some Collection<UInt8>) -> Bool {
        a.count == b.count && zip(a, b).allSatisfy { lowered($0) == lowered($1) }
    }

    /// Whether `bytes` starts with `prefix` up to the case of ASCII letters.
    @inlinable
    public static func hasPrefixIgnoringCase(_ bytes: some Collection<UInt8>, _ prefix: some Collection<UInt8>) -> Bool {
        bytes.count >= prefix.count && zip(bytes, prefix).allSatisfy { lowered($0) == lowered($1) }
    }
}
