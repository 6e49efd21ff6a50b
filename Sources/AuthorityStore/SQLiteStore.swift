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
    /// The in-memory state and who hears of its changes, under one lock. The revocation index is
    /// kept here only until a subscriber takes it (the server's copy is then the only one: two
    /// holders would copy the whole index at every revocation).
    struct Shared {
        var keyRing: KeyRing
        var signing: (epoch: UInt64, key: SigningKey)
        var revocations: RevocationIndex?
        var serial: Int64
        var handedOver = false
        var observers: [@Sendable (StoreChange, Int64) -> Void] = []

        var snapshot: StoreSnapshot {
            StoreSnapshot(keyRing: keyRing, signing: signing, revocations: revocations, serial: serial)
        }
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
        self.shared = Mutex(
            Shared(
                keyRing: snapshot.keyRing, signing: snapshot.signing, revocations: snapshot.revocations,
                serial: ledger.committed.serial))
        self.ledger = ledger
        self.time = ledger.time
        self.groupCommit = GroupCommit(database: database, ledger: ledger)
    }

    /// The database file.
    public var databasePath: String { ledger.databaseFile.path }
    public var location: String { databasePath }

    /// The key ring as of the last commit.
    public var keyRing: KeyRing { shared.withLock { $0.keyRing } }

    /// The active epoch and its signing key.
    public var signingKey: (epoch: UInt64, key: SigningKey) { shared.withLock { $0.signing } }

    /// The revocation index as of the last commit (read from the database once a subscriber has
    /// taken the in-memory one); nil when the revocation list is switched off.
    public var revocations: RevocationIndex? {
        let (handedOver, held) = shared.withLock { ($0.handedOver, $0.revocations) }
        guard handedOver, configuration.revocationsEnabled else { return held }
        // Read outside the lock: the writer thread takes it after every commit.
        return try? database.read { db in try Self.loadRevocations(db) }
    }

    public func subscribe(_ observer: @escaping @Sendable (StoreChange, Int64) -> Void) {
        shared.withLock { shared in
            var snapshot = shared.snapshot
            if shared.handedOver, configuration.revocationsEnabled {
                // A later subscriber: the index as committed. A change committed but not yet
                // applied is heard again after this; inserting it twice changes nothing.
                snapshot.revocations = try? database.read { db in try Self.loadRevocations(db) }
            }
            shared.revocations = nil
            shared.handedOver = true
            shared.observers.append(observer)
            observer(.everything(snapshot), snapshot.serial)
        }
    }

    public func observeCommits(_ observer: @escaping @Sendable (_ writes: Int) -> Void) {
        groupCommit.observe(observer)
    }

    /// Applies `change` after a commit (on the writer thread, so in commit order), then tells the
    /// subscribers, before the write's completion runs. `serial` is the ledger's serial right
    /// after the write that made the change (`Ledger.serial`, taken inside that write).
    func update(_ change: StoreChange, serial: Int64) {
        let observers = shared.withLock { shared in
            var snapshot = shared.snapshot
            shared.revocations = nil  // the index is changed in place: no second reference to it
            snapshot.apply(change, serial: serial)
            (shared.keyRing, shared.signing, shared.serial) = (snapshot.keyRing, snapshot.signing, snapshot.serial)
            if !shared.handedOver { shared.revocations = snapshot.revocations }
            return shared.observers
        }
        for observer in observers { observer(change, serial) }
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
