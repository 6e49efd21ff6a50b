import AuthorityPostgres
import Logging

extension ServerConfiguration {
    /// Every setting of `authorityd`, in the order of `--help`: its flag, its file member, its
    /// help and the values it accepts (its default is the property's). A new setting is its
    /// property above and one row here.
    public static let settings: [Setting] = [
        .text(
            "socket", \.socketPath, help: "Unix socket to serve the API on (ignored under socket activation).",
            refusal: "socket path longer than 107 bytes", isValid: { $0.utf8.count < 108 }),
        .text("state-dir", \.stateDirectory, help: "State directory: database, generated master key."),
        Setting(
            "socket-mode", placeholder: "<mode>", help: "Mode of the socket file, octal.",
            default: "0" + String(ServerConfiguration().socketMode, radix: 8), accepted: nil,
            refusal: "socket mode must be an octal mode such as 0660", isValid: { $0.socketMode <= 0o777 },
            fromText: { $0 },
            store: { text, configuration throws(ConfigurationError) in configuration.socketMode = try parseMode(text) }),
        .text(
            "socket-group", \.socketGroup, "<group>", default: "the daemon's",
            help: "Group of the socket file, name or number."),
        .text(
            "database", \.databasePath, default: "STATE-DIR/authority.sqlite",
            help: "Database file, or postgresql://USER@HOST/DB (fleet mode, docs/fleet.md).",
            refusal: "database: a postgresql:// URL must be postgresql://USER[@HOST[:PORT]]/DATABASE[?host=/socket/dir&sslmode=disable|verify-full]",
            isValid: { text in
                guard text.hasPrefix("postgres") else { return true }
                return (try? PostgresLocation(parsing: text)) != nil
            }),
        .text(
            "database-password-file", \.databasePasswordFile,
            help: "Fleet mode: the PostgreSQL password, read from this file (mode 0600)."),
        .integer(
            "max-staleness", \.maxStaleness, 1, 3_600, "seconds",
            help: "Fleet mode: how long checks answer from memory while PostgreSQL is unreachable."),
        .text("master-key-file", \.masterKeyFile, help: "Master key: 32 raw bytes or 64 hex characters, mode 0600."),
        .text("policy", \.policyFile, help: "Policy file mapping callers to rights (JSON, see docs/api.md)."),
        .integer("max-ttl", \.maxTTL, 1, 31_536_000, "seconds", help: "Longest link lifetime."),
        .integer(
            "not-before-leeway", \.notBeforeLeeway, 0, 86_400, "seconds",
            help: "How long before its not-before a link is accepted."),
        .integer("body-limit", \.bodyLimit, 1_024, 16_777_216, "bytes", help: "Largest request body."),
        .toggle("revocations", \.revocationsEnabled, help: "Switch the revocation list off."),
        .toggle(
            "adopt-database", \.adoptDatabase, inFile: false,
            help: "For one start after a restore: accept the database as it is and record it as the state directory's "
                + "(docs/operations.md)."),
        .text(
            "import-sqlite", \.importSQLite, "<state-dir>", inFile: false,
            help: "Copy the SQLite state of this stopped daemon's state directory into the empty PostgreSQL database "
                + "of --database, then exit (docs/fleet.md)."),
        .integer(
            "rotation-interval", \.rotationInterval, 60, 315_360_000, "seconds", zeroIsOff: true,
            help: "Rotate the signing key this often."),
        .integer(
            "maintenance-interval", \.maintenanceInterval, 1, 86_400, "seconds",
            help: "Time between retirement and clean-up rounds."),
        .integer(
            "event-retention", \.eventRetention, 60, 31_536_000, "seconds",
            help: "How long lifecycle events are kept, and a link's record after its expiry (docs/events.md)."),
        .integer(
            "expiring-soon", \.expiringSoon, 60, 31_536_000, "seconds", zeroIsOff: true,
            help: "How long before a link's expiry its expiring_soon event comes (links that live longer)."),
        .integer("event-loops", \.eventLoops, 1, 256, default: "one per core", help: "Event loop threads."),
        .integer("blocking-threads", \.blockingThreads, 1, 64, help: "Threads for storage reads (writes and maintenance have one of their own)."),
        Setting(
            "forward-auth-dialect", placeholder: "<dialect>",
            help: "The proxy bare /v1/auth answers; /v1/auth/nginx, /v1/auth/caddy, /v1/auth/traefik and "
                + "/v1/auth/envoy/<path> need no setting.",
            default: "none (403 dialect_required)", accepted: dialectNames,
            fromText: { $0 },
            store: { text, configuration throws(ConfigurationError) in
                configuration.forwardAuthDialect = try parseDialect(text)
            }),
        .integer(
            "forward-auth-max-age", \.forwardAuthMaxAge, 0, 86_400, "seconds",
            help: "Longest Cache-Control max-age of an allowed /v1/auth/… answer."),
        .integer(
            "bundle-max-age", \.bundleMaxAge, 10, 604_800, "seconds",
            help: "How long an edge may rely on a revocation bundle (its not_after - issued_at)."),
        .integer(
            "password-max-failures", \.passwordMaxFailures, 1, 1_000,
            help: "Wrong passwords in a row before a link locks."),
        .integer(
            "password-lockout", \.passwordLockout, 1, 86_400, "seconds", help: "First lockout, doubled each time."),
        .integer("password-threads", \.passwordThreads, 1, 8, help: "Threads hashing passwords."),
        .integer("cookie-ttl", \.cookieTTL, 1, 604_800, "seconds", help: "Lifetime of an unlock cookie."),
        .integer(
            "grant-cookie-idle", \.grantCookieIdle, 60, 604_800, "seconds",
            help: "Sliding lifetime of a grant cookie, renewed while in use and never past its link's expiry."),
        .toggle(
            "grant-cookie-insecure", \.grantCookieInsecure,
            help: "Set grant cookies without Secure (plain-http development only)."),
        .integer(
            "verify-cache-entries", \.verifyCacheEntries, 0, 16_777_216, zeroIsOff: true,
            help: "Verified signatures remembered, so repeated checks skip Ed25519."),
        .integer(
            "request-timeout", \.requestTimeout, 1, 3_600, "seconds",
            help: "Time from a request's first byte to its last; slower senders are closed."),
        .integer(
            "idle-timeout", \.idleTimeout, 1, 86_400, "seconds",
            help: "How long a keep-alive connection may sit idle, or leave answers unread, before it is closed."),
        .integer(
            "max-connections", \.maxConnections, 1, 1_048_576,
            help: "Open connections, all callers together; more are closed at once."),
        .integer(
            "max-connections-per-uid", \.maxConnectionsPerUID, 1, .setting("max-connections", \.maxConnections),
            help: "Open connections of one caller uid; more are closed at once."),
        .integer(
            "write-buffer-limit", \.writeBufferLimit, 4_096, 16_777_216, "bytes",
            help: "Unsent answer bytes per connection above which it is not read until half is sent."),
        .integer(
            "write-buffer-hard-limit", \.writeBufferHardLimit, .setting("write-buffer-limit", \.writeBufferLimit),
            1_073_741_824, "bytes", help: "Unsent answer bytes per connection past which it is closed."),
        .choice(
            "log-level", \.logLevel, "<level>", among: Logger.Level.allCases.map(\.rawValue),
            help: "Least severe message logged."),
    ]

    /// Settings that were removed, still recognised (as a flag or a member) so that their use
    /// names what replaces them.
    static let removedSettings = ["forward-auth-headers", "forward-auth-client-ip"]
}
