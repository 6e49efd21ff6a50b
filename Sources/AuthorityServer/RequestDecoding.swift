import AuthorityAPI
import Foundation
import NIOCore

extension APIRequest {
    /// Decodes a JSON body into `T`, refusing other media types (415), invalid JSON and wrong
    /// types (400) and unknown members (422). `emptyAs` is used when the body is empty.
    public func decode<T: APIRequestBody>(_ type: T.Type, emptyAs empty: T? = nil) -> Result<T, APIError> {
        if let contentType = headers.first(name: "Content-Type"),
            contentType.split(separator: ";").first?.trimmingCharacters(in: .whitespaces).lowercased()
                != "application/json"
        {
            return .failure(APIError(.unsupportedMediaType, "send the body as Content-Type: application/json (curl: --json)"))
        }
        guard let body, body.readableBytes > 0 else {
            if let empty { return .success(empty) }
            return .failure(APIError(.invalidJSON, "the body must be a JSON object"))
        }
        let data = Data(body.readableBytesView)
        guard let object = try? JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed]) else {
            return .failure(APIError(.invalidJSON, "the body is not valid JSON"))
        }
        guard let members = object as? [String: Any] else {
            return .failure(APIError(.invalidJSON, "the body must be a JSON object"))
        }
        let unknown = Set(members.keys).subtracting(T.fieldNames).sorted()
        if !unknown.isEmpty {
            let list = unknown.map { "\"\($0.prefix(64))\"" }.joined(separator: ", ")
            return .failure(APIError(.unknownField, "unknown field \(list); known: \(T.fieldNames.sorted().joined(separator: ", "))"))
        }
        do {
            return .success(try JSONDecoder().decode(T.self, from: data))
        } catch {
            return .failure(APIError(.invalidJSON, describe(error)))
        }
    }

    /// An integer query parameter within `range`, or `defaultValue` when absent.
    public func queryInteger(_ name: String, default defaultValue: Int64, range: ClosedRange<Int64>) -> Result<Int64, APIError> {
        guard let text = query[name] else { return .success(defaultValue) }
        guard let value = Int64(text), range.contains(value) else {
            return .failure(APIError(.invalidRequest, "query parameter \(name) must be an integer from \(range.lowerBound) to \(range.upperBound)"))
        }
        return .success(value)
    }
}
