import AuthorityStore
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import ServiceLifecycle
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Serves the API on the Unix socket until a graceful shutdown, then drains: stops accepting,
/// lets each connection finish the request in progress, and returns.
public final class HTTPServerService: Service, CustomStringConvertible {
    let router: Router
    /// The active epoch, for the ready message.
    let activeEpoch: @Sendable () -> UInt64
    let configuration: ServerConfiguration
    let group: MultiThreadedEventLoopGroup
    let notifier: SystemdNotifier
    let logger: Logger
    let inheritedSocket: CInt?
    private let connections = Mutex<[ObjectIdentifier: any Channel]>([:])
    private let limiter: ConnectionLimiter
    private let refusals = RateLimitedLog()

    public var description: String { "HTTPServerService(socket: \(configuration.socketPath))" }

    public init(
        router: Router, configuration: ServerConfiguration, group: MultiThreadedEventLoopGroup,
        notifier: SystemdNotifier, inheritedSocket: CInt?, activeEpoch: @escaping @Sendable () -> UInt64, logger: Logger
    ) {
        self.router = router
        self.activeEpoch = activeEpoch
        self.configuration = configuration
        self.group = group
        self.notifier = notifier
        self.inheritedSocket = inheritedSocket
        self.logger = logger
        limiter = ConnectionLimiter(
            maxTotal: configuration.maxConnections, maxPerUID: configuration.maxConnectionsPerUID)
    }

    public func run() async throws {
        let server = try await bind()
        let epoch = activeEpoch()
        notifier.ready(status: "serving; active epoch \(epoch)")
        logger.notice(
            "serving",
            metadata: [
                "socket": "\(inheritedSocket == nil ? configuration.socketPath : "inherited fd \(inheritedSocket!)")",
                "key.epoch": "\(epoch)",
            ])
        try await withGracefulShutdownHandler {
            // A cancelled group (another service failed) closes the socket too.
            try await withTaskCancellationHandler {
                try await server.closeFuture.get()
            } onCancel: {
                server.close(promise: nil)
            }
        } onGracefulShutdown: { [self] in
            notifier.stopping()
            logger.notice("draining connections")
            server.close(promise: nil)
        }
        await drain()
        logger.notice("stopped serving")
    }

    private func bind() async throws -> any Channel {
        let metrics = router.metrics
        let logger = logger
        let watermark = ChannelOptions.Types.WriteBufferWaterMark(
            low: configuration.writeBufferLimit / 2, high: configuration.writeBufferLimit)
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 512)
            .serverChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(AcceptBackoff(metrics: metrics, logger: logger))
                }
            }
            .childChannelOption(.writeBufferWaterMark, value: watermark)
            // A client that shuts its write side after its request still gets the answer.
            .childChannelOption(.allowRemoteHalfClosure, value: true)
            .childChannelInitializer { [self] channel in
                channel.eventLoop.makeCompletedFuture { try self.initialize(channel) }
            }
        if let fd = inheritedSocket {
            return try await bootstrap.withBoundSocket(fd).get()
        }
        try prepareSocketPath()
        let channel = try await bootstrap.bind(unixDomainSocketPath: configuration.socketPath, cleanupExistingSocketFile: true).get()
        try setSocketPermissions()
        return channel
    }

    /// Adds the HTTP pipeline, after reading the caller's credentials (refused without them) and
    /// counting the connection against the caps (closed at once over one).
    private func initialize(_ channel: any Channel) throws {
        guard let peer = PeerCredentials.read(from: channel) else {
            logger.warning("connection without peer credentials refused")
            channel.close(promise: nil)
            return
        }
        if let refusal = limiter.admit(uid: peer.uid) {
            refuse(channel, peer: peer, refusal)
            return
        }
        let metrics = router.metrics
        metrics.connectionsOpen.increment()
        let id = ObjectIdentifier(channel)
        connections.withLock { $0[id] = channel }
        channel.closeFuture.whenComplete { [self] _ in
            _ = connections.withLock { $0.removeValue(forKey: id) }
            limiter.release(uid: peer.uid)
            metrics.connectionsOpen.decrement()
        }
        var connectionLogger = logger
        connectionLogger[metadataKey: "caller.uid"] = "\(peer.uid)"
        connectionLogger[metadataKey: "caller.pid"] = "\(peer.pid)"
        let connectionGuard = ConnectionGuard(
            limits: ConnectionLimits(configuration), metrics: metrics, logger: connectionLogger)
        try channel.pipeline.syncOperations.addHandler(connectionGuard)
        try channel.pipeline.syncOperations.configureHTTPServerPipeline(withPipeliningAssistance: true, withErrorHandling: false)
        try channel.pipeline.syncOperations.addHandler(
            HTTPHandler(
                router: router, peer: peer, bodyLimit: configuration.bodyLimit, logger: connectionLogger,
                connectionGuard: connectionGuard))
    }

    /// Closes a connection over a cap at once: counted, and logged at most once per 10 s.
    private func refuse(_ channel: any Channel, peer: PeerCredentials, _ refusal: ConnectionRefusal) {
        router.metrics.countRefused(refusal)
        channel.close(promise: nil)
        refusals.occurred { refused in
            let open = limiter.open(uid: peer.uid)
            logger.warning(
                "connection refused: connection cap reached",
                metadata: [
                    "limit": "\(refusal.rawValue)", "caller.uid": "\(peer.uid)", "caller.pid": "\(peer.pid)",
                    "connections.refused": "\(refused)", "connections.open": "\(open.total)",
                    "connections.open_of_uid": "\(open.uid)",
                ])
        }
    }

    private func prepareSocketPath() throws {
        let directory = (configuration.socketPath as NSString).deletingLastPathComponent
        if !directory.isEmpty, !FileManager.default.fileExists(atPath: directory) {
            try FileManager.default.createDirectory(
                atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        }
    }

    /// Mode and group are set before READY=1, so no caller ever sees a wider socket.
    private func setSocketPermissions() throws {
        let path = configuration.socketPath
        if let group = configuration.socketGroup {
            let gid: gid_t
            if let number = UInt32(group) {
                gid = number
            } else if let entry = getgrnam(group) {
                gid = entry.pointee.gr_gid
            } else {
                throw ConfigurationError.invalid("socket group", "unknown group \"\(group)\"")
            }
            guard chown(path, UInt32.max, gid) == 0 else {
                throw ConfigurationError.invalid("socket group", "cannot give \(path) to group \(group) (errno \(errno))")
            }
        }
        guard chmod(path, mode_t(configuration.socketMode)) == 0 else {
            throw ConfigurationError.invalid("socket mode", "cannot chmod \(path) (errno \(errno))")
        }
    }

    /// Asks every connection to close after its current answer and waits (at most 10 s).
    private func drain() async {
        let open = connections.withLock { Array($0.values) }
        for channel in open {
            channel.pipeline.fireUserInboundEventTriggered(DrainEvent())
        }
        let deadline = ContinuousClock.now + .seconds(10)
        while ContinuousClock.now < deadline, connections.withLock({ !$0.isEmpty }) {
            try? await Task.sleep(for: .milliseconds(10))
        }
        for channel in connections.withLock({ Array($0.values) }) { channel.close(promise: nil) }
    }
}
