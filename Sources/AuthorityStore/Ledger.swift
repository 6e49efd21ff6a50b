import Foundation
import GRDB

#if canImport(Glibc)
import Glibc
#endif

/// The device and inode a path named when the store opened: a database file removed or replaced
/// under the running daemon no longer matches, and writes to it stop being acknowledged.
struct FileIdentity: Sendable, Equatable {
    let path: String
    let device: UInt64
    let inode: UInt64

    init(path: String) throws(StoreError) {
        var info = stat()
        guard stat(path, &info) == 0 else { throw .cannotReadFile(path: path, errno: errno) }
        self.path = path
        device = UInt64(info.st_dev)
        inode = UInt64(info.st_ino)
    }

    /// Throws `databaseReplaced` when `path` no longer names the same file.
    func check() throws(StoreError) {
        var info = stat()
        guard stat(path, &info) == 0 else { throw .databaseReplaced(path: path, why: "it was removed (errno \(errno))") }
        guard UInt64(info.st_dev) == device, UInt64(info.st_ino) == inode else {
            throw .databaseReplaced(path: path, why: "another file now has its name")
        }
    }
}

/// The integrity head as the database writer changes it. Every change to a sealed row goes
/// through `change(from:to:)` inside a write; `willCommit` writes the head into `store_meta` in
/// the same transaction; after the commit, `didCommit` checks that the database file is still the
/// one opened and writes `authority.head`, before anything is acknowledged.
///
/// `@unchecked Sendable`: only touched on the database writer (GroupCommit's thread, under
/// GRDB's writer), one batch at a time.
final class Ledger: @unchecked Sendable {
    let key: IntegrityKey
    let storeID: [UInt8]
    let headFile: HeadFile
    let databaseFile: FileIdentity
    let time: TimeMark
    private(set) var committed: IntegrityHead
    var pending: IntegrityHead
    /// The serial the next revocation gets: chosen here so that its row and its MAC are written in
    /// one statement, and never reused after a lift (a gap left by a failed write is harmless).
    var nextRevocationSerial: Int64 = 1

    init(key: IntegrityKey, storeID: [UInt8], headFile: HeadFile, databaseFile: FileIdentity, time: TimeMark, head: IntegrityHead) {
        self.key = key
        self.storeID = storeID
        self.headFile = headFile
        self.databaseFile = databaseFile
        self.time = time
        self.committed = head
        self.pending = head
    }

    /// The serial as of the writes made so far in this transaction: read at the end of a write, it
    /// is that write's own (a batch gives each write its own, in order).
    var serial: Int64 { pending.serial }

    /// Records that a sealed row changed from MAC `old` (nil: it is new) to `new` (nil: deleted).
    func change(from old: [UInt8]?, to new: [UInt8]?) {
        if let old { xorDigest(&pending.digest, old) }
        if let new { xorDigest(&pending.digest, new) }
        pending.serial += 1
    }

    /// Seals epoch `epoch` again after a change to its row.
    func resealKey(_ db: Database, epoch: UInt64) throws {
        let (old, new) = try KeyRow.reseal(db, epoch: epoch, key: key)
        change(from: old, to: new)
    }

    /// Inside the transaction, after its writes: the new head (and time mark) into `store_meta`.
    func willCommit(_ db: Database) throws {
        pending.clockMark = max(pending.clockMark, time.value)
        guard pending != committed else { return }
        // Every new revocation changes the head, so the next serial is written with it.
        try db.cachedStatement(
            sql: """
                UPDATE store_meta SET clock_mark = ?, head_serial = ?, head_digest = ?, head_mac = ?, next_revocation = ?
                WHERE only_row = 1
                """
        ).execute(arguments: [
            pending.clockMark, pending.serial, Data(pending.digest), Data(pending.mac(storeID: storeID, key: key)),
            nextRevocationSerial,
        ])
    }

    /// After the commit: throws when the change must not be acknowledged (the database file was
    /// removed or replaced; `authority.head` could not be written).
    func didCommit() throws(StoreError) {
        let changedRows = pending.serial != committed.serial
        committed = pending
        try databaseFile.check()
        if changedRows { try headFile.write(committed, storeID: storeID, key: key) }
    }

    /// The transaction failed: nothing of it happened.
    func didFail() { pending = committed }

    /// Writes the head file with the current head (time mark included), for maintenance and a
    /// clean stop.
    func writeHeadFile() throws(StoreError) {
        try databaseFile.check()
        try headFile.write(committed, storeID: storeID, key: key)
    }
}
