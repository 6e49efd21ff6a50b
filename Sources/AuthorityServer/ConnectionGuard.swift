import Logging
import NIOCore

/// The limits one connection is held to (docs/operations.md, "Resource limits").
struct ConnectionLimits: Sendable {
    /// From a request's first byte until its head and body are complete.
    var requestTimeout: TimeAmount
    /// With no request in progress; also how long answers may wait unread.
    var idleTimeout: TimeAmount
    /// Unsent bytes past which the connection is closed.
    var writeBufferHardLimit: Int

    init(requestTimeout: TimeAmount, idleTimeout: TimeAmount, writeBufferHardLimit: Int) {
        self.requestTimeout = requestTimeout
        self.idleTimeout = idleTimeout
        self.writeBufferHardLimit = writeBufferHardLimit
    }

    init(_ configuration: ServerConfiguration) {
        self.init(
            requestTimeout: .seconds(configuration.requestTimeout), idleTimeout: .seconds(configuration.idleTimeout),
            writeBufferHardLimit: configuration.writeBufferHardLimit)
    }
}

/// The first handler of every connection, nearest the socket. It enforces what a caller with no
/// rights must not be able to avoid:
///
/// - **request timeout**: the clock starts at the first byte of a request and is not reset by
///   further bytes; the request must be complete (head and body) by then, or the connection is
///   closed without an answer (slowloris);
/// - **idle timeout**: a keep-alive connection with no request in progress is closed;
/// - **back-pressure**: while the channel is not writable (its unsent answers are above the
///   write-buffer watermark) no `read()` reaches the socket; answers that stay unread for the idle
///   timeout, or unsent bytes past the hard limit, close the connection.
///
/// Per request it only reads the clock and sets fields: one timer per connection fires at most
/// every `min(requestTimeout, idleTimeout)` and re-arms itself at the current deadline.
final class ConnectionGuard: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = IOData
    typealias OutboundOut = IOData

    private enum Phase {
        /// No request in progress: the idle deadline runs.
        case idle
        /// A request's first bytes arrived: the request deadline runs.
        case receiving
        /// A complete request is being answered: the daemon's time, no deadline.
        case processing
    }

    private let limits: ConnectionLimits
    private let metrics: AuthorityMetrics
    private let logger: Logger
    private let tick: TimeAmount
    private var phase = Phase.idle
    private var deadline: NIODeadline?
    /// Set when the channel became unwritable: answers must be read by then.
    private var stallDeadline: NIODeadline?
    /// Bytes of a further request arrived while one was being answered.
    private var bytesWhileProcessing = false
    /// A `read()` held back while the channel was not writable.
    private var readPending = false
    private var timer: Scheduled<Void>?
    private var closed = false

    init(limits: ConnectionLimits, metrics: AuthorityMetrics, logger: Logger) {
        self.limits = limits
        self.metrics = metrics
        self.logger = logger
        tick = min(limits.requestTimeout, limits.idleTimeout)
    }

    // MARK: what the HTTP handler reports

    /// A request is complete (its end arrived): its deadline stops.
    func requestReceived() {
        phase = .processing
        deadline = nil
        bytesWhileProcessing = false
    }

    /// The answer to the request in progress is being written: the idle deadline starts, or the
    /// next request's deadline when its bytes already arrived.
    func answered(context: ChannelHandlerContext) {
        let now = context.eventLoop.now
        if bytesWhileProcessing {
            phase = .receiving
            deadline = now + limits.requestTimeout
        } else {
            phase = .idle
            deadline = now + limits.idleTimeout
        }
        bytesWhileProcessing = false
    }

    // MARK: channel events

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { start(context: context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        start(context: context)
        context.fireChannelActive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch phase {
        case .idle:
            phase = .receiving
            deadline = context.eventLoop.now + limits.requestTimeout
        case .receiving:
            break
        case .processing:
            bytesWhileProcessing = true
        }
        context.fireChannelRead(data)
    }

    /// Bytes of the answer being written that do not count against the hard limit: a body whose
    /// storage is shared with a cache (the revocation bundle), so that holding it unsent costs
    /// the connection nothing. Until the channel is writable again, and for that answer only:
    /// reads stay stopped meanwhile, so no other answer can pile up behind it.
    private var sharedAllowance = 0

    /// The next `bytes` written are a shared body (see `sharedAllowance`).
    func allowShared(_ bytes: Int) { sharedAllowance += bytes }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable {
            sharedAllowance = 0
            stallDeadline = nil
            if readPending {
                readPending = false
                context.read()
            }
        } else if stallDeadline == nil {
            stallDeadline = context.eventLoop.now + limits.idleTimeout
        }
        context.fireChannelWritabilityChanged()
    }

    func read(context: ChannelHandlerContext) {
        if context.channel.isWritable {
            context.read()
        } else {
            readPending = true
        }
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        context.write(data, promise: promise)
        guard !context.channel.isWritable, !closed,
            let buffered = try? context.channel.syncOptions?.getOption(.bufferedWritableBytes),
            buffered > limits.writeBufferHardLimit + sharedAllowance
        else { return }
        close(context: context, .writeBufferHardLimit)
    }

    // MARK: the timer

    private func start(context: ChannelHandlerContext) {
        guard timer == nil, !closed else { return }
        let now = context.eventLoop.now
        if deadline == nil, phase == .idle { deadline = now + limits.idleTimeout }
        arm(context: context, now: now)
    }

    private func arm(context: ChannelHandlerContext, now: NIODeadline) {
        var at = now + tick
        if let deadline, deadline < at { at = deadline }
        if let stallDeadline, stallDeadline < at { at = stallDeadline }
        timer = context.eventLoop.assumeIsolated().scheduleTask(deadline: at) { [self] in fire(context: context) }
    }

    private func fire(context: ChannelHandlerContext) {
        timer = nil
        guard !closed else { return }
        let now = context.eventLoop.now
        if let stallDeadline, now >= stallDeadline {
            close(context: context, .writeStalled)
        } else if let deadline, now >= deadline {
            close(context: context, phase == .idle ? .idleTimeout : .requestTimeout)
        } else {
            arm(context: context, now: now)
        }
    }

    private func close(context: ChannelHandlerContext, _ reason: ConnectionClosure) {
        closed = true
        timer?.cancel()
        timer = nil
        metrics.countClosed(reason)
        logger.debug("connection closed by a resource limit", metadata: ["reason": "\(reason.rawValue)"])
        context.close(promise: nil)
    }
}
