import AuthorityPostgres
import AuthorityStore
import Foundation
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle

#if canImport(Glibc)
import Glibc
#endif

/// Configuration → store → services → run until SIGTERM. The whole daemon, for `authorityd`'s
/// main and for tests.
public enum Application {
    public static func run(configuration: ServerConfiguration, logger: Logger) async throws {
        try configuration.validate()
        try ProcessLimits.forbidCoreDumps()
        ProcessLimits.raiseDescriptorLimit(for: configuration.maxConnections, logger: logger)
        let policy = try configuration.policyFile.map { path throws(ConfigurationError) in try Policy.load(path: path) }
            ?? Policy()
        let environment = ProcessInfo.processInfo.environment
        try SQLiteStore.createDirectory(configuration.stateDirectory)
        let lock = try StateLock(directory: configuration.stateDirectory)
        defer { lock.release() }
        let inherited = SocketActivation.inheritedSocket(environment: environment)
        if inherited == nil { try refuseIfServing(configuration.socketPath) }
        let store = try await openStore(configuration, environment: environment, logger: logger)

        let group = MultiThreadedEventLoopGroup(numberOfThreads: configuration.eventLoops)
        let authority = Authority(store: store, configuration: configuration, policy: policy, logger: logger)
        let notifier = SystemdNotifier(environment: environment)
        let server = HTTPServerService(
            router: Router(authority: authority), configuration: configuration, group: group, notifier: notifier,
            inheritedSocket: inherited, activeEpoch: { authority.state.signing.epoch }, logger: logger)
        let services: [ServiceGroupConfiguration.ServiceConfiguration] = [
            .init(service: WatchdogService(notifier: notifier, group: group)), .init(service: server),
            .init(service: MaintenanceService(authority: authority)),
            .init(service: ActivityService(authority: authority)),
            .init(service: PolicyReloadService(authority: authority, logger: logger)),
            // A database gone from under the daemon drains the requests in flight (they are
            // refused), then the daemon exits non-zero.
            .init(service: StoreWatchService(store: store, logger: logger), failureTerminationBehavior: .gracefullyShutdownGroup),
        ]
        let serviceGroup = ServiceGroup(
            configuration: .init(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        do {
            try await serviceGroup.run()
        } catch {
            await authority.shutdown()
            try? await group.shutdownGracefully()
            throw error
        }
        await authority.shutdown()
        try await group.shutdownGracefully()
    }

    /// `--import-sqlite SOURCE`: the SQLite state of a stopped daemon's state directory copied
    /// into the empty PostgreSQL database of `--database` (PostgresStore.importSQLite), both state
    /// directories locked meanwhile. The master key is `--master-key-file` (or the credential),
    /// else SOURCE's own `master.key`: the fleet must use that key.
    public static func importSQLite(configuration: ServerConfiguration, logger: Logger) async throws -> ImportReport {
        try configuration.validate()
        guard let source = configuration.importSQLite else { throw ConfigurationError.invalid("import-sqlite", "no source state directory") }
        guard let database = configuration.databasePath, database.hasPrefix("postgres") else {
            throw ConfigurationError.invalid("import-sqlite", "needs --database postgresql://… (the fleet's database to copy into)")
        }
        let environment = ProcessInfo.processInfo.environment
        let credentials = environment["CREDENTIALS_DIRECTORY"]
        let credentialKey = credentials.map { FileManager.default.fileExists(atPath: $0 + "/master.key") } ?? false
        let keyFile = configuration.masterKeyFile ?? (credentialKey ? nil : source + "/master.key")
        let from = StoreConfiguration(stateDirectory: source, masterKeyFile: keyFile, credentialsDirectory: credentials)
        guard FileManager.default.fileExists(atPath: from.resolvedDatabasePath) else {
            throw ConfigurationError.invalid("import-sqlite", "there is no \(from.resolvedDatabasePath) to import")
        }
        try SQLiteStore.createDirectory(configuration.stateDirectory)
        let lock = try StateLock(directory: configuration.stateDirectory)
        defer { lock.release() }
        let same = URL(fileURLWithPath: source).standardizedFileURL.path == URL(fileURLWithPath: configuration.stateDirectory).standardizedFileURL.path
        let sourceLock = same ? nil : try StateLock(directory: source)
        defer { sourceLock?.release() }
        return try await PostgresStore.importSQLite(
            from: from,
            into: StoreConfiguration(
                stateDirectory: configuration.stateDirectory, masterKeyFile: keyFile, credentialsDirectory: credentials,
                revocationsEnabled: configuration.revocationsEnabled),
            location: try fleetLocation(database, configuration, credentials: credentials),
            now: Int64(Date().timeIntervalSince1970), logger: logger)
    }

    /// SQLite in the state directory (the default), or the fleet's PostgreSQL when `--database`
    /// is a `postgresql://` URL (docs/fleet.md).
    static func openStore(_ configuration: ServerConfiguration, environment: [String: String], logger: Logger) async throws
        -> any Store
    {
        let now = Int64(Date().timeIntervalSince1970)
        let credentials = environment["CREDENTIALS_DIRECTORY"]
        if let database = configuration.databasePath, database.hasPrefix("postgres") {
            let location = try fleetLocation(database, configuration, credentials: credentials)
            return try await PostgresStore.open(
                StoreConfiguration(
                    stateDirectory: configuration.stateDirectory, masterKeyFile: configuration.masterKeyFile,
                    credentialsDirectory: credentials, revocationsEnabled: configuration.revocationsEnabled,
                    adoptDatabase: configuration.adoptDatabase, eventRetention: configuration.eventRetention,
                    expiringSoon: configuration.expiringSoon),
                location: location, now: now, logger: logger)
        }
        return try SQLiteStore.open(
            StoreConfiguration(
                stateDirectory: configuration.stateDirectory, databasePath: configuration.databasePath,
                masterKeyFile: configuration.masterKeyFile, credentialsDirectory: credentials,
                revocationsEnabled: configuration.revocationsEnabled, adoptDatabase: configuration.adoptDatabase,
                eventRetention: configuration.eventRetention,
                    expiringSoon: configuration.expiringSoon),
            now: now, logger: logger)
    }

    /// `--database`'s PostgreSQL, with its password (`databasePassword`) when one is given.
    static func fleetLocation(_ database: String, _ configuration: ServerConfiguration, credentials: String?) throws -> PostgresLocation {
        var location = try PostgresLocation(parsing: database)
        if let password = try databasePassword(configuration, credentials: credentials) { location.password = password }
        return location
    }

    /// The PostgreSQL password: the systemd credential `database.password`, else
    /// `--database-password-file` (mode 0600 or stricter, one line), else none (the URL's, if any).
    static func databasePassword(_ configuration: ServerConfiguration, credentials: String?) throws -> String? {
        var path = configuration.databasePasswordFile
        if let credentials, FileManager.default.fileExists(atPath: credentials + "/database.password") {
            path = credentials + "/database.password"
        }
        guard let path else { return nil }
        var info = stat()
        guard stat(path, &info) == 0 else {
            throw ConfigurationError.invalid("database-password-file", "cannot read \(path) (errno \(errno))")
        }
        guard info.st_mode & 0o077 == 0 else {
            throw ConfigurationError.invalid(
                "database-password-file", "\(path) has mode \(String(info.st_mode & 0o777, radix: 8)); it must not be readable by group or others (chmod 600)")
        }
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            throw ConfigurationError.invalid("database-password-file", "cannot read \(path) as UTF-8")
        }
        let password = text.hasSuffix("\n") ? String(text.dropLast()) : text
        guard !password.isEmpty, !password.contains("\n") else {
            throw ConfigurationError.invalid("database-password-file", "\(path) must hold the password on one line")
        }
        return password
    }

    /// Refuses to start when another process answers on the socket path (NIO would otherwise
    /// delete its socket file); a stale socket file is left for NIO to replace.
    static func refuseIfServing(_ path: String) throws {
        var info = stat()
        guard lstat(path, &info) == 0 else { return }
        guard info.st_mode & S_IFMT == S_IFSOCK else {
            throw ConfigurationError.invalid("socket", "\(path) exists and is not a socket: remove it or choose another --socket")
        }
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return }
        defer { close(fd) }
        let connected = withUnixSocketAddress(path) { connect(fd, $0, $1) }
        if connected == 0 {
            throw ConfigurationError.invalid("socket", "another process is serving on \(path)")
        }
    }
}

/// An exclusive `flock` on `authorityd.lock` in the state directory: one daemon per state.
struct StateLock {
    let fd: CInt

    init(directory: String) throws {
        let path = directory + "/authorityd.lock"
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw ConfigurationError.invalid("state directory", "cannot open \(path) (errno \(errno))") }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            close(fd)
            throw ConfigurationError.invalid("state directory", "another authorityd is using \(directory)")
        }
    }

    func release() { close(fd) }
}
