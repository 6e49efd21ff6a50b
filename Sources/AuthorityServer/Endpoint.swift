import AuthorityAPI
import AuthorityCore
import NIOHTTP1

/// What a request asks for, found from its method and path alone, with the right it needs.
enum Endpoint: Sendable {
    case forwardAuth
    case health, check, explain, issue, revoke, listRevocations, keys, rotate, audit, integrity, metrics
    /// `GET /v1/events`: a caller's own links' events (every link's with admin).
    case events
    /// `GET /v1/revocations/bundle` and `…/bundle/freshness` (docs/revocation-bundle.md §8).
    case bundle, bundleFreshness
    /// `DELETE /v1/revocations/{serial}`; a serial out of range is a 422 once the right is checked.
    case lift(Result<Int64, APIError>)
    /// `POST /v1/keys/{epoch}/retire`.
    case retire(UInt64)
    /// `GET /v1/links/{id}`: the link's issuer, or the admin right (checked by the handler); an id
    /// that is not one is a 422 once the right is checked.
    case linkState(Result<LinkID, APIError>)

    /// The right a caller needs; nil for none (health).
    var right: Right? {
        switch self {
        case .health: nil
        case .forwardAuth, .check, .explain, .keys, .metrics, .bundle, .bundleFreshness: .check
        case .issue, .linkState, .events: .issue
        case .revoke, .listRevocations: .revoke
        case .rotate, .audit, .integrity, .lift, .retire: .admin
        }
    }

    /// The paths that are exactly one string, and the endpoint of each method they accept.
    static let exact: [String: [(method: HTTPMethod, endpoint: Endpoint)]] = [
        "/v1/health": [(.GET, .health)], "/v1/links": [(.POST, .issue)], "/v1/links/check": [(.POST, .check)],
        "/v1/links/explain": [(.POST, .explain)], "/v1/revocations": [(.GET, .listRevocations), (.POST, .revoke)],
        "/v1/keys": [(.GET, .keys)], "/v1/keys/rotate": [(.POST, .rotate)], "/v1/audit": [(.GET, .audit)],
        "/v1/events": [(.GET, .events)],
        "/v1/integrity": [(.GET, .integrity)], "/metrics": [(.GET, .metrics)],
        "/v1/revocations/bundle": [(.GET, .bundle)], "/v1/revocations/bundle/freshness": [(.GET, .bundleFreshness)],
    ]

    enum Lookup {
        case found(Endpoint)
        case refused(APIResponse)
    }

    /// The endpoint, or the answer for a path no route has (404) or a method it does not take (405).
    static func find(method: HTTPMethod, path: String) -> Lookup {
        if path == "/v1/auth" || path.hasPrefix("/v1/auth/") { return .found(.forwardAuth) }
        if let methods = exact[path] {
            guard let match = methods.first(where: { $0.method == method }) else {
                return .refused(methodNotAllowed(methods.map(\.method)))
            }
            return .found(match.endpoint)
        }
        if let serial = revocationSerial(path) {
            return method == .DELETE ? .found(.lift(serial)) : .refused(methodNotAllowed([.DELETE]))
        }
        if let id = linkID(path) {
            return method == .GET ? .found(.linkState(id)) : .refused(methodNotAllowed([.GET]))
        }
        if let epoch = retireEpoch(path) {
            return method == .POST ? .found(.retire(epoch)) : .refused(methodNotAllowed([.POST]))
        }
        return .refused(.error(.notFound, "no route \(path.prefix(100))"))
    }

    /// `/v1/keys/{epoch}/retire` → epoch (1 to 2^63 - 1: epochs are stored as SQLite integers).
    static func retireEpoch(_ path: String) -> UInt64? {
        guard let number = number(in: path, under: "/v1/keys/", then: "/retire") else { return nil }
        return UInt64(number)
    }

    /// `/v1/revocations/{serial}` → a 422 for a serial out of range, else the serial.
    static func revocationSerial(_ path: String) -> Result<Int64, APIError>? {
        let prefix = "/v1/revocations/"
        // One segment after the prefix; anything deeper is no route at all.
        guard path.utf8.starts(with: prefix.utf8), path.utf8.count > prefix.utf8.count,
            !path.utf8.dropFirst(prefix.utf8.count).contains(UInt8(ascii: "/"))
        else { return nil }
        guard let serial = number(in: path, under: prefix, then: "") else {
            return .failure(APIError(.invalidRequest, "the revocation serial must be an integer from 1 to \(Int64.max)"))
        }
        return .success(serial)
    }

    /// `/v1/links/{id}` (one segment; `check` and `explain` are exact routes) → the id, or a 422.
    static func linkID(_ path: String) -> Result<LinkID, APIError>? {
        let prefix = "/v1/links/"
        guard path.utf8.starts(with: prefix.utf8), path.utf8.count > prefix.utf8.count,
            !path.utf8.dropFirst(prefix.utf8.count).contains(UInt8(ascii: "/"))
        else { return nil }
        guard let id = LinkID(path.utf8.dropFirst(prefix.utf8.count)) else {
            return .failure(APIError(.invalidRequest, "the link id must be the 22 base64url characters of a link's au_id"))
        }
        return .success(id)
    }

    /// The decimal number between `prefix` and `suffix` that fills `path`, from 1 to `Int64.max`;
    /// nil for anything else (compared as bytes).
    private static func number(in path: String, under prefix: String, then suffix: String) -> Int64? {
        let bytes = path.utf8
        guard bytes.starts(with: prefix.utf8), bytes.reversed().starts(with: suffix.utf8.reversed()) else { return nil }
        let digits = bytes.dropFirst(prefix.utf8.count).dropLast(suffix.utf8.count)
        guard (1...19).contains(digits.count), digits.allSatisfy({ (48...57).contains($0) }),
            let value = Int64(String(decoding: digits, as: UTF8.self)), value >= 1
        else { return nil }
        return value
    }

    /// 405 with `Allow`, methods in a stable order.
    private static func methodNotAllowed(_ methods: [HTTPMethod]) -> APIResponse {
        let names = methods.map(\.rawValue).sorted().joined(separator: ", ")
        var response = APIResponse.error(.methodNotAllowed, "allowed: \(names)")
        response.headers.add(name: "Allow", value: names)
        return response
    }
}
