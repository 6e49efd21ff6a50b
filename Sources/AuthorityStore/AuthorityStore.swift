import AuthorityCore
import Foundation
import GRDB
import Logging
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// The daemon's durable state in SQLite: key ring, revocation list, audit log. One `DatabasePool`
/// in WAL mode with `synchronous=FULL`; writes are `BEGIN IMMEDIATE` transactions (GRDB's default
/// for writes) and every acknowledged write is on disk when its method returns (or its completion
/// runs). The writes of the hot path (revocations, issues, uses) go through `groupCommit`, which
/// shares one transaction among the writes that arrive together. In-memory views (key ring,
/// revocation index) change only after the commit, in commit order.
public final class AuthorityStore: Sendable {
    struct State {
        var keyRing: KeyRing
        var signing: (epoch: UInt64, key: SigningKey)
        var revocations: RevocationIndex?
    }

    let database: DatabasePool
    let masterKey: MasterKey
    let configuration: StoreConfiguration
    let logger: Logger
    let state: Mutex<State>
    /// The writer of revocations, issues and uses; `close()` it before the process ends.
    public let groupCommit: GroupCommit

    private init(
        database: DatabasePool, masterKey: MasterKey, configuration: StoreConfiguration, logger: Logger, state: State
    ) {
        self.database = database
        self.masterKey = masterKey
        self.configuration = configuration
        self.logger = logger
        self.state = Mutex(state)
        self.groupCommit = GroupCommit(database: database)
    }

    /// Opens (creating if needed) the state directory, master key and database; applies the
    /// migrations; creates the first key epoch in an empty database; loads key ring and revocations.
    public static func open(_ configuration: StoreConfiguration, now: Int64, logger: Logger) throws -> AuthorityStore {
        try createDirectory(configuration.stateDirectory)
        let masterKey = try MasterKey.load(
            credentialsDirectory: configuration.credentialsDirectory, configuredFile: configuration.masterKeyFile,
            stateDirectory: configuration.stateDirectory, logger: logger)
        let path = configuration.resolvedDatabasePath
        try createPrivateFile(path)
        var grdb = Configuration()
        grdb.busyMode = .timeout(10)
        grdb.prepareDatabase { db in try db.execute(sql: "PRAGMA synchronous = FULL") }
        let database = try DatabasePool(path: path, configuration: grdb)
        // GRDB sets `synchronous = NORMAL` on the pool's writer after `prepareDatabase` when it
        // enables WAL; NORMAL can lose the last commits on power loss. Set FULL on the (single,
        // long-lived) writer connection and check it took.
        try database.writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA synchronous = FULL")
            guard try Int.fetchOne(db, sql: "PRAGMA synchronous") == 2 else {
                throw StoreError.cannotEnforceDurability
            }
        }
        let migrator = SchemaMigrations.migrator()
        let applied = try database.read { db in try migrator.appliedIdentifiers(db) }
        let unknown = applied.subtracting(migrator.migrations).sorted()
        guard unknown.isEmpty else { throw StoreError.newerSchema(unknown) }
        try migrator.migrate(database)

        var records = try database.read { db in try KeyRow.fetchAll(db) }
        if records.isEmpty {
            try createFirstKey(database, masterKey: masterKey, now: now)
            records = try database.read { db in try KeyRow.fetchAll(db) }
            logger.notice("created the first key epoch", metadata: ["key.epoch": "1"])
        }
        let keyRing: KeyRing
        do {
            keyRing = try KeyRing(records: records.map(\.record))
        } catch {
            throw StoreError.keyRing(error)
        }
        guard let active = records.first(where: { $0.record.status == .active }) else {
            throw StoreError.keyRing(.noActiveKey)
        }
        let signingKey = try active.open(with: masterKey)
        let revocations = configuration.revocationsEnabled ? try loadRevocations(database) : nil
        logger.info(
            "store opened",
            metadata: [
                "db.path": "\(path)", "key.epoch": "\(active.record.epoch)",
                "revocations": "\(revocations.map { String($0.count) } ?? "disabled")",
            ])
        return AuthorityStore(
            database: database, masterKey: masterKey, configuration: configuration, logger: logger,
            state: State(keyRing: keyRing, signing: (active.record.epoch, signingKey), revocations: revocations))
    }

    /// The key ring as of the last commit.
    public var keyRing: KeyRing { state.withLock { $0.keyRing } }

    /// The active epoch and its signing key.
    public var signingKey: (epoch: UInt64, key: SigningKey) { state.withLock { $0.signing } }

    /// The revocation index as of the last commit; nil when the revocation list is switched off.
    public var revocations: RevocationIndex? { state.withLock { $0.revocations } }

    /// Key ring and revocations in one consistent snapshot, for a check.
    public var checkState: (keyRing: KeyRing, revocations: RevocationIndex?) {
        state.withLock { ($0.keyRing, $0.revocations) }
    }

    /// Creates the state directory 0700 when it does not exist (an existing one keeps its mode).
    public static func createDirectory(_ path: String) throws(StoreError) {
        var info = stat()
        if stat(path, &info) == 0 { return }
        do {
            try FileManager.default.createDirectory(
                atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw .cannotCreateStateDirectory(path: path, errno: errno)
        }
    }

    /// SQLite creates its -wal and -shm files with the database file's mode, so creating the
    /// database 0600 keeps all three private whatever the umask.
    static func createPrivateFile(_ path: String) throws(StoreError) {
        let fd = Glibc.open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw .cannotCreateStateDirectory(path: path, errno: errno) }
        close(fd)
    }

    private static func createFirstKey(_ database: DatabasePool, masterKey: MasterKey, now: Int64) throws {
        let key = SigningKey.generate()
        let sealed = key.withSeed { masterKey.seal($0) }
        try database.write { db in
            // Another process may have won the race between our read and this write.
            guard try Int.fetchOne(db, sql: "SELECT count(*) FROM signing_key") == 0 else { return }
            try KeyRow.insert(db, epoch: 1, publicKey: key.publicKey, sealed: sealed, now: now)
            try AuditEntry.record(db, at: now, caller: .daemon, action: "keys.init", epoch: 1)
        }
    }
}
