/// Where the store keeps its state and how it behaves.
public struct StoreConfiguration: Sendable {
    /// Directory for the database (and the generated master key, if none is provided). Created 0700.
    public var stateDirectory: String
    /// The database file; defaults to `authority.sqlite` in the state directory.
    public var databasePath: String?
    /// A master key file (32 raw bytes or 64 hex characters, mode 0600 or stricter).
    public var masterKeyFile: String?
    /// systemd's `$CREDENTIALS_DIRECTORY`; its `master.key` wins over every other source.
    public var credentialsDirectory: String?
    /// With the revocation list off, the store keeps no revocation state and refuses revocations.
    public var revocationsEnabled: Bool
    /// The active epoch's durable `retire_after` grows in steps of this many seconds, so that
    /// issuing a link writes to disk only when its expiry passes the recorded mark.
    public var retireAfterStep: Int64
    /// Accept the database as it is and record it in `authority.head` (after a restore, or to
    /// accept a loss the daemon refused to start over): docs/operations.md.
    public var adoptDatabase: Bool
    /// Lifecycle events are kept this many seconds, and a link's record (`GET /v1/links/{id}`)
    /// this long after its expiry (`--event-retention`).
    public var eventRetention: Int64
    /// An `expiring_soon` event this many seconds before a link's expiry (links that live longer
    /// than it); 0: none (`--expiring-soon`).
    public var expiringSoon: Int64

    public init(
        stateDirectory: String, databasePath: String? = nil, masterKeyFile: String? = nil,
        credentialsDirectory: String? = nil, revocationsEnabled: Bool = true, retireAfterStep: Int64 = 3600,
        adoptDatabase: Bool = false, eventRetention: Int64 = 604_800, expiringSoon: Int64 = 3_600
    ) {
        self.eventRetention = eventRetention
        self.expiringSoon = expiringSoon
        self.adoptDatabase = adoptDatabase
        self.stateDirectory = stateDirectory
        self.databasePath = databasePath
        self.masterKeyFile = masterKeyFile
        self.credentialsDirectory = credentialsDirectory
        self.revocationsEnabled = revocationsEnabled
        self.retireAfterStep = retireAfterStep
    }

    public var resolvedDatabasePath: String { databasePath ?? stateDirectory + "/authority.sqlite" }
}
