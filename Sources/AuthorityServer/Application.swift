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
        let store = try SQLiteStore.open(
            StoreConfiguration(
                stateDirectory: configuration.stateDirectory, databasePath: configuration.databasePath,
                masterKeyFile: configuration.masterKeyFile, credentialsDirectory: environment["CREDENTIALS_DIRECTORY"],
                revocationsEnabled: configuration.revocationsEnabled, adoptDatabase: configuration.adoptDatabase),
            now: Int64(Date().timeIntervalSince1970), logger: logger)

        let group = MultiThreadedEventLoopGroup(numberOfThreads: configuration.eventLoops)
        let authority = Authority(store: store, configuration: configuration, policy: policy, logger: logger)
        let notifier = SystemdNotifier(environment: environment)
        let server = HTTPServerService(
            router: Router(authority: authority), configuration: configuration, group: group, notifier: notifier,
            inheritedSocket: inherited, activeEpoch: { authority.state.signing.epoch }, logger: logger)
        let services: [ServiceGroupConfiguration.ServiceConfiguration] = [
            .init(service: WatchdogService(notifier: notifier, group: group)), .init(service: server),
            .init(service: MaintenanceService(authority: authority)),
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
