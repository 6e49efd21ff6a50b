import AuthorityAPI
import AuthorityCore
import Foundation
import NIOCore
import NIOHTTP1

extension Router {
    /// `GET /v1/revocations/bundle[?since=SERIAL][&format=json]` and `…/bundle/freshness`: bytes,
    /// not a JSON wire type, with `ETag` and `Cache-Control: no-cache`; 304 for `If-None-Match`.
    func bundle(_ request: APIRequest, freshness: Bool, on eventLoop: any EventLoop) -> RouteResult {
        let asked: BundlePublisher.Request
        switch Self.bundleRequest(request, freshness: freshness) {
        case .failure(let error): return .now(error.response)
        case .success(let parsed): asked = parsed
        }
        switch bundles.answer(asked, on: eventLoop) {
        case .now(.success(let answer)): return .now(Self.response(answer))
        case .now(.failure(let error)): return .now(errors.response(error))
        case .later(let future): return .later(future.map(Self.response).recover { [errors] in errors.response($0) })
        }
    }

    static func bundleRequest(_ request: APIRequest, freshness: Bool) -> Result<BundlePublisher.Request, APIError> {
        let allowed: Set<String> = freshness ? ["format"] : ["format", "since"]
        if let unknown = request.query.keys.sorted().first(where: { !allowed.contains($0) }) {
            return .failure(APIError(.invalidRequest, "unknown query parameter \(unknown.prefix(40)) (\(allowed.sorted().joined(separator: ", ")))"))
        }
        let json: Bool
        switch request.query["format"] {
        case nil, "binary": json = false
        case "json": json = true
        default: return .failure(APIError(.invalidRequest, "format must be binary or json"))
        }
        if freshness { return .success(.init(kind: .freshness, json: json, ifNoneMatch: nil)) }
        var since: Int64?
        if request.query["since"] != nil {
            switch request.queryInteger("since", default: 0, range: 0...Int64.max) {
            case .failure(let error): return .failure(error)
            case .success(let value): since = value
            }
        }
        return .success(.init(kind: .bundle(since: since), json: json, ifNoneMatch: ifNoneMatch(request.headers)))
    }

    /// The serials of `If-None-Match` (`"42"`, `W/"42"`, `42`, `*`); nil without the header.
    static func ifNoneMatch(_ headers: HTTPHeaders) -> Set<String>? {
        let values = headers[canonicalForm: "If-None-Match"]
        guard !values.isEmpty else { return nil }
        var tags = Set<String>()
        for value in values.prefix(16) {
            var tag = Substring(value.trimmingCharacters(in: .whitespaces))
            if tag.hasPrefix("W/") { tag = tag.dropFirst(2) }
            if tag.count >= 2, tag.first == "\"", tag.last == "\"" { tag = tag.dropFirst().dropLast() }
            tags.insert(String(tag.prefix(20)))
        }
        return tags
    }

    static func response(_ answer: BundlePublisher.Answer) -> APIResponse {
        var headers = HTTPHeaders()
        headers.add(name: "ETag", value: "\"\(answer.serial)\"")
        headers.add(name: "Cache-Control", value: "no-cache")
        if answer.notModified { return APIResponse(status: .notModified, headers: headers) }
        headers.add(name: "Content-Type", value: answer.json ? "application/json" : RevocationBundle.binaryMediaType)
        var response = APIResponse(status: .ok, headers: headers, body: ByteBuffer(bytes: answer.head))
        response.sharedBody = answer.shared
        return response
    }
}
