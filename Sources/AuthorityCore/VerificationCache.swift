import CSodium
import Synchronization

/// Remembers which signatures verified, so that a link checked again and again skips the Ed25519
/// verification (about 70 µs). It holds only 32-byte BLAKE2b digests of (public key ‖ signature ‖
/// signed message), never a link: an entry says "this key signed exactly these bytes", nothing
/// more. Everything else a check decides (key retirement, expiry, method, resource, address,
/// revocation) still runs on every request.
///
/// Bounded by two generations: lookups that hit the previous one move the digest into the
/// current one; when the current one is full, it becomes the previous one and the oldest
/// generation is dropped. At most `capacity` digests, about 64 bytes each once the sets have grown.
public final class VerificationCache: Sendable {
    /// A BLAKE2b-256 digest as four words: hashing and comparing it allocates nothing.
    struct Digest: Hashable, Sendable {
        var w0, w1, w2, w3: UInt64

        /// One word is enough: the digest is uniform, and `Hasher` is seeded per process.
        func hash(into hasher: inout Hasher) { hasher.combine(w0) }
    }

    private struct Generations {
        var current: Set<Digest> = []
        var previous: Set<Digest> = []
        var hits: UInt64 = 0
        var misses: UInt64 = 0
    }

    /// The most digests held at once; 0 switches the cache off.
    public let capacity: Int
    /// Digests per generation.
    private let generationSize: Int
    private let state = Mutex(Generations())

    /// A cache of at most `capacity` digests (negative counts as 0: off).
    public init(capacity: Int) {
        self.capacity = max(capacity, 0)
        self.generationSize = max(self.capacity / 2, 1)
    }

    /// Whether lookups can ever hit. A verifier neither hashes nor locks when this is false.
    public var isEnabled: Bool { capacity > 0 }

    /// How many digests are held.
    public var count: Int { state.withLock { $0.current.count + $0.previous.count } }
    /// Lookups that found their digest.
    public var hits: UInt64 { state.withLock { $0.hits } }
    /// Lookups that did not.
    public var misses: UInt64 { state.withLock { $0.misses } }

    /// The digest of a signature check; nil unless `signature` is 64 bytes, so that the fixed-size
    /// key (32 bytes, `PublicKey` holds no other) and signature make the concatenation unambiguous.
    static func digest(publicKey: PublicKey, signature: [UInt8], message: [UInt8]) -> Digest? {
        guard signature.count == Int(crypto_sign_BYTES) else { return nil }
        Sodium.ensureInitialised()
        var words: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
        // libsodium wants the BLAKE2b state 64-byte aligned (Swift imports the over-aligned struct
        // as an opaque pointer); the temporary stays on the stack.
        withUnsafeTemporaryAllocation(byteCount: crypto_generichash_statebytes(), alignment: 64) { raw in
            let hashState = OpaquePointer(raw.baseAddress!)
            func update(_ bytes: [UInt8]) {
                _ = bytes.withUnsafeBufferPointer {
                    crypto_generichash_update(hashState, $0.baseAddress, UInt64($0.count))
                }
            }
            _ = crypto_generichash_init(hashState, nil, 0, Int(crypto_generichash_BYTES))
            update(publicKey.bytes)
            update(signature)
            update(message)
            _ = withUnsafeMutableBytes(of: &words) {
                crypto_generichash_final(hashState, $0.baseAddress!.assumingMemoryBound(to: UInt8.self), $0.count)
            }
        }
        return Digest(w0: words.0, w1: words.1, w2: words.2, w3: words.3)
    }

    /// Whether the signature of `digest` verified before; counts a hit or a miss. A hit in the
    /// previous generation moves the digest into the current one.
    func contains(_ digest: Digest) -> Bool {
        guard isEnabled else { return false }
        return state.withLock { state in
            if state.current.contains(digest) {
                state.hits += 1
                return true
            }
            guard state.previous.remove(digest) != nil else {
                state.misses += 1
                return false
            }
            state.hits += 1
            insert(digest, into: &state)
            return true
        }
    }

    /// Records that the signature of `digest` verified; call it only after it did.
    func insert(_ digest: Digest) {
        guard isEnabled else { return }
        state.withLock { insert(digest, into: &$0) }
    }

    private func insert(_ digest: Digest, into state: inout Generations) {
        if state.current.count >= generationSize {
            // Keep the storage of the generation being dropped for the new current one. With
            // capacity 1 there is room for no previous generation at all.
            if capacity >= 2 { swap(&state.current, &state.previous) }
            state.current.removeAll(keepingCapacity: true)
        }
        state.current.insert(digest)
    }
}
