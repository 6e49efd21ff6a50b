import AuthorityCore
import AuthorityStore
import CSodium
import Foundation
import Logging
import NIOCore
import NIOPosix
import PostgresNIO

extension PostgresStore {
    /// Migrations and first-start initialisation take this advisory lock, so daemons that start
    /// together apply each migration once and create one first epoch.
    static let schemaLock: Int64 = 0x6175_7468_7363_686d  // "authschm"

    /// Connects, applies the schema (Migrations/postgresql/, in order, each recorded with its
    /// SHA-256), creates the first epoch if the database is new, and checks every sealed row and
    /// the head, against this daemon's `authority.head` too (a database behind a version this
    /// state directory acknowledged refuses start). The master key must be the fleet's: on a new
    /// database it may be created in the state directory (copy it to the other hosts); otherwise
    /// it must be given (`--master-key-file` or the systemd credential).
    public static func open(
        _ configuration: StoreConfiguration, location: PostgresLocation, now wall: Int64, logger: Logger,
        pollInterval: TimeAmount = .milliseconds(250)
    ) async throws -> PostgresStore {
        try SQLiteStore.createDirectory(configuration.stateDirectory)
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        do {
            return try await open(configuration, location: location, now: wall, logger: logger, group: group, pollInterval: pollInterval)
        } catch {
            try? await group.shutdownGracefully()
            throw PostgresStoreError.wrap(error, location: location.description)
        }
    }

    private static func open(
        _ configuration: StoreConfiguration, location: PostgresLocation, now wall: Int64, logger: Logger,
        group: MultiThreadedEventLoopGroup, pollInterval: TimeAmount
    ) async throws -> PostgresStore {
        let loop = group.next()
        let connection: PostgresConnection
        do {
            connection = try await PostgresConnection.connect(
                on: loop, configuration: try location.configuration(), id: 0, logger: logger)
        } catch {
            throw PostgresStoreError.unavailable(location: location.description, why: "cannot connect: \(PostgresEngine.describe(error))")
        }
        do {
            let store = try await prepare(connection, configuration, location: location, now: wall, logger: logger, group: group, pollInterval: pollInterval)
            try await connection.close()
            return store
        } catch {
            try? await connection.close()
            throw error
        }
    }

