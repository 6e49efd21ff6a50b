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

    func follow(lastEventID: Int64?, onFrame: @escaping @Sendable (EventStreamDecoder.Frame) -> Void) async throws {
        var head = HTTPRequestHead(version: .http1_1, method: .GET, uri: "/v1/events")
        head.headers.add(name: "Host", value: "localhost")
        head.headers.add(name: "Accept", value: "text/event-stream")
        if let lastEventID { head.headers.add(name: "Last-Event-ID", value: String(lastEventID)) }
        let request = head
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        let done = loop.makePromise(of: Void.self)
        _ = try await DaemonConnection(socketPath: socketPath, connectTimeout: connectTimeout).connect(on: loop, failing: done) {
            StreamHandler(head: request, done: done, onFrame: onFrame)
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
