import AuthorityCore
import AuthorityStore
import Logging
import PostgresNIO

/// One transaction of the writer as the jobs of a batch see it: the connection, and the head
/// (serial, digest of the sealed rows' MACs) as of the writes made so far, read from `store_meta`
/// under its row lock when the transaction began, so every daemon's writes chain in commit order.
///
/// `@unchecked Sendable`: used only by the engine, one batch at a time.
final class PostgresTransaction: @unchecked Sendable {
    let connection: PostgresConnection
    let logger: Logger
    let key: IntegrityKey
    var head: IntegrityHead
    /// The serial in the database when the transaction began (before any of its writes).
    let startSerial: Int64
    var nextRevocation: Int64
    var keysChanged = false
    var rebuilt = false
    var revoked = false

    /// store_meta's key-ring and rebuild serials and next revocation id when the transaction
    /// began: equal to what this daemon has applied, the commits of others since then changed no
    /// state it holds in memory (only use counters, issue records, password attempts).
    let startKeysSerial: Int64
    let startRebuildSerial: Int64
    let startNextRevocation: Int64

    init(
        connection: PostgresConnection, logger: Logger, key: IntegrityKey, head: IntegrityHead, nextRevocation: Int64,
        keysSerial: Int64, rebuildSerial: Int64
    ) {
        self.connection = connection
        self.logger = logger
        self.key = key
        self.head = head
        self.startSerial = head.serial
        self.nextRevocation = nextRevocation
        self.startNextRevocation = nextRevocation
        self.startKeysSerial = keysSerial
        self.startRebuildSerial = rebuildSerial
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

    struct Mark { let head: IntegrityHead, next: Int64, keys: Bool, rebuilt: Bool, revoked: Bool }
    var mark: Mark { Mark(head: head, next: nextRevocation, keys: keysChanged, rebuilt: rebuilt, revoked: revoked) }
    func restore(_ mark: Mark) {
        (head, nextRevocation, keysChanged, rebuilt, revoked) = (mark.head, mark.next, mark.keys, mark.rebuilt, mark.revoked)
    }
}
