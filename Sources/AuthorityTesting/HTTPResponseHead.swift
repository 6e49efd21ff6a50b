import Foundation

/// The head of an HTTP/1.x answer: the one answer parser of the tests and tools (`UnixHTTPClient`,
/// curl's `-D` dump, authority-bench's load driver).
public struct HTTPResponseHead: Sendable {
    /// The status code (200, 404, …).
    public var status: Int
    /// Header fields in the order received, values without surrounding spaces.
    public var headers: [(String, String)]
    /// Bytes of the head, its closing empty line included: where the body starts.
    public var length: Int

    /// The first header named `name` (case-insensitive).
    public func header(_ name: String) -> String? { Self.field(name, in: headers) }

    /// The head at the start of `bytes`; nil while its closing empty line has not arrived. Throws
    /// `UnixHTTPError.malformedResponse` when the status line is not `HTTP/1.x NNN …`.
    public static func parse(_ bytes: [UInt8]) throws(UnixHTTPError) -> HTTPResponseHead? {
        guard let end = headEnd(bytes) else { return nil }
        let text = String(decoding: bytes[0..<end], as: UTF8.self)
        var lines = text.components(separatedBy: "\r\n")
        let statusLine = lines.removeFirst().split(separator: " ", maxSplits: 2)
        guard statusLine.count >= 2, statusLine[0].hasPrefix("HTTP/1."), let status = Int(statusLine[1]) else {
            throw .malformedResponse("status line \(text.prefix(80))")
        }
        let headers = lines.compactMap { line -> (String, String)? in
            guard let colon = line.firstIndex(of: ":") else { return nil }
            return (String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
        }
        return HTTPResponseHead(status: status, headers: headers, length: end + 4)
    }

    /// The first field named `name` (case-insensitive) of `headers`.
    static func field(_ name: String, in headers: [(String, String)]) -> String? {
        headers.first { $0.0.caseInsensitiveCompare(name) == .orderedSame }?.1
    }

    /// Where the first `\r\n\r\n` starts.
    private static func headEnd(_ bytes: [UInt8]) -> Int? {
        var index = 0
        while index + 3 < bytes.count {
            if bytes[index] == 13, bytes[index + 1] == 10, bytes[index + 2] == 13, bytes[index + 3] == 10 { return index }
            index += 1
        }
        return nil
    }
}
