import AuthorityAPI
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Why a `UnixHTTPClient` call failed.
public enum UnixHTTPError: Error, Equatable, CustomStringConvertible {
    /// The socket path is empty or does not fit in `sockaddr_un` (107 bytes at most).
    case pathTooLong(String)
    case socketFailed(errno: Int32)
    case connectFailed(path: String, errno: Int32)
    case sendFailed(errno: Int32)
    case receiveFailed(errno: Int32)
    /// No (complete) answer within the client's timeout.
    case timedOut
    /// The server closed the connection before a complete answer.
    case closedBeforeResponse
    case malformedResponse(String)

    public var description: String {
        switch self {
        case .pathTooLong(let path): "socket path too long: \(path)"
        case .socketFailed(let code): "socket(): \(String(cString: strerror(code)))"
        case .connectFailed(let path, let code): "connect(\(path)): \(String(cString: strerror(code)))"
        case .sendFailed(let code): "send(): \(String(cString: strerror(code)))"
        case .receiveFailed(let code): "recv(): \(String(cString: strerror(code)))"
        case .timedOut: "timed out waiting for the answer"
        case .closedBeforeResponse: "connection closed before a complete answer"
        case .malformedResponse(let why): "malformed answer: \(why)"
        }
    }
}

/// One HTTP answer.
public struct HTTPResponse: Sendable {
    /// The status code (200, 404, …).
    public var status: Int
    /// Header fields in the order received.
    public var headers: [(String, String)]
    /// The body (empty when there is none).
    public var body: Data

    /// An answer made of its parts.
    public init(status: Int, headers: [(String, String)], body: Data) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// The first header named `name` (case-insensitive).
    public func header(_ name: String) -> String? { HTTPResponseHead.field(name, in: headers) }

    /// The body as UTF-8 text (for messages).
    public var text: String { String(decoding: body, as: UTF8.self) }

    /// Decodes the JSON body.
    public func decode<T: Decodable>(_ type: T.Type) throws -> T { try JSONDecoder().decode(type, from: body) }

    /// The body as the API's error shape, or nil when it is not one.
    public var errorBody: APIErrorBody? { try? decode(APIErrorBody.self) }

    /// `error.code` of an error body.
    public var errorCode: String? { errorBody?.error.code }
}

/// A blocking HTTP/1.1 client over a Unix stream socket with keep-alive: one connection, reused
/// until the server closes it. Not thread-safe: give each thread its own client.
public final class UnixHTTPClient {
    /// The socket's path.
    public let path: String
    /// Send and receive timeout, in seconds.
    public let timeout: Double
    var descriptor: Int32 = -1
    var buffer: [UInt8] = []
    /// An event stream's decoder, and the frames it completed not yet taken (EventStreamClient.swift).
    var streamDecoder = EventStreamDecoder(chunked: true)
    var streamFrames: [EventStreamDecoder.Frame] = []
    private var answeredOnConnection = 0
    /// How many connections this client has opened (1 when everything went over one keep-alive connection).
    public private(set) var connectionsOpened = 0

    /// A client for the socket at `path`; it connects on the first request.
    public init(path: String, timeout: Double = 30) {
        self.path = path
        self.timeout = timeout
    }

    deinit { close() }

    /// Whether a connection is open.
    public var isConnected: Bool { descriptor >= 0 }

