import AuthorityAPI
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix

/// `GET /v1/events` with `Accept: text/event-stream` over the daemon's socket: hands each frame to
/// `onFrame` as it arrives, and returns when the daemon ends the stream (it stops, or the reader
/// fell behind). A refusal (410, 422, 403) throws its `DaemonAnswer` as `StreamRefused`.
struct EventStreamConnection: Sendable {
    var socketPath: String
    var connectTimeout: TimeAmount = .seconds(5)

    struct StreamRefused: Error {
        var answer: DaemonAnswer
    }

    func follow(lastEventID: Int64?, after: Int64?, onFrame: @escaping @Sendable (EventStreamDecoder.Frame) -> Void) async throws {
        let address: SocketAddress
        do {
            address = try SocketAddress(unixDomainSocketPath: socketPath)
        } catch {
            throw TransportError.connect(errno: ENAMETOOLONG)
        }
        var head = HTTPRequestHead(version: .http1_1, method: .GET, uri: after.map { "/v1/events?after=\($0)" } ?? "/v1/events")
        head.headers.add(name: "Host", value: "localhost")
        head.headers.add(name: "Accept", value: "text/event-stream")
        if let lastEventID { head.headers.add(name: "Last-Event-ID", value: String(lastEventID)) }
        let request = head
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        let done = loop.makePromise(of: Void.self)
        do {
            _ = try await ClientBootstrap(group: loop)
                .connectTimeout(connectTimeout)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHTTPClientHandlers()
                        try channel.pipeline.syncOperations.addHandler(StreamHandler(head: request, done: done, onFrame: onFrame))
                    }
                }
                .connect(to: address)
                .get()
        } catch let error as IOError {
            done.fail(error)
            throw TransportError.connect(errno: error.errnoCode)
        } catch ChannelError.connectTimeout {
            done.fail(TransportError.connectTimedOut)
            throw TransportError.connectTimedOut
        } catch {
            done.fail(error)
            throw TransportError.connect(errno: nil)
        }
        try await done.futureResult.get()
    }
}

/// Sends the request; hands a 200's frames on as they complete, or collects any other answer whole.
private final class StreamHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundOut = HTTPClientRequestPart

    private let head: HTTPRequestHead
    private let done: EventLoopPromise<Void>
    private let onFrame: @Sendable (EventStreamDecoder.Frame) -> Void
    private var status = 0
    /// A refusal's body, collected whole.
    private var pending: [UInt8] = []
    /// NIO's HTTP decoder has undone the chunks already.
    private var decoder = EventStreamDecoder(chunked: false)

    init(head: HTTPRequestHead, done: EventLoopPromise<Void>, onFrame: @escaping @Sendable (EventStreamDecoder.Frame) -> Void) {
        self.head = head
        self.done = done
        self.onFrame = onFrame
    }

    func channelActive(context: ChannelHandlerContext) {
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let responseHead):
            status = Int(responseHead.status.code)
        case .body(let part):
            guard status == 200 else {
                pending += part.readableBytesView
                return
            }
            do {
                for frame in try decoder.feed(part.readableBytesView) { onFrame(frame) }
            } catch {
                errorCaught(context: context, error: error)
            }
        case .end:
            if status == 200 {
                done.succeed(())
            } else {
                done.fail(EventStreamConnection.StreamRefused(answer: DaemonAnswer(status: status, body: Data(pending))))
            }
            context.close(promise: nil)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        // The daemon went away mid-stream (killed, restarted): the stream ended; reconnect.
        done.succeed(())
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        done.fail(error)
        context.close(promise: nil)
    }
}
