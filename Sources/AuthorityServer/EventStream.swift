import AuthorityAPI
import AuthorityStore
import NIOCore
import NIOHTTP1

/// One `GET /v1/events` answered as Server-Sent Events, on its connection's event loop. It reads
/// the store from its last serial (on the reads pool) whenever the hub wakes it and at every
/// poll, and writes what it read as SSE frames; it never reads while the channel is not writable,
/// so a slow reader costs one page of events at most (and the connection guard closes a reader
/// that stops reading). A first read that finds the start behind the retention answers 410
/// instead of streaming. The stream ends when the daemon drains (the answer is ended and the
/// connection closed: the client reconnects with `Last-Event-ID`), when the client goes, or when
/// the stream itself falls behind the retention (an `error` frame with the `events.expired` error, then the end).
final class EventStream {
    private let feed: EventFeed
    private let request: HTTPRequestHead
    private let context: ChannelHandlerContext
    /// Writes a whole answer instead of the stream (the 410), through the connection's handler.
    private let answerInstead: (APIResponse) -> Void
    private var last: Int64?
    private var started = false
    private var reading = false
    private var again = false
    private(set) var ended = false
    private var ticks = 0
    /// The daemon drains before the first read came back: end right after it.
    private var draining = false
    private var lastRead = NIODeadline.distantPast
    private var wakeScheduled = false
    private var poll: RepeatedTask?

    init(feed: EventFeed, request: HTTPRequestHead, context: ChannelHandlerContext, answerInstead: @escaping (APIResponse) -> Void) {
        self.feed = feed
        self.request = request
        self.context = context
        self.answerInstead = answerInstead
        last = feed.after
    }

    private var hub: EventHub { feed.hub }

    func start() {
        let loop = context.eventLoop
        let bound = NIOLoopBound(self, eventLoop: loop)
        hub.register(
            ObjectIdentifier(self), wake: { loop.execute { bound.value.woken() } }, end: { loop.execute { bound.value.drain() } })
        poll = loop.scheduleRepeatedTask(initialDelay: hub.pollInterval, delay: hub.pollInterval) { _ in bound.value.tick() }
        pump()
    }

    /// A commit: read now, or at the end of the wake interval since the last read.
    private func woken() {
        guard !ended, !wakeScheduled else { return }
        let due = lastRead + hub.wakeInterval
        guard context.eventLoop.now < due else { return pump() }
        wakeScheduled = true
        let bound = NIOLoopBound(self, eventLoop: context.eventLoop)
        context.eventLoop.scheduleTask(deadline: due) {
            bound.value.wakeScheduled = false
            bound.value.pump()
        }
    }

    /// The channel is writable again: read on.
    func writable() { if again { pump() } }

    /// The daemon drains: end the answer and close; the client resumes from its last id.
    func drain() {
        if started { finish(frame: nil) } else { draining = true }
    }

    /// The connection is gone.
    func stop() {
        guard !ended else { return }
        ended = true
        poll?.cancel()
        hub.unregister(ObjectIdentifier(self))
    }

    private func tick() {
        ticks += 1
        if started, ticks % hub.heartbeatTicks == 0, context.channel.isWritable {
            context.writeAndFlush(NIOAny(HTTPServerResponsePart.body(.byteBuffer(ByteBuffer(string: ": keep-alive\n\n")))), promise: nil)
        }
        pump()
    }

    private func pump() {
        guard !ended else { return }
        guard !reading, context.channel.isWritable else {
            again = true
            return
        }
        reading = true
        again = false
        lastRead = context.eventLoop.now
        let (store, after, issuer, limit) = (hub.store, last, feed.issuer, hub.pageSize)
        hub.runtime.pools.reads.runIfActive(eventLoop: context.eventLoop) {
            try store.events(after: after ?? 0, limit: limit, issuer: issuer)
        }.assumeIsolated().whenComplete { [self] result in
            reading = false
            guard !ended else { return }
            switch result {
            case .failure(let error):
                // Storage trouble: the next poll reads again; the stream stays open meanwhile.
                hub.runtime.logger.debug("an event stream could not read the store", metadata: ["error": "\(error)"])
                guard !started else { return }
                stop()
                answerInstead(.error(.storageUnavailable, hub.store.storageTrouble(error) ?? "the events cannot be read now"))
            case .success(let batch):
                deliver(batch, after: after, full: batch.events.count == limit)
            }
        }
    }

    private func deliver(_ batch: EventBatch, after: Int64?, full: Bool) {
        if let refusal = batch.refusal(after: after) {
            guard started else {
                stop()
                return answerInstead(refusal.response)
            }
            var frame = ByteBuffer()
            frame.writeString("event: error\ndata: ")
            var json = refusal.response.body
            frame.writeBuffer(&json)
            frame.writeString("\n\n")
            return finish(frame: frame)
        }
        var buffer = ByteBuffer()
        if !started { writeHead(into: &buffer) }
        for event in batch.events { EventHub.frame(event, into: &buffer) }
        last = batch.next(after: after ?? 0, limit: hub.pageSize)
        if buffer.readableBytes > 0 { context.writeAndFlush(NIOAny(HTTPServerResponsePart.body(.byteBuffer(buffer))), promise: nil) }
        if draining { return finish(frame: nil) }
        if full || again { pump() }
    }

    /// 200 with `text/event-stream`, no length (chunked), closed when the stream ends; and the
    /// reconnection delay a client should wait (`retry`).
    private func writeHead(into buffer: inout ByteBuffer) {
        started = true
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "text/event-stream")
        headers.add(name: "Cache-Control", value: "no-store")
        headers.add(name: "Connection", value: "close")
        // nginx and other proxies pass the stream on as it comes instead of buffering it.
        headers.add(name: "X-Accel-Buffering", value: "no")
        hub.runtime.metrics.countResponse(status: 200)
        context.write(NIOAny(HTTPServerResponsePart.head(HTTPResponseHead(version: request.version, status: .ok, headers: headers))), promise: nil)
        buffer.writeString("retry: 1000\n\n")
    }

    /// Ends the answer (after `frame`) and closes the connection.
    private func finish(frame: ByteBuffer?) {
        guard !ended else { return }
        stop()
        if let frame { context.write(NIOAny(HTTPServerResponsePart.body(.byteBuffer(frame))), promise: nil) }
        let context = context
        context.writeAndFlush(NIOAny(HTTPServerResponsePart.end(nil))).assumeIsolated().whenComplete { _ in
            context.close(promise: nil)
        }
    }
}
