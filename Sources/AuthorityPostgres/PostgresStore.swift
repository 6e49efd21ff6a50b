import AuthorityCore
import AuthorityStore
import Foundation
import Logging
import NIOCore
import NIOPosix
import PostgresNIO
import Synchronization

/// The daemon's durable state in PostgreSQL, shared by every daemon of a fleet (docs/fleet.md):
/// the same tables, sealed rows and integrity head as `SQLiteStore`, the same semantics behind
/// `Store`. Every write transaction locks `store_meta`'s one row first, so the writes of all
/// daemons are serialised and each change gets the next serial of one shared sequence; a write
/// that changes the key ring or the revocation list notifies (`NOTIFY authority_changes`).
///
/// Each daemon keeps the state a check needs in memory and follows the database: after its own
/// commits, on every notification (a session connection `LISTEN`s), and by polling the serial,
/// so a lost notification or a reconnect costs latency, never a missed revocation. Changes reach
/// the subscribers in serial order, each with the serial of a consistent snapshot of the
/// database: two daemons at the same serial hold the same state.
///
/// While PostgreSQL cannot be reached every write fails at once with `unavailable` (answered 503),
/// and `secondsSinceSync` grows: the server refuses checks once it passes the maximum staleness.
public final class PostgresStore: Store {
    struct Shared {
        var keyRing: KeyRing
        var signing: (epoch: UInt64, key: SigningKey)
        var revocations: RevocationIndex?
        var handedOver = false
        var observers: [@Sendable (StoreChange, Int64) -> Void] = []
        var commitObservers: [@Sendable (Int) -> Void] = []
        var serial: Int64
        var headMAC: String
        /// What this daemon has applied: the serials of the last key-ring change and index rebuild,
        /// and the next revocation id it has not seen.
        var keysSerial: Int64
        var rebuildSerial: Int64
        var nextRevocation: Int64
        /// Opened secret keys by epoch (a rotation elsewhere is opened once).
        var openedKeys: [UInt64: SigningKey] = [:]
        var trouble: String?
        /// Set for good once the database is found behind a version this daemon acknowledged
        /// (restored, failed over to a replica without the last commits): every write and use is
        /// refused from then on, and a restart refuses too (unless `--adopt-database`).
        var lost: StoreError?

        var snapshot: StoreSnapshot {
            StoreSnapshot(keyRing: keyRing, signing: signing, revocations: revocations, serial: serial)
        }
    }

    let engine: PostgresEngine
    let group: MultiThreadedEventLoopGroup
    let masterKey: MasterKey
    let key: IntegrityKey
    let configuration: StoreConfiguration
    let locationDescription: String
    let storeID: [UInt8]
    let headFile: HeadFile
    let logger: Logger
    let shared: Mutex<Shared>
    let listener: PostgresListener
    /// How often the serial is polled besides the notifications.
    let pollInterval: TimeAmount
    public let time: TimeMark
    /// When this daemon last confirmed it holds the database's state (CLOCK_MONOTONIC, ns): read
    /// by every check, so an atomic rather than a field under `shared`'s lock.
    let lastSync = Atomic<Int64>(PostgresStore.monotonicNanoseconds())

    init(
        engine: PostgresEngine, group: MultiThreadedEventLoopGroup, masterKey: MasterKey, key: IntegrityKey,
        configuration: StoreConfiguration, storeID: [UInt8], logger: Logger, shared: Shared, time: TimeMark,
        listener: PostgresListener, pollInterval: TimeAmount
    ) {
        self.engine = engine
        self.group = group
        self.masterKey = masterKey
        self.key = key
        self.configuration = configuration
        self.locationDescription = engine.location.description
        self.storeID = storeID
        self.headFile = HeadFile(directory: configuration.stateDirectory)
        self.logger = logger
        self.shared = Mutex(shared)
        self.time = time
        self.listener = listener
        self.pollInterval = pollInterval
    }

    public var location: String { locationDescription }
    public var engineName: String { "postgresql" }

    public var version: (serial: Int64, head: String) { shared.withLock { ($0.serial, $0.headMAC) } }
    public var versionSerial: Int64 { shared.withLock { $0.serial } }

    public var keyRing: KeyRing { shared.withLock { $0.keyRing } }
    public var signingKey: (epoch: UInt64, key: SigningKey) { shared.withLock { $0.signing } }

    /// Seconds since this daemon last confirmed it holds the database's state (a commit, a poll,
    /// a catch-up); grows while PostgreSQL cannot be reached.
    public var secondsSinceSync: Double? {
        Double(Self.monotonicNanoseconds() - lastSync.load(ordering: .relaxed)) / 1e9
    }

    /// The daemon holds the database's state as of now.
    func markSynced() { lastSync.store(Self.monotonicNanoseconds(), ordering: .relaxed) }