    private static func prepare(
        _ connection: PostgresConnection, _ configuration: StoreConfiguration, location: PostgresLocation, now wall: Int64,
        logger: Logger, group: MultiThreadedEventLoopGroup, pollInterval: TimeAmount
    ) async throws -> PostgresStore {
        try await connection.query("SELECT pg_advisory_lock(\(schemaLock))", logger: logger)
        let fresh: Bool
        do {
            try await migrate(connection, logger: logger)
            fresh = try await MetaRow.fetch(connection, logger: logger) == nil
        } catch {
            _ = try? await connection.query("SELECT pg_advisory_unlock(\(schemaLock))", logger: logger)
            throw error
        }
        let masterKey: MasterKey
        let key: IntegrityKey
        do {
            masterKey = try MasterKey.load(
                credentialsDirectory: configuration.credentialsDirectory, configuredFile: configuration.masterKeyFile,
                stateDirectory: configuration.stateDirectory, mayCreate: fresh, database: location.description, logger: logger)
            key = IntegrityKey(masterKey: masterKey)
            if fresh { try await initialise(connection, masterKey: masterKey, key: key, now: wall, logger: logger) }
        } catch {
            _ = try? await connection.query("SELECT pg_advisory_unlock(\(schemaLock))", logger: logger)
            throw error
        }
        try await connection.query("SELECT pg_advisory_unlock(\(schemaLock))", logger: logger)

        // One snapshot: every row checked, the head against them and against authority.head.
        try await connection.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", logger: logger)
        let report = try await integrityReport(connection, key: key, location: location.description, logger: logger)
        if let problem = report.problem { throw StoreError.integrity(path: location.description, problem) }
        guard let meta = try await MetaRow.fetch(connection, logger: logger) else { throw StoreError.corruptRow("store_meta is missing") }
        let keyRows = try await KeyRowValues.fetchAll(connection, logger: logger)
        let revocations = configuration.revocationsEnabled ? try await loadRevocations(connection, logger: logger) : nil
        try await connection.query("COMMIT", logger: logger)

        let headPath = configuration.stateDirectory + "/" + HeadFile.name
        var clockMark = meta.head.clockMark
        switch try HeadFile.read(directory: configuration.stateDirectory, key: key) {
        case .absent: break
        case .damaged: if !configuration.adoptDatabase { throw StoreError.headDamaged(head: headPath) }
        case .head(let storeID, let head):
            if !configuration.adoptDatabase {
                guard storeID == meta.storeID else { throw StoreError.foreignDatabase(path: location.description, head: headPath) }
                if head.serial > meta.head.serial {
                    throw StoreError.changesLost(path: location.description, databaseSerial: meta.head.serial, acknowledgedSerial: head.serial)
                }
            }
            clockMark = max(clockMark, head.clockMark)
        }
        let ring: KeyRing
        do {
            ring = try KeyRing(records: keyRows.map(\.record))
        } catch {
            throw StoreError.keyRing(error)
        }
        guard let active = keyRows.first(where: { $0.record.status == .active }) else { throw StoreError.keyRing(.noActiveKey) }
        guard let signing = masterKey.openSigningKey(nonce: active.nonce, sealed: active.sealedSeed) else {
            throw StoreError.sealedKeyDoesNotOpen(epoch: active.record.epoch)
        }
        guard signing.publicKey == active.record.publicKey else { throw StoreError.keyMismatch(epoch: active.record.epoch) }
        if wall + 2 < clockMark {
            logger.warning(
                "the clock is behind the time the fleet has already used; using that time until the clock catches up",
                metadata: ["clock.behind_seconds": "\(clockMark - wall)"])
        }
        let time = TimeMark(mark: max(clockMark, wall))
        let shared = Shared(
            keyRing: ring, signing: (active.record.epoch, signing), revocations: revocations, serial: meta.head.serial,
            headMAC: Data(meta.mac).hex, keysSerial: meta.keysSerial, rebuildSerial: meta.rebuildSerial,
            nextRevocation: meta.nextRevocation, openedKeys: [active.record.epoch: signing])
        let store = makeStore(
            configuration, location: location, logger: logger, group: group, masterKey: masterKey, key: key,
            storeID: meta.storeID, shared: shared, time: time, pollInterval: pollInterval)
        store.lastDigest.withLock { $0 = meta.head.digest }
        try store.headFile.write(meta.head, storeID: meta.storeID, key: key)
        logger.info(
            "store opened",
            metadata: [
                "db": "\(location)", "key.epoch": "\(active.record.epoch)", "version": "\(meta.head.serial)",
                "rows_checked": "\(report.rows)", "revocations": "\(revocations.map { String($0.count) } ?? "disabled")",
            ])
        await store.engine.use(key: key)
        Task { await store.engine.run() }
        store.startFollowing()
        return store
    }

    private static func makeStore(
        _ configuration: StoreConfiguration, location: PostgresLocation, logger: Logger, group: MultiThreadedEventLoopGroup,
        masterKey: MasterKey, key: IntegrityKey, storeID: [UInt8], shared: Shared, time: TimeMark, pollInterval: TimeAmount
    ) -> PostgresStore {
        let loop = group.next()
        let box = StoreBox()
        let engine = PostgresEngine(
            loop: loop, location: location, logger: logger,
            consume: { transaction, ids in
                guard let store = box.store else { throw StoreError.closed }
                return try await consume(transaction, ids: ids, store: store)
            },
            finish: { transaction in try await box.store?.finish(transaction) },
            committed: { connection, transaction, writes in try await box.store?.committed(connection, transaction, writes: writes) },
            reachable: { reachable, why in box.store?.noteReachable(reachable, why: why) })
        let store = PostgresStore(
            engine: engine, group: group, masterKey: masterKey, key: key, configuration: configuration, storeID: storeID,
            logger: logger, shared: shared, time: time, listener: PostgresListener(loop: loop, location: location, logger: logger),
            pollInterval: pollInterval)
        box.store = store
        return store
    }

