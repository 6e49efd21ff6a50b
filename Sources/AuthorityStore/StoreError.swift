import AuthorityCore
import GRDB

#if canImport(Glibc)
import Glibc
#endif

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
    case cannotOpenDatabase(path: String, errno: Int32)
    case cannotReadFile(path: String, errno: Int32)
    case cannotWriteFile(path: String, errno: Int32)
    /// The state directory was initialised (its `authority.head` exists) but the database is
    /// missing or empty.
    case databaseMissing(path: String, head: String, state: String)
    /// The database is not the one the state directory was initialised with.
    case foreignDatabase(path: String, head: String)
    /// The database has no record in the state directory (`authority.head` is missing).
    case headMissing(path: String, head: String)
    /// `authority.head` exists but holds no head sealed under this master key.
    case headDamaged(head: String)
    /// The database is behind `authority.head`: acknowledged changes are missing.
    case changesLost(path: String, databaseSerial: Int64, acknowledgedSerial: Int64)
    /// A sealed row, or the head, does not match its MAC.
    case integrity(path: String, String)
    /// `PRAGMA quick_check` did not answer `ok`.
    case quickCheckFailed(path: String, String)
    /// The master key is missing but the database holds keys sealed under one.
    case masterKeyMissing(path: String, database: String)
    /// The database file was removed or replaced while the daemon ran: nothing more is acknowledged.
    case databaseReplaced(path: String, why: String)

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
        case .cannotOpenDatabase(let path, let errno): "cannot open database \(path) (\(errnoText(errno)))"
        case .cannotReadFile(let path, let errno): "cannot read \(path) (\(errnoText(errno)))"
        case .cannotWriteFile(let path, let errno): "cannot write \(path) (\(errnoText(errno)))"
        case .databaseMissing(let path, let head, let state):
            "database \(path) is \(state), but \(head) says this state directory was initialised: restore the database from a backup (docs/operations.md); to start over with new keys and no revocations, remove \(head) as well"
        case .foreignDatabase(let path, let head):
            "database \(path) is not the one \(head) records for this state directory: put the right database back, or start once with --adopt-database to make this one the state directory's"
        case .headMissing(let path, let head):
            "database \(path) belongs to a state directory, but \(head) is missing: if this database was restored here on purpose, start once with --adopt-database"
        case .headDamaged(let head): "\(head) is damaged or was sealed under another master key: check the master key; after a restore, start once with --adopt-database"
        case .changesLost(let path, let databaseSerial, let acknowledgedSerial):
            "database \(path) ends at version \(databaseSerial), but version \(acknowledgedSerial) was acknowledged: acknowledged revocations or uses are missing (a damaged or removed -wal file, or an older copy); restore from a backup and re-apply what came after it (docs/operations.md), or start once with --adopt-database to accept the loss"
        case .integrity(let path, let what): "database \(path) failed its integrity check: \(what); restore it from a backup (docs/operations.md)"
        case .quickCheckFailed(let path, let first):
            "database \(path) failed PRAGMA quick_check (\(first)); restore it from a backup (docs/operations.md)"
        case .masterKeyMissing(let path, let database):
            "master key \(path) is missing, but database \(database) holds keys sealed under a master key: restore the master key (or name it with --master-key-file); a new one would open nothing"
        case .databaseReplaced(let path, let why):
            "database \(path) is gone from under the daemon (\(why)); nothing more is acknowledged and the daemon stops"
        }
    }
}

extension SQLiteStore {
    /// What to tell a caller whose write failed for a storage reason that is not theirs (the
    /// database locked by another process, the disk full or failing, read-only, removed, a row
    /// failing its MAC, the store closing): the path and the cause; nil for any other error.
    public func storageTrouble(_ error: any Error) -> String? {
        let path = databasePath
        if let error = error as? StoreError {
            switch error {
            case .databaseReplaced, .cannotWriteFile, .cannotOpenDatabase, .integrity, .closed: return error.description
            default: return nil
            }
        }
        guard let error = error as? DatabaseError else { return nil }
        let cause: String
        switch error.resultCode.primaryResultCode {
        case .SQLITE_BUSY, .SQLITE_LOCKED: cause = "another process holds its write lock"
        case .SQLITE_FULL: cause = "the disk is full"
        case .SQLITE_IOERR: cause = "an I/O error"
        case .SQLITE_READONLY: cause = "it is read-only"
        case .SQLITE_CANTOPEN: cause = "it cannot be opened"
        case .SQLITE_CORRUPT, .SQLITE_NOTADB: cause = "it is damaged"
        case .SQLITE_PROTOCOL: cause = "a locking protocol error"
        default: return nil
        }
        return "database \(path) cannot take the write: \(cause) (\(error.resultCode)); nothing was changed"
    }
}

/// `No such file or directory (errno 2)`.
func errnoText(_ code: Int32) -> String { "\(String(cString: strerror(code))) (errno \(code))" }

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
