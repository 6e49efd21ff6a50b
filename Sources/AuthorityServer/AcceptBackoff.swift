import Logging
import NIOCore

#if canImport(Glibc)
import Glibc
#endif

/// The listening socket's back-off: after a failed `accept` (`EMFILE`/`ENFILE`: descriptors
/// exhausted), stop accepting for `pause`, then try again; count every failure and log one line
/// per 10 s at most, with the errno and how many failed since the last line.
///
/// Why not NIO's `AcceptBackoffHandler`: NIO installs it only for the async (`NIOAsyncChannel`)
/// binds, not for `bind(unixDomainSocketPath:)` or `withBoundSocket(_:)`, which the daemon uses;
/// and even where it runs it only delays the next `read()`. A failed accept leaves the pending
/// connection in the backlog and NIO's `readPending` set (`ServerSocketChannel.readFromSocket`
/// clears it only on success), so the socket stays registered for readability, epoll reports it
/// at once, and the loop retries `accept` forever: 100 % of a core (measured under
/// `prlimit --nofile=64`: some 5,000 failed `accept4` per second with the handler in place).
/// Switching `autoRead` off removes the socket from epoll until the pause ends.
final class AcceptBackoff: ChannelInboundHandler {
    typealias InboundIn = any Channel
    typealias InboundOut = any Channel

    /// How long accepting pauses after a failed accept.
    static let pause: TimeAmount = .milliseconds(100)

    private let metrics: AuthorityMetrics
    private let logger: Logger
    private let log = RateLimitedLog()
    private var resume: Scheduled<Void>?

    init(metrics: AuthorityMetrics, logger: Logger) {
        self.metrics = metrics
        self.logger = logger
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard let error = error as? IOError else {
            context.fireErrorCaught(error)
            return
        }
        metrics.acceptErrors.increment()
        pauseAccepting(context: context)
        log.occurred { failures in report(error, failures: failures) }
    }

    func channelInactive(context: ChannelHandlerContext) {
        resume?.cancel()
        resume = nil
        context.fireChannelInactive()
    }

    private func pauseAccepting(context: ChannelHandlerContext) {
        guard resume == nil, let options = context.channel.syncOptions else { return }
        try? options.setOption(.autoRead, value: false)
        resume = context.eventLoop.assumeIsolated().scheduleTask(in: Self.pause) { [self] in
            resume = nil
            try? context.channel.syncOptions?.setOption(.autoRead, value: true)
        }
    }

    private func report(_ error: IOError, failures: Int) {
        let code = error.errnoCode
        let exhausted = code == EMFILE || code == ENFILE
        logger.error(
            "accepting connections failed; pausing accepts and retrying",
            metadata: [
                "error": "\(code == EMFILE ? "EMFILE" : code == ENFILE ? "ENFILE" : "errno \(code)"): \(String(cString: strerror(code)))",
                "accept.failures": "\(failures)",
                "accept.pause_ms": "\(Self.pause.nanoseconds / 1_000_000)",
                "hint": "\(exhausted ? "descriptors exhausted: raise LimitNOFILE= or lower max-connections" : "see the error")",
            ])
    }
}