    /// Inside each write transaction, after its jobs: the head, the time mark and what changed
    /// into store_meta, and a notification when the key ring or the revocation list changed.
    func finish(_ transaction: PostgresTransaction) async throws {
        transaction.head.clockMark = max(transaction.head.clockMark, time.value)
        let head = transaction.head
        let mac = head.mac(storeID: storeID, key: key)
        let serial = head.serial
        try await Self.insert(transaction.events, transaction)
        try await transaction.run(
            """
            UPDATE store_meta SET clock_mark = \(head.clockMark), head_serial = \(serial), head_digest = \(Data(head.digest)),
            head_mac = \(Data(mac)), next_revocation = \(transaction.nextRevocation),
            keys_serial = CASE WHEN \(transaction.keysChanged) THEN \(serial) ELSE keys_serial END,
            rebuild_serial = CASE WHEN \(transaction.rebuilt) THEN \(serial) ELSE rebuild_serial END
            WHERE only_row = 1
            """)
        if transaction.keysChanged || transaction.revoked || transaction.rebuilt {
            try await transaction.run("SELECT pg_notify(\(PostgresListener.channel), \(String(serial)))")
        }
    }

    /// After a commit, before its completions: `authority.head`, then the in-memory state. A batch
    /// that changed no state moves the serial alone when it began at the serial this daemon holds,
    /// or when what other daemons committed since changed nothing held in memory (the key ring,
    /// the revocations: their serials in store_meta are the ones this daemon applied); anything
    /// else catches up from the database.
    func committed(_ connection: PostgresConnection, _ transaction: PostgresTransaction, writes: Int) async throws {
        let head = transaction.head
        if head.serial != transaction.startSerial { try headFile.write(head, storeID: storeID, key: key) }
        let stateChanged = transaction.keysChanged || transaction.revoked || transaction.rebuilt
        let simple = shared.withLock { shared -> Bool in
            let othersChangedNoState = shared.keysSerial == transaction.startKeysSerial
                && shared.rebuildSerial == transaction.startRebuildSerial
                && shared.nextRevocation == transaction.startNextRevocation
            // Never when the database is behind this daemon (restored, failed over to a replica that
            // lacks commits): the catch-up refuses that (changes lost) before anything is acknowledged.
            guard !stateChanged, transaction.startSerial >= shared.serial,
                shared.serial == transaction.startSerial || othersChangedNoState
            else { return false }
            shared.serial = head.serial
            shared.headMAC = Data(head.mac(storeID: storeID, key: key)).hex
            return true
        }
        if simple {
            _ = time.now(wall: head.clockMark)  // other daemons' clock marks, as a catch-up takes them
            markSynced()
            lastDigest.withLock { $0 = head.digest }
        } else {
            do {
                try await catchUp(connection)
            } catch {
                // The database is behind what this daemon acknowledged: nothing more is.
                if case StoreError.changesLost = error { throw error }
                logger.error("catching up after a commit failed; the poll retries", metadata: ["error": "\(error)"])
            }
        }
        let observers = shared.withLock { $0.commitObservers }
        for observer in observers { observer(writes) }
    }

