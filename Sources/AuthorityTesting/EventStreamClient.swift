import AuthorityAPI
import Foundation

/// `GET /v1/events` as a stream: the answer's head, then its frames one by one, from the chunked
/// body, over the client's connection (the daemon closes it when the stream ends).
extension UnixHTTPClient {
    /// Sends the stream request; returns its head. Read frames with `nextFrame` when the status
    /// is 200; any other answer's body is in `streamBody` (it has a `Content-Length`).
    public func openEventStream(_ target: String = "/v1/events", headers: [(String, String)] = []) throws -> HTTPResponseHead {
        try connect()
        try sendRaw(Self.serialize("GET", target, body: nil, headers: [("Accept", "text/event-stream")] + headers))
        return try readHead()
    }

    /// The body of a non-stream answer to `openEventStream` (its `Content-Length` bytes).
    public func streamBody(_ head: HTTPResponseHead) throws -> Data {
        let length = Int(head.header("Content-Length") ?? "0") ?? 0
        while buffer.count < length {
            guard try fill() else { throw UnixHTTPError.closedBeforeResponse }
        }
        defer { buffer.removeFirst(length) }
        return Data(buffer[0..<length])
    }

    /// The next frame with data (comments and `retry` lines are skipped); nil when the stream
    /// ended (its last chunk, or the connection closed). Throws `timedOut` after the client's
    /// timeout without one.
    public func nextFrame() throws -> EventStreamDecoder.Frame? {
        while true {
            if !streamFrames.isEmpty { return streamFrames.removeFirst() }
            if streamDecoder.ended { return nil }
            if buffer.isEmpty {
                guard try fill() else { return nil }
            }
            streamFrames += try streamDecoder.feed(buffer)
            buffer.removeAll()
        }
    }
}