    static func monotonicNanoseconds() -> Int64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return Int64(now.tv_sec) * 1_000_000_000 + Int64(now.tv_nsec)
    }

    /// Why PostgreSQL is not answering (nil while it is).
    public var unavailableReason: String? { shared.withLock { $0.lost.map { "\($0)" } ?? $0.trouble } }

    /// The refusal of every write once acknowledged changes were found missing.
    var lostChanges: StoreError? { shared.withLock { $0.lost } }

    func noteChangesLost(_ error: StoreError) { shared.withLock { $0.lost = $0.lost ?? error } }

    public func subscribe(_ observer: @escaping @Sendable (StoreChange, Int64) -> Void) {
        let needsIndex = shared.withLock { $0.handedOver && configuration.revocationsEnabled }
        // A later subscriber gets the index as committed, read before taking the lock.
        let loaded: RevocationIndex? = needsIndex ? try? wait { completion in
            self.engine.submit(.read({ connection in
                completion(.success(try await Self.loadRevocations(connection, logger: self.logger)))
            }, fail: { completion(.failure($0)) }))
        } : nil
        shared.withLock { shared in
            var snapshot = shared.snapshot
            if needsIndex { snapshot.revocations = loaded }
            shared.revocations = nil
            shared.handedOver = true
            shared.observers.append(observer)
            observer(.everything(snapshot), snapshot.serial)
        }
    }

    public func observeCommits(_ observer: @escaping @Sendable (Int) -> Void) {
        shared.withLock { $0.commitObservers.append(observer) }
    }

    /// Applies `changes` (in order, all with `serial`) and tells the subscribers. Called on the
    /// engine's loop only, so in serial order.
    func apply(_ changes: [StoreChange], serial: Int64, headMAC: String) {
        let observers = shared.withLock { shared -> [@Sendable (StoreChange, Int64) -> Void] in
            var snapshot = shared.snapshot
            shared.revocations = nil
            for change in changes { snapshot.apply(change, serial: serial) }
            (shared.keyRing, shared.signing) = (snapshot.keyRing, snapshot.signing)
            shared.serial = max(shared.serial, serial)
            shared.headMAC = headMAC
            if !shared.handedOver { shared.revocations = snapshot.revocations }
            return changes.isEmpty ? [] : shared.observers
        }
        for change in changes {
            for observer in observers { observer(change, serial) }
        }
    }

    func noteReachable(_ reachable: Bool, why: String?) {
        let changed = shared.withLock { shared -> Bool in
            let was = shared.trouble == nil
            shared.trouble = reachable ? nil : (why ?? "unreachable")
            return was != reachable
        }
        if changed {
            if reachable {
                logger.notice("PostgreSQL reachable again", metadata: ["db": "\(locationDescription)"])
            } else {
                logger.error("PostgreSQL unreachable: writes answer 503 until it is back", metadata: ["db": "\(locationDescription)", "error": "\(why ?? "")"])
            }
        }
    }

    /// Waits for `body`'s completion (on a thread that is not the engine's loop).
    func wait<T: Sendable>(_ body: (@escaping @Sendable (Result<T, any Error>) -> Void) -> Void) throws -> T {
        let box = Mutex<Result<T, any Error>?>(nil)
        let done = DispatchSemaphore(value: 0)
        body { result in
            box.withLock { $0 = result }
            done.signal()
        }
        done.wait()
        return try box.withLock { $0! }.get()
    }

    public func storageTrouble(_ error: any Error) -> String? {
        if let error = error as? PostgresStoreError {
            switch error {
            case .unavailable, .server: return error.description
            case .invalidLocation, .schema: return nil
            }
        }
        if let error = error as? StoreError {
            switch error {
            case .cannotWriteFile, .integrity, .closed, .corruptRow, .changesLost: return error.description
            default: return nil
            }
        }
        return nil
    }

    /// PostgreSQL being away is not a reason to stop: the daemon degrades and reconnects.
    public func checkAlive() throws {}

    public func close() {
        listener.stop()
        engine.close()
        while engine.queue.withLock({ $0.running }) { usleep(5_000) }
        do {
            try headFile.write(headNow(), storeID: storeID, key: key)
        } catch {
            logger.error("the final head was not written", metadata: ["error": "\(error)"])
        }
        try? group.syncShutdownGracefully()
    }

    /// The head as this daemon last saw it, with the time mark.
    func headNow() -> IntegrityHead {
        shared.withLock { shared in
            IntegrityHead(serial: shared.serial, digest: lastDigest.withLock { $0 }, clockMark: time.value)
        }
    }

    /// The digest of the head at `serial` (kept with it for `authority.head`).
    let lastDigest = Mutex<[UInt8]>(zeroDigest)
    /// A catch-up is queued on the engine.
    let catchUpQueued = Mutex(false)
}

extension Data {
    var hex: String { map { String(format: "%02x", $0) }.joined() }
}
