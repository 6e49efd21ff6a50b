import AuthorityAPI
import Foundation
import NIOCore

/// Everything `authorityd` can be told. Defaults ← configuration file (JSON) ← command-line flags.
/// Each property's flag, file member, range and help are its row of `settings`.
public struct ServerConfiguration: Sendable, Equatable {
    /// Unix socket the API listens on (ignored under socket activation).
    public var socketPath = "/run/authority/authority.sock"
    /// Mode of the socket file the daemon binds itself.
    public var socketMode: UInt32 = 0o660
    /// Group of the socket file, by name or number; nil keeps the daemon's group.
    public var socketGroup: String?
    public var stateDirectory = "/var/lib/authority"
    /// A database file (SQLite), or a `postgresql://` URL: fleet mode (docs/fleet.md).
    public var databasePath: String?
    /// Fleet mode: the PostgreSQL password, read from this file (mode 0600 or stricter).
    public var databasePasswordFile: String?
    /// Fleet mode: how long checks keep answering from memory while PostgreSQL is unreachable
    /// (or the daemon cannot confirm it holds its state), in seconds; then they answer 503.
    public var maxStaleness: Int64 = 30
    public var masterKeyFile: String?
    public var policyFile: String?
    /// Longest lifetime a link may be issued with, in seconds (default 7 days).
    public var maxTTL: Int64 = 604_800
    public var notBeforeLeeway: Int64 = 30
    /// Largest accepted request body, in bytes.
    public var bodyLimit = 65_536
    public var revocationsEnabled = true
    /// One start only (a flag, never in the configuration file): accept the database as it is and
    /// record it as the state directory's (after a restore; docs/operations.md).
    public var adoptDatabase = false
    /// A flag, never in the configuration file: copy the SQLite state in this (stopped daemon's)
    /// state directory into the empty PostgreSQL database of `--database`, then exit
    /// (docs/fleet.md).
    public var importSQLite: String?
    /// Automatic key rotation period in seconds; 0 switches it off.
    public var rotationInterval: Int64 = 0
    /// How often expired revocations are collected and due epochs retired, in seconds.
    public var maintenanceInterval: Int64 = 60
    /// How long lifecycle events are kept, and link records after their link's expiry, in seconds.
    public var eventRetention: Int64 = 604_800
    /// Seconds before a link's expiry its `expiring_soon` event comes; 0 switches it off.
    public var expiringSoon: Int64 = 3_600
    public var logLevel = "info"
    /// Threads for storage reads. Every write is the store's group-commit thread's; administrative
    /// writes and maintenance wait for theirs on a thread of their own, Argon2id on `passwordThreads`.
    public var blockingThreads = 2
    /// Event loops (the check path runs on them).
    public var eventLoops = System.coreCount
    /// The dialect bare `/v1/auth` speaks; nil (the default) refuses it with `dialect_required`.
    /// `/v1/auth/nginx`, `/caddy`, `/traefik` and `/envoy/…` need no setting.
    public var forwardAuthDialect: ForwardAuthDialect?
    /// Longest `max-age` of an allowed forward-auth answer, in seconds (never past the link's expiry).
    public var forwardAuthMaxAge: Int64 = 60
    /// How long an edge may rely on a revocation bundle: its `not_after` is this after its
    /// `issued_at` (docs/revocation-bundle.md §1).
    public var bundleMaxAge: Int64 = 300
    /// Wrong passwords in a row before a password-protected link locks.
    public var passwordMaxFailures: Int64 = 5
    /// The first lockout's length in seconds; each further lockout doubles it (at most a day).
    public var passwordLockout: Int64 = 60
    /// Threads hashing passwords (Argon2id), apart from the event loops and the write pool.
    public var passwordThreads = 1
    /// Lifetime of an unlock cookie in seconds (never past its link's expiry).
    public var cookieTTL: Int64 = 3_600
    /// A grant cookie's sliding lifetime in seconds: renewed while in use, never past its link's
    /// expiry (docs/link-format.md §12).
    public var grantCookieIdle: Int64 = 1_800
    /// Grant cookies without `Secure`, for a plain-http development setup.
    public var grantCookieInsecure = false
    /// Signatures remembered as verified, so repeated checks skip Ed25519; 0 switches the cache off.
    public var verifyCacheEntries = 65_536
    /// Seconds from a request's first byte until its whole head and body must have arrived; past
    /// it the connection is closed without an answer (slow senders, slowloris).
    public var requestTimeout: Int64 = 10
    /// Seconds a keep-alive connection may wait with no request in progress before it is closed;
    /// also how long answers may wait unread (the client reads nothing) before it is closed. Above
    /// nginx's default upstream `keepalive_timeout` (60 s), so that the proxy closes first.
    public var idleTimeout: Int64 = 75
    /// Open connections, all callers together; a connection over it is closed at once.
    public var maxConnections = 8_192
    /// Open connections of one uid (`SO_PEERCRED`); a connection over it is closed at once.
    public var maxConnectionsPerUID = 2_048
    /// Unsent answer bytes of one connection above which the daemon stops reading from it and
    /// answering it, until the client has read them down to half.
    public var writeBufferLimit = 65_536
    /// Unsent answer bytes of one connection past which it is closed.
    public var writeBufferHardLimit = 4_194_304

