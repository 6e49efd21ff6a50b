import CSodium

/// libsodium must be initialised once before any other call; `sodium_init` is thread-safe and
/// idempotent, and a lazily initialised global runs it exactly once.
private let sodiumInitialised: Bool = sodium_init() >= 0

enum Sodium {
    /// Initialises libsodium; a failure means no safe random source, which nothing can survive.
    static func ensureInitialised() {
        precondition(sodiumInitialised, "libsodium failed to initialise (no random source?)")
    }

    /// `count` bytes from libsodium's CSPRNG.
    static func randomBytes(_ count: Int) -> [UInt8] {
        ensureInitialised()
        var bytes = [UInt8](repeating: 0, count: count)
        bytes.withUnsafeMutableBytes { randombytes_buf($0.baseAddress!, count) }
        return bytes
    }
}
