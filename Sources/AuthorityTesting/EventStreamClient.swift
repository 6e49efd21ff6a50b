import Foundation

/// One Server-Sent Events frame as a client reads it.
public struct EventFrame: Sendable, Equatable {
    public var id: String?
    public var event: String?
    public var data: String
}

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
    public func nextFrame() throws -> EventFrame? {
        while true {
            if let frame = try takeFrame() { return frame }
            if streamEnded { return nil }
            guard try readChunk() else { return nil }
        }
    }

    /// The frames in the chunks decoded so far (`decodedStream`).
    private func takeFrame() throws -> EventFrame? {
        while let end = Self.frameEnd(in: decodedStream) {
            let text = String(decoding: decodedStream[0..<end.start], as: UTF8.self)
            decodedStream.removeFirst(end.next)
            var frame = EventFrame(id: nil, event: nil, data: "")
            var dataLines: [String] = []
            for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
                if line.hasPrefix(":") { continue }
                let parts = line.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
                let name = String(parts[0])
                var value = parts.count > 1 ? String(parts[1]) : ""
                if value.hasPrefix(" ") { value.removeFirst() }
                switch name {
                case "id": frame.id = value
                case "event": frame.event = value
                case "data": dataLines.append(value)
                default: break
                }
            }
            guard !dataLines.isEmpty else { continue }
            frame.data = dataLines.joined(separator: "\n")
            return frame
        }
        return nil
    }

    private static func frameEnd(in bytes: [UInt8]) -> (start: Int, next: Int)? {
        guard bytes.count >= 2 else { return nil }
        for index in 0..<(bytes.count - 1) where bytes[index] == 10 && bytes[index + 1] == 10 {
            return (index, index + 2)
        }
        return nil
    }

    /// Decodes one chunk of the body into `decodedStream`; false when the connection closed first.
    private func readChunk() throws -> Bool {
        func line() throws -> String? {
            while true {
                if let end = buffer.indices.dropLast().first(where: { buffer[$0] == 13 && buffer[$0 + 1] == 10 }) {
                    let text = String(decoding: buffer[0..<end], as: UTF8.self)
                    buffer.removeFirst(end + 2)
                    return text
                }
                guard try fill() else { return nil }
            }
        }
        guard let sizeLine = try line() else { return false }
        guard let size = Int(sizeLine.split(separator: ";").first ?? "", radix: 16) else {
            throw UnixHTTPError.malformedResponse("chunk size \(sizeLine.prefix(20))")
        }
        if size == 0 {
            _ = try line()
            streamEnded = true
            return true
        }
        while buffer.count < size + 2 {
            guard try fill() else { return false }
        }
        decodedStream += buffer[0..<size]
        buffer.removeFirst(size + 2)
        return true
    }
}
