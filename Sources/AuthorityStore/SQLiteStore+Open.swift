import AuthorityCore
import Foundation
import GRDB
import Logging

#if canImport(Glibc)
import Glibc
#endif

/// The `store_meta` row.
struct StoreMeta {
    var storeID: [UInt8]
    var head: IntegrityHead
    var mac: [UInt8]

    static func fetch(_ db: Database) throws -> StoreMeta? {
        try Row.fetchOne(db, sql: "SELECT * FROM store_meta WHERE only_row = 1").map { row in
            StoreMeta(
                storeID: [UInt8](row["store_id"] as Data),
                head: IntegrityHead(
                    serial: row["head_serial"], digest: [UInt8](row["head_digest"] as Data), clockMark: row["clock_mark"]),
                mac: [UInt8](row["head_mac"] as Data))
        }
    }

    static func insert(_ db: Database, storeID: [UInt8], head: IntegrityHead, key: IntegrityKey, now: Int64) throws {
        try db.execute(
            sql: """
                INSERT INTO store_meta (only_row, store_id, created_at, clock_mark, head_serial, head_digest, head_mac)
                VALUES (1, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [
                Data(storeID), now, head.clockMark, head.serial, Data(head.digest), Data(head.mac(storeID: storeID, key: key)),
            ])
    }
}

extension SQLiteStore {
    /// Opens the state directory, master key and database, refusing anything that is not this
    /// state directory's own intact database (docs/operations.md): a missing or empty database
    /// once `authority.head` exists, a foreign one, one that fails `PRAGMA quick_check`, a sealed
    /// row that does not match its MAC, a database behind the acknowledged head. The first start
    /// creates the first key epoch and `authority.head`. `configuration.adoptDatabase` accepts the
    /// database as it is (after a restore) and records it in `authority.head`.
    public static func open(_ configuration: StoreConfiguration, now wall: Int64, logger: Logger) throws -> SQLiteStore {
        try createDirectory(configuration.stateDirectory)
        let path = configuration.resolvedDatabasePath
        let headPath = configuration.stateDirectory + "/" + HeadFile.name
        let initialised = FileManager.default.fileExists(atPath: headPath)
        let databaseBytes = try fileSize(path)
        let adopt = configuration.adoptDatabase
        if initialised, !adopt, (databaseBytes ?? 0) == 0 {
            throw StoreError.databaseMissing(path: path, head: headPath, state: databaseBytes == nil ? "missing" : "empty")
        }
        let masterKey = try MasterKey.load(
            credentialsDirectory: configuration.credentialsDirectory, configuredFile: configuration.masterKeyFile,
            stateDirectory: configuration.stateDirectory, mayCreate: (databaseBytes ?? 0) == 0, database: path,
            logger: logger)
        let key = IntegrityKey(masterKey: masterKey)
        let recorded = try HeadFile.read(directory: configuration.stateDirectory, key: key)
        let database = try openDatabase(path)
        let started = ContinuousClock.now
        try quickCheck(database, path: path)
        let quickChecked = ContinuousClock.now
        try migrate(database)

        var created = false
        var meta = try database.read { db in try StoreMeta.fetch(db) }
        if try database.read({ db in try Int.fetchOne(db, sql: "SELECT count(*) FROM signing_key") }) == 0 {
            if case .head = recorded, !adopt {
                throw StoreError.databaseMissing(path: path, head: headPath, state: "without a key ring (its -wal file may be lost)")
            }
            guard meta == nil else { throw StoreError.integrity(path: path, "the key ring is empty") }
            meta = try initialise(database, masterKey: masterKey, key: key, now: wall)
            created = true
            logger.notice("created the first key epoch", metadata: ["key.epoch": "1", "db.path": "\(path)"])
        } else if meta == nil {
            meta = try sealExistingRows(database, key: key, now: wall, logger: logger)
            created = true
        }
        guard let meta else { throw StoreError.integrity(path: path, "store_meta is missing") }
        // The master key first: under a wrong one every MAC fails too, and this says why.
        let records = try database.read { db in try KeyRow.fetchAll(db) }
        guard let active = records.first(where: { $0.record.status == .active }) else {
            throw StoreError.keyRing(.noActiveKey)
        }
        let signingKey = try active.open(with: masterKey)
        let verifyStarted = ContinuousClock.now
        let digest = try verifyRows(database, key: key, path: path)
        logger.info(
            "database checked",
            metadata: [
                "db.path": "\(path)", "quick_check.ms": "\(milliseconds(quickChecked - started))",
                "rows_check.ms": "\(milliseconds(ContinuousClock.now - verifyStarted))",
            ])
        try check(meta, digest: digest, against: recorded, key: key, path: path, head: headPath, fresh: created, adopt: adopt)

        var head = meta.head
        if case .head(let storeID, let fileHead) = recorded, storeID == meta.storeID {
            head.clockMark = max(head.clockMark, fileHead.clockMark)
        }
        if wall + 2 < head.clockMark {
            logger.warning(
                "the clock is behind the time this daemon has already used; using that time until the clock catches up",
                metadata: ["clock.behind_seconds": "\(head.clockMark - wall)"])
        }
        let time = TimeMark(mark: max(head.clockMark, wall))
        let headFile = HeadFile(directory: configuration.stateDirectory)
        let ledger = Ledger(
            key: key, storeID: meta.storeID, headFile: headFile, databaseFile: try FileIdentity(path: path), time: time,
            head: head)
        ledger.nextRevocationSerial = try database.read { db in
            let recorded = try Int64.fetchOne(db, sql: "SELECT next_revocation FROM store_meta") ?? 1
            return max(recorded, (try Int64.fetchOne(db, sql: "SELECT coalesce(max(id), 0) FROM revocation") ?? 0) &+ 1)
        }
        try ledger.writeHeadFile()
        if adopt, !created { logger.notice("adopted the database as this state directory's", metadata: ["db.path": "\(path)", "version": "\(head.serial)"]) }
        return try makeStore(
            database, masterKey: masterKey, records: records, signing: (active.record.epoch, signingKey),
            configuration: configuration, logger: logger, ledger: ledger)
    }

    private static func makeStore(
        _ database: DatabasePool, masterKey: MasterKey, records: [KeyRow], signing: (epoch: UInt64, key: SigningKey),
        configuration: StoreConfiguration, logger: Logger, ledger: Ledger
    ) throws -> SQLiteStore {
        let keyRing: KeyRing
        do {
            keyRing = try KeyRing(records: records.map(\.record))
        } catch {
            throw StoreError.keyRing(error)
        }
        let revocations = configuration.revocationsEnabled ? try database.read { db in try loadRevocations(db) } : nil
        logger.info(
            "store opened",
            metadata: [
                "db.path": "\(ledger.databaseFile.path)", "key.epoch": "\(signing.epoch)", "version": "\(ledger.committed.serial)",
                "revocations": "\(revocations.map { String($0.count) } ?? "disabled")",
            ])
        return SQLiteStore(
            database: database, masterKey: masterKey, configuration: configuration, logger: logger,
            snapshot: StoreSnapshot(keyRing: keyRing, signing: signing, revocations: revocations),
            ledger: ledger)
    }

    private static func milliseconds(_ duration: Duration) -> Int64 {
        duration.components.seconds * 1_000 + duration.components.attoseconds / 1_000_000_000_000_000
    }

    /// The size of the regular file `path`, nil when it does not exist; anything but a regular
    /// file (a directory, a socket) cannot be a database.
    static func fileSize(_ path: String) throws(StoreError) -> Int64? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        guard info.st_mode & S_IFMT == S_IFREG else {
            throw .cannotOpenDatabase(path: path, errno: info.st_mode & S_IFMT == S_IFDIR ? EISDIR : EINVAL)
        }
        return Int64(info.st_size)
    }

    /// The writer connection's page cache, in KiB.
    static let writerCacheKiB = 32 * 1_024

    private static func openDatabase(_ path: String) throws -> DatabasePool {
        try createPrivateFile(path)
        var grdb = Configuration()
        grdb.busyMode = .timeout(10)
        grdb.prepareDatabase { db in try db.execute(sql: "PRAGMA synchronous = FULL") }
        let database: DatabasePool
        do {
            database = try DatabasePool(path: path, configuration: grdb)
        } catch let error as DatabaseError {
            throw StoreError.quickCheckFailed(path: path, error.message ?? "\(error.resultCode)")
        }
        // GRDB sets `synchronous = NORMAL` on the pool's writer after `prepareDatabase` when it
        // enables WAL; NORMAL can lose the last commits on power loss. Set FULL on the (single,
        // long-lived) writer connection and check it took.
        try database.writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA synchronous = FULL")
            guard try Int.fetchOne(db, sql: "PRAGMA synchronous") == 2 else {
                throw StoreError.cannotEnforceDurability
            }
            // The writer's page cache (SQLite's default is 2 MiB per connection): the link
            // records and events an issue or a flush touches stay in memory instead of a read
            // from the file each. The readers keep the default.
            try db.execute(sql: "PRAGMA cache_size = -\(writerCacheKiB)")
            // A flush's statements join and sort a VALUES list (ephemeral tables, a sorter):
            // in memory, instead of a temporary file created and deleted for each.
            try db.execute(sql: "PRAGMA temp_store = MEMORY")
            // The activity flush's table (recordActivity), made once here, outside a transaction:
            // a CREATE, even of a table that exists, makes GRDB empty its statement caches.
            try db.execute(sql: activityFlushTable)
        }
        return database
    }

    /// `PRAGMA quick_check`: the b-trees and their pages are sound (it cannot see a changed value
    /// inside a row: the row MACs do).
    private static func quickCheck(_ database: DatabasePool, path: String) throws {
        let answer: [String]
        do {
            answer = try database.read { db in try String.fetchAll(db, sql: "PRAGMA quick_check") }
        } catch let error as DatabaseError {
            throw StoreError.quickCheckFailed(path: path, error.message ?? "\(error.resultCode)")
        }
        guard answer == ["ok"] else { throw StoreError.quickCheckFailed(path: path, answer.first ?? "no answer") }
    }

    private static func migrate(_ database: DatabasePool) throws {
        let migrator = SchemaMigrations.migrator()
        let applied = try database.read { db in try migrator.appliedIdentifiers(db) }
        let unknown = applied.subtracting(migrator.migrations).sorted()
        guard unknown.isEmpty else { throw StoreError.newerSchema(unknown) }
        try migrator.migrate(database)
    }

    /// A new database: the first key epoch and `store_meta`, in one transaction.
    private static func initialise(_ database: DatabasePool, masterKey: MasterKey, key: IntegrityKey, now: Int64) throws
        -> StoreMeta
    {
        let signing = SigningKey.generate()
        let sealed = signing.withSeed { masterKey.seal($0) }
        let storeID = LinkID.random().bytes
        var head = IntegrityHead(serial: 0, digest: zeroDigest, clockMark: now)
        try database.write { db in
            try KeyRow.insert(db, epoch: 1, publicKey: signing.publicKey, sealed: sealed, now: now)
            head.digest = try KeyRow.reseal(db, epoch: 1, key: key).new
            head.serial = 1
            try AuditEntry.record(db, at: now, caller: .daemon, action: "keys.init", epoch: 1)
            try StoreMeta.insert(db, storeID: storeID, head: head, key: key, now: now)
        }
        return StoreMeta(storeID: storeID, head: head, mac: head.mac(storeID: storeID, key: key))
    }

    /// A database from before the integrity head: seals every revocation and use counter as it
    /// is, once.
    private static func sealExistingRows(_ database: DatabasePool, key: IntegrityKey, now: Int64, logger: Logger) throws
        -> StoreMeta
    {
        let storeID = LinkID.random().bytes
        var head = IntegrityHead(serial: 0, digest: zeroDigest, clockMark: now)
        try database.write { db in
            var sealed = 0
            for row in try Row.fetchAll(db, sql: "SELECT * FROM revocation ORDER BY id") {
                let mac = key.mac(revocationSeal(row))
                try db.execute(sql: "UPDATE revocation SET mac = ? WHERE id = ?", arguments: [Data(mac), row["id"] as Int64])
                xorDigest(&head.digest, mac)
                sealed += 1
            }
            for row in try Row.fetchAll(db, sql: "SELECT epoch FROM signing_key") {
                xorDigest(&head.digest, try KeyRow.reseal(db, epoch: UInt64(row[0] as Int64), key: key).new)
                sealed += 1
            }
            for row in try Row.fetchAll(db, sql: "SELECT * FROM link_use") {
                let mac = key.mac(useSeal(row))
                try db.execute(sql: "UPDATE link_use SET mac = ? WHERE link_id = ?", arguments: [Data(mac), row["link_id"] as Data])
                xorDigest(&head.digest, mac)
                sealed += 1
            }
            head.serial = Int64(sealed)
            try StoreMeta.insert(db, storeID: storeID, head: head, key: key, now: now)
            logger.notice("sealed the rows of a database from an earlier version", metadata: ["rows": "\(sealed)"])
        }
        return StoreMeta(storeID: storeID, head: head, mac: head.mac(storeID: storeID, key: key))
    }

    /// Every sealed row against its MAC, in serial order (the first bad one is named); returns the
    /// XOR of their MACs.
    static func verifyRows(_ database: any DatabaseReader, key: IntegrityKey, path: String) throws -> [UInt8] {
        try database.read { db in try verifyRows(db, key: key, path: path) }
    }

    static func verifyRows(_ db: Database, key: IntegrityKey, path: String) throws -> [UInt8] {
        var digest = zeroDigest
        /// Each row of `sql` against its MAC (the column `mac`), XORed into `digest`.
        func check(_ sql: String, sealed: (Row) -> [UInt8], name: (Row) -> String) throws {
            let rows = try Row.fetchCursor(db, sql: sql)
            while let row = try rows.next() {
                let mac = (row["mac"] as Data?).map { [UInt8]($0) } ?? []
                guard key.verify(mac, of: sealed(row)) else {
                    throw StoreError.integrity(path: path, "\(name(row)) does not match its MAC (changed or damaged)")
                }
                xorDigest(&digest, mac)
            }
        }
        // Revocation columns by position: this runs once per stored revocation at every start.
        try check(
            "SELECT id, link_id, prefix, issued_before, reason, created_at, live_until, actor_uid, mac FROM revocation ORDER BY id",
            sealed: { row in
                revocationSeal(
                    id: row[0], linkID: row[1], prefix: row[2], issuedBefore: row[3], reason: row[4], createdAt: row[5],
                    liveUntil: row[6], actorUID: row[7])
            },
            name: { row in "revocation serial \(row[0] as Int64)" })
        try check("SELECT * FROM signing_key ORDER BY epoch", sealed: KeyRow.seal, name: { row in "key epoch \(row["epoch"] as Int64)" })
        try check("SELECT * FROM link_use ORDER BY link_id", sealed: useSeal) { row in
            "the use counter of link \((row["link_id"] as Data?).map { LinkID(bytes: [UInt8]($0)).description } ?? "?")"
        }
        return digest
    }

    /// The recorded head against the rows and against `authority.head`.
    private static func check(
        _ meta: StoreMeta, digest: [UInt8], against recorded: HeadFile.Contents, key: IntegrityKey, path: String,
        head headPath: String, fresh: Bool, adopt: Bool
    ) throws {
        guard key.verify(meta.mac, of: meta.head.sealedBytes(storeID: meta.storeID)) else {
            throw StoreError.integrity(path: path, "its recorded head does not match its MAC (changed, or sealed under another master key)")
        }
        guard digest == meta.head.digest else {
            throw StoreError.integrity(
                path: path, "its sealed rows do not add up to its head at version \(meta.head.serial) (a row was removed, or restored from an older copy)")
        }
        if adopt { return }
        switch recorded {
        case .absent:
            if !fresh { throw StoreError.headMissing(path: path, head: headPath) }
        case .damaged:
            throw StoreError.headDamaged(head: headPath)
        case .head(let storeID, let head):
            guard storeID == meta.storeID else { throw StoreError.foreignDatabase(path: path, head: headPath) }
            if head.serial > meta.head.serial {
                throw StoreError.changesLost(path: path, databaseSerial: meta.head.serial, acknowledgedSerial: head.serial)
            }
            if head.serial == meta.head.serial, head.digest != meta.head.digest {
                throw StoreError.integrity(path: path, "its head at version \(head.serial) differs from the acknowledged one")
            }
        }
    }
}
