import Foundation

/// A chunk size line that is not hexadecimal.
public enum EventStreamError: Error, Equatable, CustomStringConvertible {
    case badChunkSize(String)

    public var description: String {
        switch self {
        case .badChunkSize(let field): "the event stream sent a chunk size of \(field)"
        }
    }
}

/// `GET /v1/events`'s body as a client reads it (authorityctl, the tests, the benchmark): HTTP/1.1
/// chunks decoded when `chunked` (a client whose HTTP stack decodes them feeds the body), then
/// Server-Sent Events frames (`id:`, `event:`, `data:` lines up to an empty line); comments and
/// frames without data (the `retry:` one) are dropped.
public struct EventStreamDecoder: Sendable {
    public struct Frame: Sendable, Equatable {
        public var id: String?
        public var event: String?
        public var data = ""

        public init(id: String? = nil, event: String? = nil, data: String = "") {
            self.id = id
            self.event = event
            self.data = data
        }
    }

    public let chunked: Bool
    private var raw: [UInt8] = []
    private var text: [UInt8] = []
    /// The last chunk (size 0) came.
    public private(set) var ended = false

    public init(chunked: Bool) { self.chunked = chunked }

    /// The frames `bytes` completed.
    public mutating func feed(_ bytes: some Collection<UInt8>) throws -> [Frame] {
        if chunked {
            raw += bytes
            try decodeChunks()
        } else {
            text += bytes
        }
        var frames: [Frame] = []
        var start = 0
        var index = 0
        while index + 1 < text.count {
            guard text[index] == 10, text[index + 1] == 10 else {
                index += 1
                continue
            }
            if let frame = Self.frame(text[start..<index]) { frames.append(frame) }
            index += 2
            start = index
        }
        text.removeFirst(start)
        return frames
    }

    private mutating func decodeChunks() throws {
        while !ended {
            guard let lineEnd = raw.indices.dropLast().first(where: { raw[$0] == 13 && raw[$0 + 1] == 10 }) else { return }
            let sizeField = String(decoding: raw[0..<lineEnd], as: UTF8.self).split(separator: ";").first ?? ""
            guard let size = Int(sizeField.trimmingCharacters(in: .whitespaces), radix: 16), size >= 0 else {
                throw EventStreamError.badChunkSize(String(sizeField.prefix(20)))
            }
            if size == 0 {
                ended = true
                return
            }
            guard raw.count >= lineEnd + 2 + size + 2 else { return }
            text += raw[(lineEnd + 2)..<(lineEnd + 2 + size)]
            raw.removeFirst(lineEnd + 2 + size + 2)
        }
    }

    private static func frame(_ bytes: ArraySlice<UInt8>) -> Frame? {
        var frame = Frame()
        var data: [String] = []
        for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n") where !line.hasPrefix(":") {
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
        guard !data.isEmpty else { return nil }
        frame.data = data.joined(separator: "\n")
        return frame
    }
}
