import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix

/// One Server-Sent Events frame of `GET /v1/events`.
struct EventStreamFrame: Sendable {
    var id: String?
    var event: String?
    var data: String
}

/// `GET /v1/events` with `Accept: text/event-stream` over the daemon's socket: hands each frame to
/// `onFrame` as it arrives, and returns when the daemon ends the stream (it stops, or the reader
/// fell behind). A refusal (410, 422, 403) throws its `DaemonAnswer` as `StreamRefused`.
struct EventStreamConnection: Sendable {
    var socketPath: String
    var connectTimeout: TimeAmount = .seconds(5)

    struct StreamRefused: Error {
        var answer: DaemonAnswer
    }

    func follow(lastEventID: Int64?, after: Int64?, onFrame: @escaping @Sendable (EventStreamFrame) -> Void) async throws {
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

/// Sends the request; splits a 200's body into frames (blank-line separated), or collects any
/// other answer whole.
private final class StreamHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundOut = HTTPClientRequestPart

    private let head: HTTPRequestHead
    private let done: EventLoopPromise<Void>
    private let onFrame: @Sendable (EventStreamFrame) -> Void
    private var status = 0
    private var pending: [UInt8] = []

    init(head: HTTPRequestHead, done: EventLoopPromise<Void>, onFrame: @escaping @Sendable (EventStreamFrame) -> Void) {
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
            pending += part.readableBytesView
            if status == 200 { takeFrames() }
        case .end:
            if status == 200 {
                done.succeed(())
            } else {
                done.fail(EventStreamConnection.StreamRefused(answer: DaemonAnswer(status: status, body: Data(pending))))
            }
            context.close(promise: nil)
        }
    }

    private func takeFrames() {
        while let end = pending.indices.dropLast().first(where: { pending[$0] == 10 && pending[$0 + 1] == 10 }) {
            let text = String(decoding: pending[0..<end], as: UTF8.self)
            pending.removeFirst(end + 2)
            var frame = EventStreamFrame(id: nil, event: nil, data: "")
            var data: [String] = []
            for line in text.split(separator: "\n") where !line.hasPrefix(":") {
                let parts = line.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
                var value = parts.count > 1 ? String(parts[1]) : ""
                if value.hasPrefix(" ") { value.removeFirst() }
                switch parts[0] {
                case "id": frame.id = value
                case "event": frame.event = value
                case "data": data.append(value)
                default: break
                }
            }
            guard !data.isEmpty else { continue }
            frame.data = data.joined(separator: "\n")
            onFrame(frame)
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
