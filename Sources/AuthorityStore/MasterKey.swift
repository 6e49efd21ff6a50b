import AuthorityCore
import CSodium
import Foundation
import Logging

#if canImport(Glibc)
import Glibc
#endif

/// The 32-byte key that seals secret keys at rest (`crypto_secretbox`), held in `sodium_malloc`
/// memory and wiped when released.
///
/// `@unchecked Sendable`: the key memory is written once in `init` and only read afterwards.
public final class MasterKey: @unchecked Sendable {
    static let byteCount = Int(crypto_secretbox_KEYBYTES)
    private let key: UnsafeMutablePointer<UInt8>

    init?(bytes: some Collection<UInt8>) {
        guard bytes.count == Self.byteCount, sodium_init() >= 0, let memory = sodium_malloc(Self.byteCount) else {
            return nil
        }
        key = memory.bindMemory(to: UInt8.self, capacity: Self.byteCount)
        for (index, byte) in bytes.enumerated() { key[index] = byte }
    }

    deinit { sodium_free(key) }

    /// The key's bytes, for deriving subkeys (never copied out).
    func withBytes<R>(_ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
        body(UnsafeBufferPointer(start: key, count: Self.byteCount))
    }

    /// Where the master key comes from, in order: the systemd credential `master.key`, a file
    /// given in the configuration, else `master.key` in the state directory (created 0600 on first
    /// start, with a warning in the log). When `$CREDENTIALS_DIRECTORY` is set, its `master.key`
    /// must exist unless a file is configured: the daemon then never creates a key of its own.
    /// Nor does it when `mayCreate` is false (`database` already holds keys sealed under one).
    public static func load(
        credentialsDirectory: String?, configuredFile: String?, stateDirectory: String, mayCreate: Bool = true,
        database: String = "", logger: Logger
    ) throws(StoreError) -> MasterKey {
        if let credentialsDirectory, !credentialsDirectory.isEmpty {
            // Under systemd with credentials, a missing or unreadable master.key is an error,
            // never a reason to make a new key beside the database.
            let path = credentialsDirectory + "/master.key"
            var info = stat()
            if stat(path, &info) == 0 || errno != ENOENT || configuredFile == nil {
                logger.info("master key from systemd credential", metadata: ["path": "\(path)"])
                return try read(path)
            }
        }
        if let configuredFile {
            logger.info("master key from configured file", metadata: ["path": "\(configuredFile)"])
            return try read(configuredFile)
        }
        let path = stateDirectory + "/master.key"
        if FileManager.default.fileExists(atPath: path) { return try read(path) }
        guard mayCreate else { throw .masterKeyMissing(path: path, database: database) }
        try create(path)
        logger.warning(
            "created a new master key in the state directory; keep a copy apart from the database backups, or provide one as the systemd credential master.key",
            metadata: ["path": "\(path)"])
        return try read(path)
    }

    /// Reads 32 raw bytes, or 64 hex characters with an optional trailing newline.
    static func read(_ path: String) throws(StoreError) -> MasterKey {
        var info = stat()
        guard stat(path, &info) == 0 else { throw .cannotReadMasterKey(path: path, errno: errno) }
        let mode = UInt32(info.st_mode) & 0o777
        guard mode & 0o077 == 0 else { throw .insecureMasterKeyFile(path: path, mode: mode) }
        guard var data = FileManager.default.contents(atPath: path) else {
            throw .cannotReadMasterKey(path: path, errno: errno)
        }
        defer { data.resetBytes(in: 0..<data.count) }
        if data.count == byteCount, let key = MasterKey(bytes: data) { return key }
        var text = Array(data)
        defer { text.withUnsafeMutableBytes { sodium_memzero($0.baseAddress, $0.count) } }
        if text.last == UInt8(ascii: "\n") { text.removeLast() }
        guard text.count == 2 * byteCount else { throw .invalidMasterKey(path: path) }
        var bytes = [UInt8](repeating: 0, count: byteCount)
        defer { bytes.withUnsafeMutableBytes { sodium_memzero($0.baseAddress, $0.count) } }
        for index in 0..<byteCount {
            guard let high = hexValue(text[2 * index]), let low = hexValue(text[2 * index + 1]) else {
                throw .invalidMasterKey(path: path)
            }
            bytes[index] = high << 4 | low
        }
        guard let key = MasterKey(bytes: bytes) else { throw .invalidMasterKey(path: path) }
        return key
    }

    private static func hexValue(_ char: UInt8) -> UInt8? {
        switch char {
        case 48...57: char - 48
        case 97...102: char - 87
        case 65...70: char - 55
        default: nil
        }
    }

    /// Writes 64 random hex characters and a newline to a new file of mode 0600 (never overwrites).
    static func create(_ path: String) throws(StoreError) {
        var bytes = [UInt8](repeating: 0, count: byteCount)
        randombytes_buf(&bytes, byteCount)
        let digits = Array("0123456789abcdef".utf8)
        var text = [UInt8]()
        text.reserveCapacity(2 * byteCount + 1)
        for byte in bytes { text += [digits[Int(byte >> 4)], digits[Int(byte & 0x0F)]] }
        text.append(UInt8(ascii: "\n"))
        defer {
            bytes.withUnsafeMutableBytes { sodium_memzero($0.baseAddress, $0.count) }
            text.withUnsafeMutableBytes { sodium_memzero($0.baseAddress, $0.count) }
        }
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw .cannotCreateMasterKey(path: path, errno: errno) }
        defer { close(fd) }
        let written = text.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard written == text.count, fsync(fd) == 0 else { throw .cannotCreateMasterKey(path: path, errno: errno) }
    }

    /// Seals a 32-byte seed: returns (nonce, ciphertext with tag).
    package func seal(_ seed: UnsafeRawBufferPointer) -> (nonce: [UInt8], sealed: [UInt8]) {
        var nonce = [UInt8](repeating: 0, count: Int(crypto_secretbox_NONCEBYTES))
        randombytes_buf(&nonce, nonce.count)
        var sealed = [UInt8](repeating: 0, count: seed.count + Int(crypto_secretbox_MACBYTES))
        _ = crypto_secretbox_easy(
            &sealed, seed.bindMemory(to: UInt8.self).baseAddress!, UInt64(seed.count), nonce, key)
        return (nonce, sealed)
    }

    /// Opens a sealed seed into locked memory and derives the signing key from it.
    package func openSigningKey(nonce: [UInt8], sealed: [UInt8]) -> SigningKey? {
        let seedCount = SigningKey.seedByteCount
        guard nonce.count == Int(crypto_secretbox_NONCEBYTES),
            sealed.count == seedCount + Int(crypto_secretbox_MACBYTES),
            let seed = sodium_malloc(seedCount)
        else { return nil }
        defer { sodium_free(seed) }
        let seedBytes = seed.bindMemory(to: UInt8.self, capacity: seedCount)
        guard crypto_secretbox_open_easy(seedBytes, sealed, UInt64(sealed.count), nonce, key) == 0 else { return nil }
        return SigningKey.fromSeed(UnsafeRawBufferPointer(start: seed, count: seedCount))
    }
}