    static func migrate(_ connection: PostgresConnection, logger: Logger) async throws {
        try await connection.query(
            """
            CREATE TABLE IF NOT EXISTS authority_migrations (
                name TEXT PRIMARY KEY, sha256 TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())
            """, logger: logger)
        var applied: [String: String] = [:]
        for try await (name, digest) in try await connection.query(
            "SELECT name, sha256 FROM authority_migrations", logger: logger
        ).decode((String, String).self) {
            applied[name] = digest
        }
        let files = PostgresMigrations.files
        let unknown = Set(applied.keys).subtracting(files.map(\.name)).sorted()
        guard unknown.isEmpty else {
            throw PostgresStoreError.schema("the database was migrated by a newer authorityd (unknown migrations \(unknown.joined(separator: ", "))); do not downgrade")
        }
        for file in files {
            let digest = PostgresMigrations.sha256Hex(file.sql)
            if let recorded = applied[file.name] {
                guard recorded == digest else { throw PostgresStoreError.schema("migration \(file.name) differs from the one applied") }
                continue
            }
            try await connection.query("BEGIN", logger: logger)
            do {
                for statement in PostgresMigrations.statements(file.sql) {
                    try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                }
                try await connection.query("INSERT INTO authority_migrations (name, sha256) VALUES (\(file.name), \(digest))", logger: logger)
                try await connection.query("COMMIT", logger: logger)
            } catch {
                _ = try? await connection.query("ROLLBACK", logger: logger)
                throw error
            }
            logger.notice("applied a migration", metadata: ["migration": "\(file.name)"])
        }
    }

    /// A new database: the first epoch and store_meta, in one transaction.
    private static func initialise(
        _ connection: PostgresConnection, masterKey: MasterKey, key: IntegrityKey, now: Int64, logger: Logger
    ) async throws {
        let signing = SigningKey.generate()
        let sealed = signing.withSeed { masterKey.seal($0) }
        let storeID = LinkID.random().bytes
        try await connection.query("BEGIN", logger: logger)
        do {
            let publicKey = signing.publicKey.bytes
            let mac = key.mac(
                KeyRow.seal(
                    epoch: 1, publicKey: publicKey, nonce: sealed.nonce, sealedSeed: sealed.sealed, status: "active", createdAt: now,
                    retireAfter: nil, retiredAt: nil))
            try await connection.query(
                """
                INSERT INTO signing_key (epoch, public_key, nonce, sealed_seed, status, created_at, mac)
                VALUES (1, \(Data(publicKey)), \(Data(sealed.nonce)), \(Data(sealed.sealed)), 'active', \(now), \(Data(mac)))
                """, logger: logger)
            let head = IntegrityHead(serial: 1, digest: mac, clockMark: now)
            try await connection.query(
                """
                INSERT INTO audit_log (at, action, epoch) VALUES (\(now), 'keys.init', 1)
                """, logger: logger)
            try await connection.query(
                """
                INSERT INTO store_meta (only_row, store_id, created_at, clock_mark, head_serial, head_digest, head_mac, keys_serial)
                VALUES (1, \(Data(storeID)), \(now), \(now), 1, \(Data(head.digest)), \(Data(head.mac(storeID: storeID, key: key))), 1)
                """, logger: logger)
            try await connection.query("COMMIT", logger: logger)
        } catch {
            _ = try? await connection.query("ROLLBACK", logger: logger)
            throw error
        }
        logger.notice("created the first key epoch", metadata: ["key.epoch": "1"])
    }
}

/// The store, for the engine's closures (made before the store).
final class StoreBox: @unchecked Sendable {
    weak var store: PostgresStore?
}

/// The schema: Migrations/postgresql/NNNN_name.sql, embedded at build time.
public enum PostgresMigrations {
    public static var files: [(name: String, sql: String)] { EmbeddedMigrations.files }

    /// The statements of a migration, one by one (the extended protocol takes one at a time):
    /// comments dropped, split at `;`. Migrations keep `;` and `--` out of their string literals.
    static func statements(_ sql: String) -> [String] {
        let lines = sql.split(separator: "\n", omittingEmptySubsequences: false).map { line in
            line.range(of: "--").map { String(line[..<$0.lowerBound]) } ?? String(line)
        }
        return lines.joined(separator: "\n").split(separator: ";").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
            .filter { !$0.isEmpty }
    }

    static func sha256Hex(_ text: String) -> String {
        var digest = [UInt8](repeating: 0, count: 32)
        let bytes = Array(text.utf8)
        _ = crypto_hash_sha256(&digest, bytes, UInt64(bytes.count))
        return digest.map { String(format: "%02x", $0) }.joined()
    }
}
