import AuthorityCore
import AuthorityStore
import Logging
import PostgresNIO

/// One transaction of the writer as the jobs of a batch see it: the connection, and the head
/// (serial, digest of the sealed rows' MACs) as of the writes made so far. The head is read from
/// `store_meta` under its row lock (`attach`), so every daemon's writes chain in commit order; a
/// batch's uses are counted before that (under their counters' row locks only), their changes
/// kept as a delta that `attach` lays on the head: the digest is an XOR, and the serial a count.
///
/// `@unchecked Sendable`: used only by the engine, one batch at a time.
final class PostgresTransaction: @unchecked Sendable {
    let connection: PostgresConnection
    let logger: Logger
    let key: IntegrityKey
    /// Before `attach`: the delta of the changes made so far (serial 0, digest zero).
    var head = IntegrityHead(serial: 0, digest: zeroDigest, clockMark: 0)
    /// The serial in the database when store_meta was locked (before any of this batch's writes).
    private(set) var startSerial: Int64 = 0
    var nextRevocation: Int64 = 0
    var keysChanged = false
    var rebuilt = false
    var revoked = false
    /// The lifecycle events of the batch's writes, in order: given their serials and inserted by
    /// `finish`, under store_meta's lock.
    var events: [LinkEvent] = []

    /// store_meta's key-ring and rebuild serials and next revocation id when it was locked: equal
    /// to what this daemon has applied, the commits of others since then changed no state it
    /// holds in memory (only use counters, issue records, password attempts).
    private(set) var startKeysSerial: Int64 = 0
    private(set) var startRebuildSerial: Int64 = 0
    private(set) var startNextRevocation: Int64 = 0

    init(connection: PostgresConnection, logger: Logger, key: IntegrityKey) {
        self.connection = connection
        self.logger = logger
        self.key = key
    }

    /// The head as locked in store_meta, with the changes made before it laid on top.
    func attach(head base: IntegrityHead, nextRevocation: Int64, keysSerial: Int64, rebuildSerial: Int64) {
        var digest = base.digest
        xorDigest(&digest, head.digest)
        head = IntegrityHead(serial: base.serial + head.serial, digest: digest, clockMark: base.clockMark)
        startSerial = base.serial
        self.nextRevocation = nextRevocation
        startNextRevocation = nextRevocation
        startKeysSerial = keysSerial
        startRebuildSerial = rebuildSerial
    }

    /// The serial as of the writes made so far: read at the end of a write, it is that write's own.
    var serial: Int64 { head.serial }

    func rows(_ query: PostgresQuery) async throws -> [PostgresRow] {
        try PostgresEngine.refuseClosed(connection)
        return try await connection.query(query, logger: logger).collect()
    }

    func run(_ query: PostgresQuery) async throws {
        try PostgresEngine.refuseClosed(connection)
        _ = try await connection.query(query, logger: logger).collect()
    }

    /// Records that a sealed row changed from MAC `old` (nil: new) to `new` (nil: deleted).
    func change(from old: [UInt8]?, to new: [UInt8]?) {
        if let old { xorDigest(&head.digest, old) }
        if let new { xorDigest(&head.digest, new) }
        head.serial += 1
    }

    struct Mark { let head: IntegrityHead, next: Int64, keys: Bool, rebuilt: Bool, revoked: Bool, events: Int }
    var mark: Mark {
        Mark(head: head, next: nextRevocation, keys: keysChanged, rebuilt: rebuilt, revoked: revoked, events: events.count)
    }
    func restore(_ mark: Mark) {
        (head, nextRevocation, keysChanged, rebuilt, revoked) = (mark.head, mark.next, mark.keys, mark.rebuilt, mark.revoked)
        events.removeSubrange(mark.events...)
    }
}
