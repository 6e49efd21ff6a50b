import AuthorityCore

/// What can go wrong in the store. Each case names what the operator should check.
public enum StoreError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The master key file exists but is not 32 raw bytes or 64 hex characters.
    case invalidMasterKey(path: String)
    /// The master key file can be read by group or others.
    case insecureMasterKeyFile(path: String, mode: UInt32)
    case cannotReadMasterKey(path: String, errno: Int32)
    case cannotCreateMasterKey(path: String, errno: Int32)
    case cannotCreateStateDirectory(path: String, errno: Int32)
    /// A sealed secret key does not open under this master key (wrong key, or tampered row).
    case sealedKeyDoesNotOpen(epoch: UInt64)
    /// A secret key does not match its stored public key.
    case keyMismatch(epoch: UInt64)
    case corruptRow(String)
    /// The database was migrated by a newer authorityd (these migrations are unknown here).
    case newerSchema([String])
    /// SQLite would not run with `synchronous = FULL`.
    case cannotEnforceDurability
    case keyRing(KeyRingError)
    /// The revocation list is switched off in the configuration.
    case revocationsDisabled
    case invalidRevocation(String)
    /// The store is shutting down: the write was refused, nothing of it was made.
    case closed

    public var description: String {
        switch self {
        case .invalidMasterKey(let path): "master key \(path) is not 32 raw bytes or 64 hex characters"
        case .insecureMasterKeyFile(let path, let mode):
            "master key \(path) has mode \(String(mode, radix: 8)); it must not be readable by group or others (chmod 600)"
        case .cannotReadMasterKey(let path, let errno): "cannot read master key \(path) (errno \(errno))"
        case .cannotCreateMasterKey(let path, let errno): "cannot create master key \(path) (errno \(errno))"
        case .cannotCreateStateDirectory(let path, let errno): "cannot create state directory \(path) (errno \(errno))"
        case .sealedKeyDoesNotOpen(let epoch): "the secret key of epoch \(epoch) does not open under this master key"
        case .keyMismatch(let epoch): "the secret key of epoch \(epoch) does not match its public key"
        case .corruptRow(let what): "corrupt database row: \(what)"
        case .newerSchema(let names):
            "the database was written by a newer authorityd (unknown migrations \(names.joined(separator: ", "))); do not downgrade"
        case .cannotEnforceDurability: "SQLite refused PRAGMA synchronous = FULL"
        case .keyRing(let error): "key ring: \(error)"
        case .revocationsDisabled: "the revocation list is switched off in the configuration"
        case .invalidRevocation(let why): "invalid revocation: \(why)"
        case .closed: "the store is shutting down; the write was not made"
        }
    }
}

/// Who asked for a change, for the audit log (from `SO_PEERCRED` in the daemon).
public struct Caller: Sendable, Equatable {
    public var uid: UInt32?
    public var pid: Int32?
    public init(uid: UInt32? = nil, pid: Int32? = nil) {
        self.uid = uid
        self.pid = pid
    }
    /// The daemon itself (automatic rotation, retirement, start-up).
    public static let daemon = Caller()
}
