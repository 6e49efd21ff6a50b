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
        let bytes = Array(password.utf8)
        let rc = crypto_pwhash_str(
            &output, bytes.map { CChar(bitPattern: $0) }, UInt64(bytes.count),
            UInt64(crypto_pwhash_OPSLIMIT_INTERACTIVE), Int(crypto_pwhash_MEMLIMIT_INTERACTIVE))
        guard rc == 0 else { return nil }
        return String(cString: output)
    }

    /// Whether `password` matches `hash`. Takes as long for a wrong password as for a right one.
    public static func verify(_ password: String, hash: String) -> Bool {
        Sodium.ensureInitialised()
        let bytes = Array(password.utf8)
        return crypto_pwhash_str_verify(hash, bytes.map { CChar(bitPattern: $0) }, UInt64(bytes.count)) == 0
    }
}
