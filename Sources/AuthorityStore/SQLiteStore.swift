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
public final class SQLiteStore: Sendable {
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
    let ledger: Ledger
    /// The daemon's time, which never runs backwards (persisted with the commits).
    public let time: TimeMark
    /// Every write of the store; `close()` the store before the process ends.
    public let groupCommit: GroupCommit

    init(
        database: DatabasePool, masterKey: MasterKey, configuration: StoreConfiguration, logger: Logger, state: State,
        ledger: Ledger
    ) {
        self.database = database
        self.masterKey = masterKey
        self.configuration = configuration
        self.logger = logger
        self.state = Mutex(state)
        self.ledger = ledger
        self.time = ledger.time
        self.groupCommit = GroupCommit(database: database, ledger: ledger)
    }

    /// The database file.
    public var databasePath: String { ledger.databaseFile.path }

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
        let fd = Glibc.open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw .cannotOpenDatabase(path: path, errno: errno) }
        Glibc.close(fd)
    }
}
