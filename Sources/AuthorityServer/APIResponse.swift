import AuthorityAPI
import AuthorityCore
import Foundation
import NIOCore
import NIOHTTP1

/// One complete response.
public struct APIResponse: Sendable {
    public var status: HTTPResponseStatus
    public var headers: HTTPHeaders
    public var body: ByteBuffer
    /// More of the body, after `body`, whose storage is shared with a cache (the revocation
    /// bundle's content): written without a copy, and allowed past the write-buffer hard limit.
    public var sharedBody: ByteBuffer?
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
    /// An answer that goes on: `GET /v1/events` as Server-Sent Events.
    case events(EventFeed)
}
