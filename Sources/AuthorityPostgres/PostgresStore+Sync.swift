import AuthorityCore
import AuthorityStore
import Foundation
import Logging
import NIOCore
import PostgresNIO

/// The `store_meta` row.
struct MetaRow {
    var head: IntegrityHead
    var mac: [UInt8]
    var storeID: [UInt8]
    var nextRevocation: Int64
    var keysSerial: Int64
    var rebuildSerial: Int64

    static let columns = "head_serial, head_digest, head_mac, clock_mark, next_revocation, keys_serial, rebuild_serial, store_id"

    static func fetch(_ connection: PostgresConnection, logger: Logger) async throws -> MetaRow? {
        let rows = try await connection.query(
            PostgresQuery(unsafeSQL: "SELECT \(columns) FROM store_meta WHERE only_row = 1"), logger: logger
        ).collect()
        guard let row = rows.first else { return nil }
        let (serial, digest, mac, clock, next, keys, rebuild, storeID) = try row.decode(
            (Int64, Data, Data, Int64, Int64, Int64, Int64, Data).self)
        return MetaRow(
            head: IntegrityHead(serial: serial, digest: [UInt8](digest), clockMark: clock), mac: [UInt8](mac),
            storeID: [UInt8](storeID), nextRevocation: next, keysSerial: keys, rebuildSerial: rebuild)
    }
}

extension PostgresStore {
    /// Brings the in-memory state up to the database's, from one consistent snapshot: the key
    /// ring when it changed, the whole index after a rebuild, else the revocations added since.
    /// Runs on the engine's loop (after a commit, or as a queued read), so in serial order.
    func catchUp(_ connection: PostgresConnection) async throws {
        try PostgresEngine.refuseClosed(connection)
        try await connection.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", logger: logger)
        do {
            let changes = try await readChanges(connection)
            try await connection.query("COMMIT", logger: logger)
            if let (list, meta) = changes {
                _ = time.now(wall: meta.head.clockMark)
                lastDigest.withLock { $0 = meta.head.digest }
                apply(list, serial: meta.head.serial, headMAC: Data(meta.mac).hex)
                shared.withLock { shared in
                    shared.keysSerial = meta.keysSerial
                    shared.rebuildSerial = meta.rebuildSerial
                    shared.nextRevocation = meta.nextRevocation
                }
            }
            markSynced()
        } catch {
            await PostgresEngine.rollback(connection, after: error, logger: logger)
            throw error
        }
    }

    /// Nil when the database is at the serial this daemon holds.
    private func readChanges(_ connection: PostgresConnection) async throws -> ([StoreChange], MetaRow)? {
        guard let meta = try await MetaRow.fetch(connection, logger: logger) else {
            throw StoreError.corruptRow("store_meta is missing")
        }
        let known = shared.withLock { ($0.serial, $0.keysSerial, $0.rebuildSerial, $0.nextRevocation) }
        if meta.head.serial < known.0 {
            logger.critical(
                "PostgreSQL is behind a version this daemon saw: acknowledged changes are missing (restored from an older backup?)",
                metadata: ["db.version": "\(meta.head.serial)", "seen": "\(known.0)"])
            let lost = StoreError.changesLost(path: locationDescription, databaseSerial: meta.head.serial, acknowledgedSerial: known.0)
            noteChangesLost(lost)
            throw lost
        }
        guard meta.head.serial > known.0 else { return nil }
        var changes: [StoreChange] = []
        if meta.keysSerial > known.1 {
            let (ring, signing) = try await loadKeys(connection)
            changes.append(.keys(ring, signing: signing))
        }
        if configuration.revocationsEnabled {
            if meta.rebuildSerial > known.2 {
                changes.append(.revocations(try await Self.loadRevocations(connection, logger: logger)))
            } else if meta.nextRevocation > known.3 {
                for revocation in try await loadRevocations(connection, from: known.3) { changes.append(.revoked(revocation)) }
            }
        }
        return (changes, meta)
    }

