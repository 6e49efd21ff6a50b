import AuthorityAPI
import AuthorityCore
import Logging
import NIOCore
import NIOHTTP1

/// Sent through every connection's pipeline when the daemon drains: finish the request in
/// progress, then close.
struct DrainEvent: Sendable {}

/// One connection: collects a request (head, body within the limit, end), hands it to the router
/// with the caller's credentials, writes the answer. NIO's pipelining helper before it delivers one
/// request at a time, so answers keep their order even when some come from the thread pool.
///
/// A complete request that arrives while the channel is not writable (earlier answers wait
/// unread above the write-buffer watermark) is held, unanswered, until the channel is writable
/// again; while it waits, the pipelining helper reads nothing more, so a client that sends
/// without reading costs at most the watermark plus one answer.
final class HTTPHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let router: Router
    private let peer: PeerCredentials
    private let bodyLimit: Int
    private let logger: Logger
    /// The connection's timers and back-pressure (nil in tests of the handler alone).
    private let connectionGuard: ConnectionGuard?

    private var head: HTTPRequestHead?
    private var body: ByteBuffer?
    /// The current request was answered early (413) and the rest of it is ignored.
    private var answered = false
    /// A request is between its head and its answer.
    private var busy = false
    /// The current request's end arrived (it is complete, its answer may be on its way).
    private var requestEnded = false
    /// The client shut its write side, or sent bytes that do not parse behind a request still
    /// being answered: answer what was asked, then close.
    private var inputClosed = false
    /// An answer that closes the connection is written; the close follows once it is out.
    private var closing = false
    private var draining = false
    /// A complete request held until the channel is writable again.
    private var parked: (head: HTTPRequestHead, request: APIRequest)?
    /// The answer in progress is an event stream: it ends only with the connection or a drain.
    private var stream: EventStream?

    init(router: Router, peer: PeerCredentials, bodyLimit: Int, logger: Logger, connectionGuard: ConnectionGuard? = nil) {
        self.router = router
        self.peer = peer
        self.bodyLimit = bodyLimit
        self.logger = logger
        self.connectionGuard = connectionGuard
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let requestHead):
            head = requestHead
            body = nil
            answered = false
            busy = true
            requestEnded = false
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
            requestEnded = true
            // A request pipelined behind an event stream: the stream ended the answer and closes.
            if stream != nil { return }
            guard !answered, let head else { return }
            connectionGuard?.requestReceived()
            let request = APIRequest(head: head, body: body)
            body = nil
            guard context.channel.isWritable else {
                parked = (head, request)
                return
            }
            respond(to: request, head: head, context: context)
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable, let (head, request) = parked {
            parked = nil
            respond(to: request, head: head, context: context)
        }
        if context.channel.isWritable { stream?.writable() }
        context.fireChannelWritabilityChanged()
    }

    func channelInactive(context: ChannelHandlerContext) {
        stream?.stop()
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        stream?.stop()
    }

    private func respond(to request: APIRequest, head: HTTPRequestHead, context: ChannelHandlerContext) {
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
        case .events(let feed):
            let stream = EventStream(feed: feed, request: head, context: context) { [self] response in
                self.stream = nil
                write(response, for: head, context: context)
            }
            self.stream = stream
            stream.start()
        }
    }

    /// 413 with the JSON error, except on the forward-auth endpoints, which answer only 204, 401
    /// and 403 without a body: there an oversized request is a malformed one (401).
    private func answerTooLarge(context: ChannelHandlerContext) {
        answered = true
        guard let head else { return }
        connectionGuard?.requestReceived()
        guard !Self.isForwardAuth(head.uri) else {
            var refusal = Router.refusal(.unauthorized, reason: Reason.malformed.rawValue)
            refusal.close = true
            write(refusal, for: head, context: context)
            return
        }
        write(.error(.bodyTooLarge, "the body is larger than \(bodyLimit) bytes", close: true), for: head, context: context)
    }

    /// `/v1/auth`, anything under `/v1/auth/`, with or without a query.
    static func isForwardAuth(_ uri: String) -> Bool {
        let prefix = "/v1/auth"
        guard uri.utf8.starts(with: prefix.utf8) else { return false }
        let next = uri.utf8.dropFirst(prefix.utf8.count).first
        return next == nil || next == UInt8(ascii: "/") || next == UInt8(ascii: "?")
    }

    private func write(_ response: APIResponse, for request: HTTPRequestHead, context: ChannelHandlerContext) {
        let close = response.close || draining || inputClosed || !request.isKeepAlive
        var headers = response.headers
        let shared = response.sharedBody?.readableBytes ?? 0
        headers.replaceOrAdd(name: "Content-Length", value: String(response.body.readableBytes + shared))
        if !headers.contains(name: "Cache-Control") { headers.add(name: "Cache-Control", value: "no-store") }
        if close { headers.replaceOrAdd(name: "Connection", value: "close") }
        router.metrics.countResponse(status: response.status.code)
        let responseHead = HTTPResponseHead(version: request.version, status: response.status, headers: headers)
        context.write(wrapOutboundOut(.head(responseHead)), promise: nil)
        if response.body.readableBytes > 0 {
            context.write(wrapOutboundOut(.body(.byteBuffer(response.body))), promise: nil)
        }
        if let sharedBody = response.sharedBody, shared > 0 {
            connectionGuard?.allowShared(shared)
            context.write(wrapOutboundOut(.body(.byteBuffer(sharedBody))), promise: nil)
        }
        // Before the end is written: writing it may hand the next pipelined request to this
        // handler at once, which must find the connection between requests.
        busy = false
        // Also before: writing the end may deliver a parse error the pipelining helper held back,
        // which must find the close already decided.
        if close { closing = true }
        connectionGuard?.answered(context: context)
        let done = context.writeAndFlush(wrapOutboundOut(.end(nil)))
        if close {
            done.assumeIsolated().whenComplete { _ in context.close(promise: nil) }
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        // Remote half-closure is allowed: a client that sends its request and shuts its write side
        // (`nc -N`, `shutdown(SHUT_WR)`) still gets the answer, then the connection closes.
        if case .some(.inputClosed) = event as? ChannelEvent {
            inputClosed = true
            if !busy { context.close(promise: nil) }
            return
        }
        if event is DrainEvent {
            draining = true
            if let stream, !stream.ended {
                stream.drain()
            } else if !busy {
                context.close(promise: nil)
            }
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    /// A request NIO cannot parse gets a JSON 400 and the connection is closed (no answer once it
    /// is closed: the decoder reports a half-read request at close).
    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // Between requests, or inside one whose head parsed but whose framing then broke (a
        // `Transfer-Encoding` other than chunked, a bad chunk size, EOF inside the body): a 400.
        // A complete request awaiting its answer keeps it (NIO's pipelining helper holds the
        // error until the answer is out).
        if error is HTTPParserError, !busy || !requestEnded, !answered, context.channel.isActive {
            let head = HTTPRequestHead(version: .http1_1, method: .GET, uri: "/")
            busy = true
            answered = true
            write(.error(.malformedHTTP, "the request is not valid HTTP/1.1", close: true), for: head, context: context)
            return
        }
        // A parse error behind a complete request whose answer is still on its way (from the thread
        // pool or the group commit): that answer is owed, and is written; then the connection closes.
        if error is HTTPParserError, busy, requestEnded, context.channel.isActive {
            inputClosed = true
            return
        }
        // The decoder reports the same broken bytes again after the 400: that answer is already on
        // its way, and closes the connection once written.
        if error is HTTPParserError, closing { return }
        logger.debug("connection error", metadata: ["error": "\(Self.kind(of: error))"])
        context.close(promise: nil)
    }

    /// An error's kind for the log: its type and case, never its payload. NIO's decoder errors
    /// carry the client's bytes (`dataReceivedInErrorState(_, ByteBuffer)` prints them in hex),
    /// which may hold passwords and signatures.
    static func kind(of error: any Error) -> String {
        switch error {
        case let error as HTTPParserError: "HTTPParserError.\(error)"
        case let error as ByteToMessageDecoderError:
            switch error {
            case .dataReceivedInErrorState(let first, _): "ByteToMessageDecoderError.dataReceivedInErrorState(\(kind(of: first)))"
            case .leftoverDataWhenDone: "ByteToMessageDecoderError.leftoverDataWhenDone"
            }
        case let error as IOError: "IOError(errno \(error.errnoCode))"
        default: String(reflecting: type(of: error))
        }
    }
}