    /// Opens the connection now (a request does it when needed).
    public func connect() throws {
        close()
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw UnixHTTPError.socketFailed(errno: errno) }
        var limit = timeval(tv_sec: Int(timeout), tv_usec: Int((timeout - timeout.rounded(.down)) * 1_000_000))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        guard let result = withUnixSocketAddress(path, { Glibc.connect(fd, $0, $1) }) else {
            Glibc.close(fd)
            throw UnixHTTPError.pathTooLong(path)
        }
        guard result == 0 else {
            let code = errno
            Glibc.close(fd)
            throw UnixHTTPError.connectFailed(path: path, errno: code)
        }
        descriptor = fd
        streamDecoder = EventStreamDecoder(chunked: true)
        streamFrames = []
        answeredOnConnection = 0
        connectionsOpened += 1
    }

    /// Closes the connection (the next request opens a new one).
    public func close() {
        if descriptor >= 0 { Glibc.close(descriptor) }
        descriptor = -1
        buffer.removeAll()
    }

    /// Sends one request and reads its answer. Adds `Host` and `Content-Length` unless given.
    /// When the server closed an idle keep-alive connection, reconnects before sending.
    public func request(
        _ method: String, _ target: String, body: Data? = nil, headers: [(String, String)] = []
    ) throws -> HTTPResponse {
        let bytes = Self.serialize(method, target, body: body, headers: headers)
        dropConnectionIfPeerClosed()
        if descriptor < 0 { try connect() }
        do {
            try sendRaw(bytes)
        } catch UnixHTTPError.sendFailed(let code) where answeredOnConnection > 0 && (code == EPIPE || code == ECONNRESET) {
            // The server closed the idle connection while we were sending: nothing was processed.
            try connect()
            try sendRaw(bytes)
        }
        return try readResponse(method: method)
    }

    /// `GET target`.
    public func get(_ target: String) throws -> HTTPResponse { try request("GET", target) }

    /// `POST target` with `value` as a JSON body.
    public func post(_ target: String, json value: some Encodable) throws -> HTTPResponse {
        try request("POST", target, body: try JSONEncoder().encode(value), headers: [("Content-Type", "application/json")])
    }

    /// `POST target` without a body.
    public func post(_ target: String) throws -> HTTPResponse { try request("POST", target) }

    /// Writes arbitrary bytes to the connection (connecting first when needed).
    public func sendRaw(_ bytes: [UInt8]) throws {
        if descriptor < 0 { try connect() }
        var offset = 0
        while offset < bytes.count {
            let sent = bytes[offset...].withUnsafeBytes { send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if sent < 0 {
                if errno == EINTR { continue }
                let code = errno
                throw code == EAGAIN ? UnixHTTPError.timedOut : UnixHTTPError.sendFailed(errno: code)
            }
            offset += sent
        }
    }

    /// Writes arbitrary text to the connection.
    public func sendRaw(_ text: String) throws { try sendRaw(Array(text.utf8)) }

    /// Shuts the connection's write side (`shutdown(SHUT_WR)`, as `nc -N` does): the server sees
    /// end of input but can still answer.
    public func shutdownWrite() {
        if descriptor >= 0 { _ = shutdown(descriptor, Int32(SHUT_WR)) }
    }

    /// Reads one answer from the connection (for raw and pipelined requests). `method` tells whether
    /// a body follows (not for `HEAD`).
    public func readResponse(method: String = "GET") throws -> HTTPResponse {
        guard descriptor >= 0 else { throw UnixHTTPError.closedBeforeResponse }
        do {
            let head = try readHead()
            let body = try readBody(head, method: method)
            let response = HTTPResponse(status: head.status, headers: head.headers, body: body)
            answeredOnConnection += 1
            if response.header("Connection")?.lowercased() == "close" { close() }
            return response
        } catch {
            close()
            throw error
        }
    }

    /// Waits up to `seconds` for the server to close the connection; true when it did (end of
    /// stream or reset). Data that arrives meanwhile is discarded.
    public func waitForClose(seconds: Double) -> Bool {
        guard descriptor >= 0 else { return true }
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            var entry = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            guard poll(&entry, 1, 50) >= 0 else { return false }
            guard entry.revents != 0 else { continue }
            var scratch = [UInt8](repeating: 0, count: 4096)
            let count = recv(descriptor, &scratch, scratch.count, Int32(MSG_DONTWAIT))
            if count == 0 || (count < 0 && errno != EAGAIN && errno != EINTR) {
                close()
                return true
            }
        }
        return false
    }

    // MARK: - Wire format

    /// The bytes of a request as `request` sends them (for raw and pipelined use).
    public static func serialize(_ method: String, _ target: String, body: Data?, headers: [(String, String)]) -> [UInt8] {
        func has(_ name: String) -> Bool { headers.contains { $0.0.caseInsensitiveCompare(name) == .orderedSame } }
        var head = "\(method) \(target) HTTP/1.1\r\n"
        if !has("Host") { head += "Host: localhost\r\n" }
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        if let body, !has("Content-Length") { head += "Content-Length: \(body.count)\r\n" }
        head += "\r\n"
        return Array(head.utf8) + (body.map { Array($0) } ?? [])
    }

    /// Closes a kept-alive connection the server has already closed, so the request reconnects.
    private func dropConnectionIfPeerClosed() {
        guard descriptor >= 0, buffer.isEmpty else { return }
        var entry = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        guard poll(&entry, 1, 0) > 0 else { return }
        var byte: UInt8 = 0
        let count = recv(descriptor, &byte, 1, Int32(MSG_PEEK | MSG_DONTWAIT))
        if count == 0 || (count < 0 && errno != EAGAIN && errno != EINTR) { close() }
    }

    /// Reads more bytes into the buffer; false at the end of the stream.
    func fill() throws -> Bool {
        var chunk = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = recv(descriptor, &chunk, chunk.count, 0)
            if count > 0 {
                buffer.append(contentsOf: chunk[0..<count])
                return true
            }
            if count == 0 { return false }
            if errno == EINTR { continue }
            if errno == EAGAIN { throw UnixHTTPError.timedOut }
            // A reset after the whole answer arrived still ends the stream for our purposes.
            if errno == ECONNRESET { return false }
            throw UnixHTTPError.receiveFailed(errno: errno)
        }
    }

    func readHead() throws -> HTTPResponseHead {
        while true {
            if let head = try HTTPResponseHead.parse(buffer) {
                buffer.removeFirst(head.length)
                return head
            }
            guard buffer.count < 65_536 else { throw UnixHTTPError.malformedResponse("header section too long") }
            guard try fill() else { throw UnixHTTPError.closedBeforeResponse }
        }
    }

    private func readBody(_ head: HTTPResponseHead, method: String) throws -> Data {
        let status = head.status
        if method == "HEAD" || status / 100 == 1 || status == 204 || status == 304 { return Data() }
        if let encoding = head.header("Transfer-Encoding"), encoding.lowercased() != "identity" {
            throw UnixHTTPError.malformedResponse("Transfer-Encoding \(encoding) (expected Content-Length)")
        }
        if let field = head.header("Content-Length") {
            guard let length = Int(field), length >= 0 else { throw UnixHTTPError.malformedResponse("Content-Length \(field)") }
            while buffer.count < length {
                guard try fill() else { throw UnixHTTPError.closedBeforeResponse }
            }
            defer { buffer.removeFirst(length) }
            return Data(buffer[0..<length])
        }
        // No length: the body runs to the end of the stream (`Connection: close`).
        while try fill() {}
        defer { close() }
        return Data(buffer)
    }
}