    public init() {}

    /// Applies a JSON configuration file on top of `self`: an object whose members are the flags'
    /// names with `_` for `-` (`settings`). Unknown members and wrong types are refused.
    public mutating func apply(file path: String) throws(ConfigurationError) {
        guard let data = FileManager.default.contents(atPath: path) else { throw .unreadable(path) }
        guard let object = try? JSONSerialization.jsonObject(with: data), let json = object as? [String: Any] else {
            throw .invalid(path, "not a JSON object")
        }
        if let unknown = KnownMembers(Self.settings.compactMap(\.member)).unknown(in: json.keys).first {
            let replaced = Self.removedMembers.contains(unknown) ? " (removed): " + Self.dialectReplacement("\"forward_auth_dialect\"") : ""
            throw .invalid(path, "unknown member \"\(unknown)\"" + replaced)
        }
        let file: File
        do {
            file = try JSONDecoder().decode(File.self, from: data)
        } catch {
            throw .invalid(path, describe(error))
        }
        for assignment in file.assignments { try assignment(&self) }
    }

    /// A configuration file's members, each decoded as its setting says, in the table's order.
    struct File: Decodable {
        let assignments: [Assignment]

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: MemberKey.self)
            assignments = try ServerConfiguration.settings.compactMap { try $0.decode(container) }
        }
    }

    /// Refuses values no daemon should run with: each setting's outside its range (`settings`).
    public func validate() throws(ConfigurationError) {
        if let refused = Self.settings.first(where: { !$0.isValid(self) }) { throw .invalid("configuration", refused.refusal) }
    }

    public static func parseDialect(_ text: String) throws(ConfigurationError) -> ForwardAuthDialect {
        guard let value = ForwardAuthDialect(rawValue: text) else {
            throw .invalid("forward-auth-dialect", "must be one of \(dialectNames)")
        }
        return value
    }

    /// `nginx, caddy, traefik or envoy`.
    public static let dialectNames = Setting.orList(ForwardAuthDialect.allCases.map(\.rawValue))

    /// What replaces the removed forward-auth settings, naming the setting as `name`.
    public static func dialectReplacement(_ name: String) -> String {
        "use the endpoint of your proxy (/v1/auth/nginx, /v1/auth/caddy, /v1/auth/traefik or /v1/auth/envoy/…), "
            + "or \(name) (\(dialectNames)) for bare /v1/auth; see docs/proxies.md"
    }

    /// Removed configuration file members; their use names what replaces them.
    static let removedMembers = Set(removedSettings.map(Setting.member))

    /// Parses an octal mode such as `0660` or `660`.
    public static func parseMode(_ text: String) throws(ConfigurationError) -> UInt32 {
        guard !text.isEmpty, text.count <= 4, let mode = UInt32(text, radix: 8), mode <= 0o777 else {
            throw .invalid("socket mode", "\"\(text)\" is not an octal mode such as 0660")
        }
        return mode
    }
}

public enum ConfigurationError: Error, Equatable, CustomStringConvertible {
    case unreadable(String)
    case invalid(String, String)

    public var description: String {
        switch self {
        case .unreadable(let path): "cannot read \(path)"
        case .invalid(let origin, let why): "\(origin): \(why)"
        }
    }
}

/// A one-line description of a decoding error that names the member, never the value.
func describe(_ error: any Error) -> String {
    guard let error = error as? DecodingError else { return "not valid JSON" }
    func field(_ path: [any CodingKey]) -> String {
        path.isEmpty ? "the body" : "\"" + path.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".") + "\""
    }
    switch error {
    case .typeMismatch(let type, let context): return "\(field(context.codingPath)) must be \(typeName(type))"
    case .valueNotFound(let type, let context): return "\(field(context.codingPath)) must be \(typeName(type)), not null"
    case .keyNotFound(let key, let context): return "\(field(context.codingPath + [key])) is required"
    case .dataCorrupted(let context):
        return context.codingPath.isEmpty ? "not valid JSON" : "\(field(context.codingPath)) has an invalid value"
    @unknown default: return "not valid JSON"
    }
}

private func typeName(_ type: Any.Type) -> String {
    switch type {
    case is String.Type: "a string"
    case is Bool.Type: "true or false"
    case is Int.Type, is Int64.Type, is UInt64.Type, is UInt32.Type, is Int32.Type: "an integer"
    case is [String].Type, is [Any].Type: "an array"
    default: "of another type"
    }
}
