import CSodium

/// Argon2id password hashes (`crypto_pwhash_str`, libsodium's interactive limits). Pure CPU:
/// about half a second per call on a small server, so callers run it off their event loops.
public enum PasswordHash {
    /// Longest password accepted, in bytes.
    public static let maximumLength = 1_024

    /// The encoded hash (`$argon2id$v=19$m=…`), salt included; nil only if libsodium runs out of memory.
    public static func hash(_ password: String) -> String? {
        Sodium.ensureInitialised()
        var output = [CChar](repeating: 0, count: Int(crypto_pwhash_STRBYTES))
        let rc = withWipedCopy(of: password) { bytes in
            crypto_pwhash_str(
                &output, bytes.baseAddress!, UInt64(bytes.count),
                UInt64(crypto_pwhash_OPSLIMIT_INTERACTIVE), Int(crypto_pwhash_MEMLIMIT_INTERACTIVE))
        }
        guard rc == 0 else { return nil }
        return String(cString: output)
    }

    /// Whether `password` matches `hash`. Takes as long for a wrong password as for a right one.
    public static func verify(_ password: String, hash: String) -> Bool {
        Sodium.ensureInitialised()
        return withWipedCopy(of: password) { bytes in
            crypto_pwhash_str_verify(hash, bytes.baseAddress!, UInt64(bytes.count)) == 0
        }
    }

    /// Runs `body` on a copy of the password's bytes in memory of its own, wiped with
    /// `sodium_memzero` before it is freed. (The `String` itself cannot be wiped: Swift owns it.)
    static func withWipedCopy<T>(of password: String, _ body: (UnsafeMutableBufferPointer<CChar>) -> T) -> T {
        let count = password.utf8.count
        let buffer = UnsafeMutableBufferPointer<CChar>.allocate(capacity: max(count, 1))
        defer {
            sodium_memzero(buffer.baseAddress!, buffer.count)
            buffer.deallocate()
        }
        for (index, byte) in password.utf8.enumerated() { buffer[index] = CChar(bitPattern: byte) }
        // `baseAddress` is never nil: the buffer has at least one byte (an empty password is refused
        // before it gets here, and still gets a valid pointer).
        return body(UnsafeMutableBufferPointer(start: buffer.baseAddress, count: count))
    }
}
