import AuthorityAPI
import Logging
import NIOCore
import NIOHTTP1

/// Sent through every connection's pipeline when the daemon drains: finish the request in
/// progress, then close.
struct DrainEvent: Sendable {}

/// One connection: collects a request (head, body within the limit, end), hands it to the router
/// with the caller's credentials, writes the answer. NIO's pipelining helper before it delivers one
/// request at a time, so answers keep their order even when some come from the thread pool.
final class HTTPHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let router: Router
    private let peer: PeerCredentials
    private let bodyLimit: Int
    private let logger: Logger

    private var head: HTTPRequestHead?
    private var body: ByteBuffer?
    /// The current request was answered early (413) and the rest of it is ignored.
    private var answered = false
    /// A request is between its head and its answer.
    private var busy = false
    private var draining = false

    init(router: Router, peer: PeerCredentials, bodyLimit: Int, logger: Logger) {
        self.router = router
        self.peer = peer
        self.bodyLimit = bodyLimit
        self.logger = logger
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let requestHead):
            head = requestHead
            body = nil
            answered = false
            busy = true
            if let length = requestHead.headers.first(name: "Content-Length").flatMap(Int.init), length > bodyLimit {
                answerTooLarge(context: context)
            }
        case .body(var chunk):
            guard !answered else { return }
            if (body?.readableBytes ?? 0) + chunk.readableBytes > bodyLimit {
                answerTooLarge(context: context)
                return
            }
            if body == nil { body = chunk } else { body!.writeBuffer(&chunk) }
        case .end:
            guard !answered, let head else { return }
            let request = APIRequest(head: head, body: body)
            body = nil
            switch router.respond(to: request, peer: peer, eventLoop: context.eventLoop) {
            case .now(let response):
                write(response, for: head, context: context)
            case .later(let future):
                future.assumeIsolated().whenComplete { [self] result in
                    switch result {
                    case .success(let response): write(response, for: head, context: context)
                    case .failure(let error):
                        logger.error("request failed", metadata: ["error": "\(error)", "http.path": "\(request.path)"])
                        write(.error(.internalError, "internal error; see the daemon's log"), for: head, context: context)
                    }
                }
            }
        }
    }

    private func answerTooLarge(context: ChannelHandlerContext) {
        answered = true
        guard let head else { return }
        write(.error(.bodyTooLarge, "the body is larger than \(bodyLimit) bytes", close: true), for: head, context: context)
    }

    private func write(_ response: APIResponse, for request: HTTPRequestHead, context: ChannelHandlerContext) {
        let close = response.close || draining || !request.isKeepAlive
        var headers = response.headers
        headers.replaceOrAdd(name: "Content-Length", value: String(response.body.readableBytes))
        if !headers.contains(name: "Cache-Control") { headers.add(name: "Cache-Control", value: "no-store") }
        if close { headers.replaceOrAdd(name: "Connection", value: "close") }
        router.metrics.countResponse(status: response.status.code)
        let responseHead = HTTPResponseHead(version: request.version, status: response.status, headers: headers)
        context.write(wrapOutboundOut(.head(responseHead)), promise: nil)
        if response.body.readableBytes > 0 {
            context.write(wrapOutboundOut(.body(.byteBuffer(response.body))), promise: nil)
        }
        let done = context.writeAndFlush(wrapOutboundOut(.end(nil)))
        busy = false
        if close {
            done.assumeIsolated().whenComplete { _ in context.close(promise: nil) }
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is DrainEvent {
            draining = true
            if !busy { context.close(promise: nil) }
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    /// A request NIO cannot parse gets a JSON 400 and the connection is closed.
    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if error is HTTPParserError, !busy {
            let head = HTTPRequestHead(version: .http1_1, method: .GET, uri: "/")
            busy = true
            write(.error(.malformedHTTP, "the request is not valid HTTP/1.1", close: true), for: head, context: context)
            return
        }
        logger.debug("connection error", metadata: ["error": "\(error)"])
        context.close(promise: nil)
    }
}
