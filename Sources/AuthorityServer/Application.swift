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
        try AuthorityStore.createDirectory(configuration.stateDirectory)
        let lock = try StateLock(directory: configuration.stateDirectory)
        defer { lock.release() }
        let inherited = SocketActivation.inheritedSocket(environment: environment)
        if inherited == nil { try refuseIfServing(configuration.socketPath) }
        let store = try AuthorityStore.open(
            StoreConfiguration(
                stateDirectory: configuration.stateDirectory, databasePath: configuration.databasePath,
                masterKeyFile: configuration.masterKeyFile, credentialsDirectory: environment["CREDENTIALS_DIRECTORY"],
                revocationsEnabled: configuration.revocationsEnabled),
            now: Int64(Date().timeIntervalSince1970), logger: logger)

        let group = MultiThreadedEventLoopGroup(numberOfThreads: configuration.eventLoops)
        let threadPool = NIOThreadPool(numberOfThreads: configuration.blockingThreads)
        threadPool.start()
        let authority = Authority(
            store: store, configuration: configuration, policy: policy, threadPool: threadPool, logger: logger)
        let notifier = SystemdNotifier(environment: environment)
        let server = HTTPServerService(
            router: Router(authority: authority), configuration: configuration, group: group, notifier: notifier,
            inheritedSocket: inherited, logger: logger)
        let services: [any Service] = [
            WatchdogService(notifier: notifier, group: group), server,
            MaintenanceService(authority: authority, logger: logger),
            PolicyReloadService(authority: authority, logger: logger),
        ]
        let serviceGroup = ServiceGroup(
            configuration: .init(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        do {
            try await serviceGroup.run()
        } catch {
            await authority.shutdown()
            try? await threadPool.shutdownGracefully()
            try? await group.shutdownGracefully()
            throw error
        }
        await authority.shutdown()
        try await threadPool.shutdownGracefully()
        try await group.shutdownGracefully()
    }

    /// Refuses to start when another process answers on the socket path (NIO would otherwise
    /// delete its socket file); a stale socket file is left for NIO to replace.
    static func refuseIfServing(_ path: String) throws {
        guard FileManager.default.fileExists(atPath: path) else { return }
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
