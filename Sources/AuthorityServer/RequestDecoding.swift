import AuthorityAPI
import AuthorityCore
import Foundation
import NIOCore

extension APIRequest {
    /// Decodes a JSON body into `T`, refusing other media types (415), invalid JSON and wrong
    /// types (400) and unknown members (422). `emptyAs` is used when the body is empty.
    public func decode<T: APIRequestBody>(_ type: T.Type, emptyAs empty: T? = nil) -> Result<T, APIError> {
        if let contentType = headers.first(name: "Content-Type"), !Self.isJSON(contentType: contentType) {
            return .failure(APIError(.unsupportedMediaType, "send the body as Content-Type: application/json (curl: --json)"))
        }
        guard let body, body.readableBytes > 0 else {
            if let empty { return .success(empty) }
            return .failure(APIError(.invalidJSON, "the body must be a JSON object"))
        }
        if let flat = body.withUnsafeReadableBytes({ FlatJSONObject($0.assumingMemoryBound(to: UInt8.self)) }) {
            switch T.wireFields.read(flat.members, over: T.wireTemplate) {
            case .value(let value): return .success(value)
            case .unknown(let unknown): return .failure(Self.refusal(unknown, of: T.self))
            case .undecided: break
            }
        }
        do {
            return .success(try Self.decoder.decode(Strict<T>.self, from: Data(body.readableBytesView)).value)
        } catch StrictFailure.notAnObject {
            return .failure(APIError(.invalidJSON, "the body must be a JSON object"))
        } catch StrictFailure.unknownMembers(let unknown) {
            return .failure(Self.refusal(unknown, of: T.self))
        } catch DecodingError.dataCorrupted(let context) where context.codingPath.isEmpty {
            return .failure(APIError(.invalidJSON, "the body is not valid JSON"))
        } catch {
            return .failure(APIError(.invalidJSON, describe(error)))
        }
    }

    /// The one answer to unknown members, from the quick reader and `Strict` alike.
    private static func refusal<T: APIRequestBody>(_ unknown: [String], of type: T.Type) -> APIError {
        APIError(.unknownField, T.wireFields.known.refusal(unknown))
    }

    /// Whether a `Content-Type` names `application/json` in any ASCII case: its media type is the
    /// bytes before any `;` parameter, less the spaces and tabs around them (HTTP's optional
    /// whitespace; no Unicode space is trimmed, and nothing is case-mapped beyond ASCII). On bytes,
    /// as every check of a request is: Foundation's split and trim cost about 4 % of a check.
    static func isJSON(contentType: String) -> Bool {
        var mediaType = contentType.utf8[...]
        if let parameters = mediaType.firstIndex(of: UInt8(ascii: ";")) { mediaType = mediaType[..<parameters] }
        let isBlank = { (byte: UInt8) in byte == 0x20 || byte == 0x09 }
        while let first = mediaType.first, isBlank(first) { mediaType.removeFirst() }
        while let last = mediaType.last, isBlank(last) { mediaType.removeLast() }
        return ASCII.equalsIgnoringCase(mediaType, "application/json".utf8)
    }

    /// Shared: `JSONDecoder` keeps no state between calls.
    private static let decoder = JSONDecoder()

    /// An integer query parameter within `range`, or `defaultValue` when absent.
    public func queryInteger(_ name: String, default defaultValue: Int64, range: ClosedRange<Int64>) -> Result<Int64, APIError> {
        guard let text = query[name] else { return .success(defaultValue) }
        guard let value = Int64(text), range.contains(value) else {
            return .failure(APIError(.invalidRequest, "query parameter \(name) must be an integer from \(range.lowerBound) to \(range.upperBound)"))
        }
        return .success(value)
    }
}

/// Decodes a request body in one pass over the JSON: the members are checked against
/// `T.wireFields.known` (unknown ones are refused) before `T` itself is decoded from the same parse.
private struct Strict<T: APIRequestBody>: Decodable {
    var value: T

    init(from decoder: any Decoder) throws {
        let members: KeyedDecodingContainer<WireKey>
        do {
            members = try decoder.container(keyedBy: WireKey.self)
        } catch {
            throw StrictFailure.notAnObject
        }
        let unknown = T.wireFields.known.unknown(in: members.allKeys.lazy.map(\.stringValue))
        if !unknown.isEmpty { throw StrictFailure.unknownMembers(unknown) }
        value = try T(from: decoder)
    }
}

private enum StrictFailure: Error {
    case notAnObject
    case unknownMembers([String])
}
