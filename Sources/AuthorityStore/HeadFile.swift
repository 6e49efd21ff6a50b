import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// The integrity head: the version of the sealed rows (revocations, use counters) and the
/// daemon's time high-water mark.
package struct IntegrityHead: Equatable, Sendable {
    /// Changes made to sealed rows since the store was created: the revocation list's version.
    package var serial: Int64
    /// XOR of the MACs of every sealed row.
    package var digest: [UInt8]
    /// The latest time the daemon has used (Unix seconds).
    package var clockMark: Int64

    package init(serial: Int64, digest: [UInt8], clockMark: Int64) {
        self.serial = serial
        self.digest = digest
        self.clockMark = clockMark
    }

    /// The bytes the head's MAC covers.
    package func sealedBytes(storeID: [UInt8]) -> [UInt8] {
        var bytes = SealedBytes("authority-head-v1")
        bytes.add(storeID)
        bytes.add(serial)
        bytes.add(digest)
        bytes.add(clockMark)
        return bytes.bytes
    }

    package func mac(storeID: [UInt8], key: IntegrityKey) -> [UInt8] { key.mac(sealedBytes(storeID: storeID)) }
}

/// `authority.head` in the state directory: which database the directory belongs to and the
/// integrity head as of the last acknowledged change, written (and `fdatasync`ed) after every
/// commit that changed sealed rows, before the change is acknowledged. Its presence says the
/// directory was initialised, so a missing or empty database refuses start; a database whose
/// version is behind it lost acknowledged changes.
///
/// Two 512-byte slots written in turn, each with its own MAC: a torn write damages at most the
/// slot being written and the other still holds the previous head.
///
/// `@unchecked Sendable`: used only on the database writer (and at open, before sharing).
package final class HeadFile: @unchecked Sendable {
    package static let name = "authority.head"
    private static let magic = Array("AUHEAD01".utf8)
    private static let slotSize = 512
    /// magic, store id, serial, digest, clock mark, MAC.
    private static let recordSize = 8 + 16 + 8 + 32 + 8 + 32

    package enum Contents: Equatable {
        case absent
        /// The file exists but neither slot holds a head sealed under this master key.
        case damaged
        case head(storeID: [UInt8], IntegrityHead)
    }

    let path: String
    private var fd: CInt = -1
    private var nextSlot = 0

    package init(directory: String) { path = directory + "/" + Self.name }

    deinit { if fd >= 0 { close(fd) } }

    /// What the file holds: the slot with the larger (serial, clock mark) among those whose MAC
    /// verifies.
    package static func read(directory: String, key: IntegrityKey) throws(StoreError) -> Contents {
        let path = directory + "/" + name
        guard let data = FileManager.default.contents(atPath: path) else {
            var info = stat()
            if stat(path, &info) != 0, errno == ENOENT { return .absent }
            throw .cannotReadFile(path: path, errno: errno)
        }
        let bytes = [UInt8](data)
        var best: (storeID: [UInt8], head: IntegrityHead)?
        for slot in 0..<2 {
            let start = slot * slotSize
            guard bytes.count >= start + recordSize else { continue }
            let record = Array(bytes[start..<(start + recordSize)])
            guard Array(record[0..<8]) == magic else { continue }
            let storeID = Array(record[8..<24])
            let head = IntegrityHead(
                serial: int64(record, at: 24), digest: Array(record[32..<64]), clockMark: int64(record, at: 64))
            guard key.verify(Array(record[72..<104]), of: head.sealedBytes(storeID: storeID)) else { continue }
            if let current = best, (current.head.serial, current.head.clockMark) >= (head.serial, head.clockMark) { continue }
            best = (storeID, head)
        }
        guard let best else { return .damaged }
        return .head(storeID: best.storeID, best.head)
    }

    /// Writes `head` into the next slot and `fdatasync`s it; the first write creates the file
    /// (0600) and syncs the directory.
    package func write(_ head: IntegrityHead, storeID: [UInt8], key: IntegrityKey) throws(StoreError) {
        if fd < 0 { try openForWriting() }
        var record = Self.magic + storeID
        withUnsafeBytes(of: head.serial.bigEndian) { record += $0 }
        record += head.digest
        withUnsafeBytes(of: head.clockMark.bigEndian) { record += $0 }
        record += head.mac(storeID: storeID, key: key)
        let offset = off_t(nextSlot * Self.slotSize)
        let written = record.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, offset) }
        guard written == record.count, fdatasync(fd) == 0 else { throw .cannotWriteFile(path: path, errno: errno) }
        nextSlot = 1 - nextSlot
    }

    private func openForWriting() throws(StoreError) {
        var info = stat()
        let existed = stat(path, &info) == 0
        let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw .cannotWriteFile(path: path, errno: errno) }
        fd = descriptor
        if !existed {
            // Pad to two slots so the second slot's offset is inside the file from the start.
            let padding = [UInt8](repeating: 0, count: 2 * Self.slotSize)
            let written = padding.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
            guard written == padding.count, fsync(fd) == 0 else { throw .cannotWriteFile(path: path, errno: errno) }
            try syncDirectory(of: path)
        }
    }

    private static func int64(_ bytes: [UInt8], at offset: Int) -> Int64 {
        bytes[offset..<(offset + 8)].reduce(0) { $0 << 8 | Int64($1) }
    }
}

/// `fsync`s the directory holding `path`, so a newly created file survives a crash.
func syncDirectory(of path: String) throws(StoreError) {
    let directory = (path as NSString).deletingLastPathComponent
    let fd = open(directory.isEmpty ? "." : directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
    guard fd >= 0 else { throw .cannotWriteFile(path: directory, errno: errno) }
    defer { close(fd) }
    guard fsync(fd) == 0 else { throw .cannotWriteFile(path: directory, errno: errno) }
}
