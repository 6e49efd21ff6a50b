import AuthorityCore

/// What the server needs of durable storage, and all it may use. `SQLiteStore` is one
/// implementation; another engine (PostgreSQL) is a module of its own conforming to this, with the
/// same semantics: every write is durable before its completion runs (or its method returns), and
/// subscribers hear of a change before that write's completion, in commit order.
///
/// Writes on the hot path (issues, revocations, uses, password attempts) report through a
/// completion and never block the caller; administration and maintenance block their (pool)
/// thread. Reads block their thread. The check path reads none of this: it reads the server's
/// copy of the state, kept by `subscribe`.
public protocol Store: AnyObject, Sendable {
    /// Where the data lives, for messages and log lines (a file path for SQLite).
    var location: String { get }
    /// The daemon's time, which never runs backwards (persisted with the commits).
    var time: TimeMark { get }
    /// The revocation list's version: (serial, hex of the head's MAC), as of the last commit.
    var version: (serial: Int64, head: String) { get }
    /// `version.serial` alone, without computing the head's MAC (read at every commit).
    var versionSerial: Int64 { get }

    /// Registers `observer`, calls it at once (before returning) with `.everything`, then with
    /// every later change of key ring, signing key or revocation index, in commit order, each before
    /// the completion of the write that made it, with the version serial right after that write
    /// (growing: a later change has a larger serial). No change falls between the first call and
    /// the next.
    func subscribe(_ observer: @escaping @Sendable (StoreChange, _ serial: Int64) -> Void)
    /// Registers `observer` for every commit, with its number of writes.
    func observeCommits(_ observer: @escaping @Sendable (_ writes: Int) -> Void)

    // MARK: Writes that report through `completion`, once durable.

    /// An issued link: its audit entry, its use counter and password row (`state`), and the
    /// epoch's retire mark raised to cover `expiresAt`. Fails with `StoreError.keyRing(.alreadyRetired)`
    /// when the epoch was retired meanwhile.
    func recordIssue(
        epoch: UInt64, expiresAt: Int64, linkID: LinkID, detail: String?, state: LinkState, now: Int64, caller: Caller,
        completion: @escaping @Sendable (Result<Void, any Error>) -> Void)
    /// Something valid until `expiresAt` (an unlock cookie) was signed under `epoch`.
    func noteSigned(epoch: UInt64, expiresAt: Int64, completion: @escaping @Sendable (Result<Void, any Error>) -> Void)
    func revoke(
        _ revocation: Revocation, reason: String?, now: Int64, caller: Caller,
        completion: @escaping @Sendable (Result<RevocationRecord, any Error>) -> Void)
    /// Uses one use of a use-limited link, exactly once.
    func consumeUse(_ id: LinkID, completion: @escaping @Sendable (Result<UseOutcome, any Error>) -> Void)
    func recordPasswordAttempt(
        _ id: LinkID, success: Bool, now: Int64, maxFailures: Int64, baseLockout: Int64,
        completion: @escaping @Sendable (Result<(record: PasswordRecord, locked: Bool)?, any Error>) -> Void)

    // MARK: Writes that block until durable (administration, maintenance).

    /// What checks saw (`ActivityLog`) into the links' records, one write; a `first_used` event
    /// for each link without a use limit whose first allowed check this is (a use-limited link's
    /// comes with its use). Returns how many `first_used` events.
    @discardableResult
    func recordActivity(_ activity: [LinkActivity]) throws -> Int

    /// A new active epoch; returns it.
    func rotate(now: Int64, caller: Caller) throws -> UInt64
    func retire(epoch: UInt64, force: Bool, now: Int64, caller: Caller) throws
    /// Nil when no revocation has `serial`.
    func liftRevocation(serial: Int64, reason: String?, now: Int64, caller: Caller) throws -> RevocationRecord?
    /// One round of upkeep: due epochs retired, revocations and link state no live link needs
    /// collected, the time mark persisted, the storage compacted where the engine needs it.
    func maintain(now: Int64) throws -> MaintenanceReport

    // MARK: Reads.

    /// Uses left of a use-limited link (nil: not use-limited, or its state was collected).
    func remainingUses(_ id: LinkID) throws -> Int64?
    func passwordRecord(_ id: LinkID) throws -> PasswordRecord?
    /// The record of link `id`; nil when it was never issued here or has been collected.
    func linkRecord(_ id: LinkID) throws -> LinkRecord?
    /// What the record says of the link's use and end (nil: no record).
    func linkUsage(_ id: LinkID) throws -> LinkUsage?
    /// The `ref` of each live link (expiring after `now`) among `ids`, nil for one without; with
    /// `ids` nil, of the live links that have one, at most `limit`, the latest expiries first.
    func refs(of ids: [LinkID]?, now: Int64, limit: Int) throws -> [(id: LinkID, ref: String?, expiresAt: Int64)]
    /// The revocations that end `record`'s link (`LinkRecord.isEnded(by:)`), oldest first.
    func revocations(ending record: LinkRecord) throws -> [RevocationRecord]
    /// Lifecycle events with serials above `after`, oldest first, at most `limit`; only those of
    /// the links `issuer` issued, when given.
    func events(after: Int64, limit: Int, issuer: UInt32?) throws -> EventBatch
    /// Oldest first, serials above `after`.
    func listRevocations(after: Int64, limit: Int) throws -> [RevocationRecord]
    /// Newest first.
    func auditLog(limit: Int) throws -> [AuditEntry]
    /// Every sealed row against its MAC, and the whole against the acknowledged head.
    func verifyIntegrity() throws -> IntegrityReport

    // MARK: Health and life cycle.

    /// Throws when the storage is gone from under the daemon (a removed or replaced file); the
    /// daemon then stops.
    func checkAlive() throws
    /// The message for a failure that is the storage's, not the caller's (locked, full, failing,
    /// gone, a row failing its MAC, closing): answered 503. Nil for any other error.
    func storageTrouble(_ error: any Error) -> String?
    /// After the last request: commits or fails every queued write and refuses new ones.
    func close()

    /// The engine, for `/v1/health` and the log: `sqlite` or `postgresql`.
    var engineName: String { get }
    /// Seconds since this daemon last confirmed it holds the shared database's state; nil for an
    /// engine whose state is this process's own (SQLite: always current).
    var secondsSinceSync: Double? { get }
    /// Why the database is not answering, nil while it is.
    var unavailableReason: String? { get }
}

extension Store {
    public var engineName: String { "sqlite" }
    public var secondsSinceSync: Double? { nil }
    public var unavailableReason: String? { nil }
}