    /// The key ring from the database, every row checked against its MAC, and the active key.
    func loadKeys(_ connection: PostgresConnection) async throws -> (KeyRing, (epoch: UInt64, key: SigningKey)) {
        let rows = try await KeyRowValues.fetchAll(connection, logger: logger)
        for row in rows where !key.verify(row.mac, of: row.sealed) {
            throw StoreError.integrity(path: locationDescription, "key epoch \(row.record.epoch) does not match its MAC (changed or damaged)")
        }
        let ring: KeyRing
        do {
            ring = try KeyRing(records: rows.map(\.record))
        } catch {
            throw StoreError.keyRing(error)
        }
        guard let active = rows.first(where: { $0.record.status == .active }) else { throw StoreError.keyRing(.noActiveKey) }
        let epoch = active.record.epoch
        if let opened = shared.withLock({ $0.openedKeys[epoch] }) { return (ring, (epoch, opened)) }
        guard let opened = masterKey.openSigningKey(nonce: active.nonce, sealed: active.sealedSeed) else {
            throw StoreError.sealedKeyDoesNotOpen(epoch: epoch)
        }
        guard opened.publicKey == active.record.publicKey else { throw StoreError.keyMismatch(epoch: epoch) }
        shared.withLock { $0.openedKeys[epoch] = opened }
        return (ring, (epoch, opened))
    }

    /// Revocations with ids from `first` on, each checked against its MAC.
    private func loadRevocations(_ connection: PostgresConnection, from first: Int64) async throws -> [Revocation] {
        let rows = try await connection.query(
            "SELECT \(unescaped: RevocationRowValues.columns) FROM revocation WHERE id >= \(first) ORDER BY id", logger: logger
        ).collect()
        return try rows.map { row in
            let values = try RevocationRowValues(row)
            guard key.verify(values.mac, of: values.sealed) else {
                throw StoreError.integrity(path: locationDescription, "revocation serial \(values.record.id) does not match its MAC")
            }
            return values.record.revocation
        }
    }

    /// The index from every stored revocation.
    static func loadRevocations(_ connection: PostgresConnection, logger: Logger) async throws -> RevocationIndex {
        var index = RevocationIndex()
        let rows = try await connection.query("SELECT link_id, prefix, issued_before FROM revocation", logger: logger)
        for try await (linkID, prefix, issuedBefore) in rows.decode((Data?, String?, Int64?).self) {
            if let linkID, linkID.count == 16 {
                index.insert(.id(LinkID(bytes: [UInt8](linkID))))
            } else if let prefix {
                index.insert(issuedBefore.map { .issuedBefore($0, prefix: prefix) } ?? .prefix(prefix))
            } else {
                throw StoreError.corruptRow("revocation without link id or prefix")
            }
        }
        return index
    }

    /// Queues a catch-up unless one is queued already (notifications and polls coalesce).
    func requestCatchUp() {
        guard catchUpQueued.withLock({ queued in
            defer { queued = true }
            return !queued
        }) else { return }
        engine.submit(
            .read(
                { [self] connection in
                    catchUpQueued.withLock { $0 = false }
                    try await catchUp(connection)
                },
                fail: { [self] error in
                    catchUpQueued.withLock { $0 = false }
                    if case PostgresStoreError.unavailable = error { return }
                    logger.error("catching up with PostgreSQL failed", metadata: ["error": "\(error)"])
                }))
    }

    /// Polls every `pollInterval` and listens for notifications until `close()`.
    func startFollowing() {
        let loop = engine.loop
        let poll = loop.scheduleRepeatedTask(initialDelay: pollInterval, delay: pollInterval) { [weak self] _ in
            self?.requestCatchUp()
        }
        listener.start(poll: poll, executor: engine.executor) { [weak self] in self?.requestCatchUp() }
    }
}
