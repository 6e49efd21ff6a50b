import AuthorityAPI
import AuthorityCore
import Foundation
import NIOCore
import NIOHTTP1

/// One complete request as the router sees it.
public struct APIRequest: Sendable {
    public var method: HTTPMethod
    /// The path without the query.
    public var path: String
    /// Query parameters, decoded (`+` and `%XX`); the last of a repeated name wins.
    public var query: [String: String]
    /// The query as sent (for the Envoy forward-auth form, where it is the original request's).
    public var rawQuery: String?
    public var headers: HTTPHeaders
    public var body: ByteBuffer?

    public init(head: HTTPRequestHead, body: ByteBuffer?) {
        method = head.method
        let uri = Self.originForm(head.uri)
        if let mark = uri.firstIndex(of: "?") {
            path = String(uri[..<mark])
            rawQuery = String(uri[uri.index(after: mark)...])
            query = Self.decodeQuery(uri[uri.index(after: mark)...])
        } else {
            path = String(uri)
            rawQuery = nil
            query = [:]
        }
        headers = head.headers
        self.body = body
    }

    /// The origin form (`/path?query`) of a request target: an absolute-form target
    /// (`http://host/path`, which HTTP/1.1 servers must accept, RFC 9112 §3.2.2) loses its scheme
    /// and authority; any other target is kept as it is.
    static func originForm(_ uri: String) -> Substring {
        let bytes = uri.utf8
        // Nearly every target is already in origin form: no work, no allocation.
        if bytes.first == UInt8(ascii: "/") { return uri[...] }
        let schemeLength = ASCII.hasPrefixIgnoringCase(bytes, "https://".utf8)
            ? 8 : ASCII.hasPrefixIgnoringCase(bytes, "http://".utf8) ? 7 : 0
        guard schemeLength > 0 else { return uri[...] }
        let afterScheme = bytes.index(bytes.startIndex, offsetBy: schemeLength)
        guard let start = bytes[afterScheme...].firstIndex(where: { $0 == UInt8(ascii: "/") || $0 == UInt8(ascii: "?") })
        else { return "/" }
        return bytes[start] == UInt8(ascii: "/") ? uri[start...] : Substring("/" + uri[start...])
    }

    static func decodeQuery(_ text: Substring) -> [String: String] {
        var result: [String: String] = [:]
        for piece in text.split(separator: "&") {
            let parts = piece.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = parts[0].replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String(parts[0])
            let value = parts.count > 1
                ? (parts[1].replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String(parts[1])) : ""
            result[name] = value
        }
        return result
    }
}

/// One complete response.
public struct APIResponse: Sendable {
    public var status: HTTPResponseStatus
    public var headers: HTTPHeaders
    public var body: ByteBuffer
    /// Close the connection after this response (oversized bodies, protocol errors).
    public var close = false

    public init(status: HTTPResponseStatus, headers: HTTPHeaders = [:], body: ByteBuffer = ByteBuffer(), close: Bool = false) {
        self.status = status
        self.headers = headers
        self.body = body
        self.close = close
    }

    private static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    /// A JSON answer. Encoding our own wire types cannot fail; if it ever did, the answer is a 500
    /// with a JSON body rather than an empty one.
    public static func json(_ value: some Encodable, status: HTTPResponseStatus = .ok) -> APIResponse {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "application/json")
        if let object = value as? any WireObject, let bytes = object.handWrittenJSON() {
            return APIResponse(status: status, headers: headers, body: ByteBuffer(bytes: bytes))
        }
        guard let data = try? encoder.encode(value) else {
            return .error(.internalError, "the answer could not be encoded")
        }
        return APIResponse(status: status, headers: headers, body: ByteBuffer(bytes: data))
    }

    /// `json(value)` always through `JSONEncoder`, for the tests that hold hand-written JSON to it.
    static func encodedJSON(_ value: some Encodable) -> [UInt8]? { (try? encoder.encode(value)).map { Array($0) } }

    /// `{"error": {"code", "message"}}` with the code's status.
    public static func error(_ code: APIErrorCode, _ message: String, close: Bool = false) -> APIResponse {
        var response = json(APIErrorBody(code: code.rawValue, message: message),
                            status: HTTPResponseStatus(statusCode: code.status))
        response.close = close
        // Storage trouble passes (a lock released, space freed) or ends in a restart: try again.
        if code == .storageUnavailable { response.headers.add(name: "Retry-After", value: "5") }
        return response
    }

    public static func text(_ text: String, contentType: String) -> APIResponse {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: contentType)
        return APIResponse(status: .ok, headers: headers, body: ByteBuffer(string: text))
    }
}

/// What a route answers: at once (on the event loop), or later (work done on the thread pool).
public enum RouteResult: Sendable {
    case now(APIResponse)
    case later(EventLoopFuture<APIResponse>)
}

/// A client mistake or refusal, answered with its code; never a thrown error that becomes an empty 500.
public struct APIError: Error, Sendable {
    public var code: APIErrorCode
    public var message: String
    public init(_ code: APIErrorCode, _ message: String) {
        self.code = code
        self.message = message
    }
    public var response: APIResponse { .error(code, message) }
}
