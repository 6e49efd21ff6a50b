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
