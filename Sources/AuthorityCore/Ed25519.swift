import CSodium

/// An Ed25519 public key (32 bytes).
public struct PublicKey: Hashable, Sendable {
    public static let byteCount = Int(crypto_sign_PUBLICKEYBYTES)
    public let bytes: [UInt8]

    public init?(bytes: [UInt8]) {
        guard bytes.count == Self.byteCount else { return nil }
        self.bytes = bytes
    }

    /// The key as unpadded base64url, the form of the JWK `x` member and the test vectors.
    public var base64URL: String { Base64URL.encode(bytes) }

    /// Whether `signature` (64 bytes) is a valid Ed25519 signature of `message` under this key.
    public func isValidSignature(_ signature: [UInt8], for message: [UInt8]) -> Bool {
        guard signature.count == Int(crypto_sign_BYTES) else { return false }
        Sodium.ensureInitialised()
        return signature.withUnsafeBufferPointer { sig in
            message.withUnsafeBufferPointer { msg in
                bytes.withUnsafeBufferPointer { pk in
                    crypto_sign_verify_detached(sig.baseAddress!, msg.baseAddress, UInt64(msg.count), pk.baseAddress!)
                        == 0
                }
            }
        }
    }
}

/// An Ed25519 signing key. The 64-byte libsodium secret key lives in `sodium_malloc` memory
/// (guard pages, locked against swapping) and is wiped by `sodium_free` when the key is released.
///
/// `@unchecked Sendable`: the secret memory is written once in `init` and only read afterwards.
public final class SigningKey: @unchecked Sendable {
    public static let seedByteCount = Int(crypto_sign_SEEDBYTES)
    private let secret: UnsafeMutablePointer<UInt8>
    public let publicKey: PublicKey

    private init(secret: UnsafeMutablePointer<UInt8>, publicKey: PublicKey) {
        self.secret = secret
        self.publicKey = publicKey
    }

    /// Derives the key pair from a 32-byte seed. The caller should wipe its copy of the seed.
    public static func fromSeed(_ seed: UnsafeRawBufferPointer) -> SigningKey? {
        guard seed.count == seedByteCount else { return nil }
        Sodium.ensureInitialised()
        let size = Int(crypto_sign_SECRETKEYBYTES)
        guard let memory = sodium_malloc(size) else { return nil }
        let secret = memory.bindMemory(to: UInt8.self, capacity: size)
        var pk = [UInt8](repeating: 0, count: PublicKey.byteCount)
        let rc = crypto_sign_seed_keypair(&pk, secret, seed.bindMemory(to: UInt8.self).baseAddress!)
        guard rc == 0, let key = PublicKey(bytes: pk) else {
            sodium_free(memory)
            return nil
        }
        return SigningKey(secret: secret, publicKey: key)
    }

    /// For fixed test seeds; production keys come from `generate()`.
    public static func fromSeed(_ seed: [UInt8]) -> SigningKey? {
        seed.withUnsafeBytes { fromSeed($0) }
    }

    /// A fresh key from libsodium's CSPRNG; the seed never leaves locked memory.
    public static func generate() -> SigningKey {
        Sodium.ensureInitialised()
        let seed = sodium_malloc(seedByteCount)!  // 32 bytes; failure leaves nothing to recover
        defer { sodium_free(seed) }
        randombytes_buf(seed, seedByteCount)
        return fromSeed(UnsafeRawBufferPointer(start: seed, count: seedByteCount))!
    }

    deinit { sodium_free(secret) }

    /// The detached Ed25519 signature (64 bytes) of `message`.
    public func sign(_ message: [UInt8]) -> [UInt8] {
        var signature = [UInt8](repeating: 0, count: Int(crypto_sign_BYTES))
        message.withUnsafeBufferPointer { msg in
            _ = crypto_sign_detached(&signature, nil, msg.baseAddress, UInt64(msg.count), secret)
        }
        return signature
    }

    /// Lends the 32-byte seed (for sealing it at rest) in temporary locked memory, wiped afterwards.
    public func withSeed<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        let seed = sodium_malloc(Self.seedByteCount)!
        defer { sodium_free(seed) }
        _ = crypto_sign_ed25519_sk_to_seed(seed.bindMemory(to: UInt8.self, capacity: Self.seedByteCount), secret)
        return try body(UnsafeRawBufferPointer(start: seed, count: Self.seedByteCount))
    }
}
