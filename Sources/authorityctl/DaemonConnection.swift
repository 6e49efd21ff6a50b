import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix

/// One HTTP answer of the daemon.
struct DaemonAnswer: Sendable {
    var status: Int
    var body: Data
}

/// Why a request did not get an answer.
enum TransportError: Error {
    /// `connect(2)` failed; `errno` when known.
    case connect(errno: Int32?)
    case connectTimedOut
    /// No complete answer within the request timeout.
    case timedOut(seconds: Int64)
    /// The daemon closed the connection before a complete answer.
    case closed
}

/// HTTP/1.1 over the daemon's Unix socket with SwiftNIO: one request per connection
/// (`Connection: close`), connect timeout 5 s, request timeout 30 s.
struct DaemonConnection: Sendable {
    var socketPath: String
    var connectTimeout: TimeAmount = .seconds(5)
    var requestTimeoutSeconds: Int64 = 30

    /// Sends `method target` with an optional JSON body and returns the whole answer. `accept` is
    /// the media type asked for (the revocation bundle also comes in binary).
    func send(
        _ method: HTTPMethod, _ target: String, json body: Data? = nil, accept: String = "application/json"
    ) async throws -> DaemonAnswer {
        var head = HTTPRequestHead(version: .http1_1, method: method, uri: target)
        head.headers.add(name: "Host", value: "localhost")
        head.headers.add(name: "Connection", value: "close")
        head.headers.add(name: "Accept", value: accept)
        if let body {
            head.headers.add(name: "Content-Type", value: "application/json")
            head.headers.add(name: "Content-Length", value: String(body.count))
        } else if method == .POST {
            head.headers.add(name: "Content-Length", value: "0")
        }
        let request = head
        let bytes = body.map { Array($0) }

        let loop = MultiThreadedEventLoopGroup.singleton.next()
        let answer = loop.makePromise(of: DaemonAnswer.self)
        let channel = try await connect(on: loop, failing: answer) { ExchangeHandler(head: request, body: bytes, answer: answer) }
        let seconds = requestTimeoutSeconds
        let timeout = loop.scheduleTask(in: .seconds(seconds)) {
            answer.fail(TransportError.timedOut(seconds: seconds))
            channel.close(promise: nil)
        }
        defer { timeout.cancel() }
        return try await answer.futureResult.get()
    }

    /// A connection to the daemon's socket with HTTP client handlers and `makeHandler()`'s last.
    /// When it cannot be made, `pending` (the handler's promise) fails and the error thrown says
    /// why, as a `TransportError`.
    func connect<Handler: ChannelHandler, Value>(
        on loop: any EventLoop, failing pending: EventLoopPromise<Value>, _ makeHandler: @escaping @Sendable () -> Handler
    ) async throws -> any Channel {
        let address: SocketAddress
        do {
            address = try SocketAddress(unixDomainSocketPath: socketPath)
        } catch {
            pending.fail(TransportError.connect(errno: ENAMETOOLONG))
            throw TransportError.connect(errno: ENAMETOOLONG)
        }
        do {
            return try await ClientBootstrap(group: loop)
                .connectTimeout(connectTimeout)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHTTPClientHandlers()
                        try channel.pipeline.syncOperations.addHandler(makeHandler())
                    }
                }
                .connect(to: address)
                .get()
        } catch let error as IOError {
            pending.fail(error)
            throw TransportError.connect(errno: error.errnoCode)
        } catch ChannelError.connectTimeout {
            pending.fail(TransportError.connectTimedOut)
            throw TransportError.connectTimedOut
        } catch {
            pending.fail(error)
            throw TransportError.connect(errno: nil)
        }
    }
}

/// Writes the request once connected and collects the answer into `answer`.
private final class ExchangeHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundOut = HTTPClientRequestPart

    private let head: HTTPRequestHead
    private let body: [UInt8]?
    private let answer: EventLoopPromise<DaemonAnswer>
    private var status = 0
    private var received = ByteBuffer()

    init(head: HTTPRequestHead, body: [UInt8]?, answer: EventLoopPromise<DaemonAnswer>) {
        self.head = head
        self.body = body
        self.answer = answer
    }

    func channelActive(context: ChannelHandlerContext) {
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        if let body {
            context.write(
                wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: body)))), promise: nil)
        }
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let responseHead):
            status = Int(responseHead.status.code)
        case .body(var part):
            received.writeBuffer(&part)
        case .end:
            answer.succeed(DaemonAnswer(status: status, body: Data(received.readableBytesView)))
            context.close(promise: nil)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        answer.fail(TransportError.closed)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        answer.fail(error)
        context.close(promise: nil)
    }
}
