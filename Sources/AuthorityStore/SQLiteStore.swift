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
public final class SQLiteStore: Store {
    /// The snapshot and who hears of its changes, under one lock.
    struct Shared {
        var snapshot: StoreSnapshot
        var observers: [@Sendable (StoreSnapshot) -> Void] = []
    }

    let database: DatabasePool
    let masterKey: MasterKey
    let configuration: StoreConfiguration
    let logger: Logger
    let shared: Mutex<Shared>
    let ledger: Ledger
    /// The daemon's time, which never runs backwards (persisted with the commits).
    public let time: TimeMark
    /// Every write of the store; `close()` the store before the process ends.
    public let groupCommit: GroupCommit

    init(
        database: DatabasePool, masterKey: MasterKey, configuration: StoreConfiguration, logger: Logger, snapshot: StoreSnapshot,
        ledger: Ledger
    ) {
        self.database = database
        self.masterKey = masterKey
        self.configuration = configuration
        self.logger = logger
        self.shared = Mutex(Shared(snapshot: snapshot))
        self.ledger = ledger
        self.time = ledger.time
        self.groupCommit = GroupCommit(database: database, ledger: ledger)
    }

    /// The database file.
    public var databasePath: String { ledger.databaseFile.path }
    public var location: String { databasePath }

    /// Key ring, signing key and revocation index as of the last commit.
    public var snapshot: StoreSnapshot { shared.withLock { $0.snapshot } }

    /// The key ring as of the last commit.
    public var keyRing: KeyRing { snapshot.keyRing }

    /// The active epoch and its signing key.
    public var signingKey: (epoch: UInt64, key: SigningKey) { snapshot.signing }

    /// The revocation index as of the last commit; nil when the revocation list is switched off.
    public var revocations: RevocationIndex? { snapshot.revocations }

    public func subscribe(_ observer: @escaping @Sendable (StoreSnapshot) -> Void) -> StoreSnapshot {
        shared.withLock { shared in
            shared.observers.append(observer)
            return shared.snapshot
        }
    }

    public func observeCommits(_ observer: @escaping @Sendable (_ writes: Int) -> Void) {
        groupCommit.observe(observer)
    }

    /// Changes the snapshot after a commit (on the writer thread, so in commit order), then tells
    /// the observers, before the write's completion runs.
    func update(_ change: (inout StoreSnapshot) -> Void) {
        let (snapshot, observers) = shared.withLock { shared in
            change(&shared.snapshot)
            shared.snapshot.generation &+= 1
            return (shared.snapshot, shared.observers)
        }
        for observer in observers { observer(snapshot) }
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
