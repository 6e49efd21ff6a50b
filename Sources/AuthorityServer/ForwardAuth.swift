import AuthorityCore
import NIOHTTP1

/// Which request headers describe the original request on `GET /v1/auth` (docs/proxies.md).
public enum ForwardAuthHeaders: String, Sendable, CaseIterable {
    /// `X-Original-URI`, else `X-Forwarded-Uri`, else the Envoy path form `/v1/auth/<original path>`.
    case auto
    /// nginx `auth_request`: `X-Original-URI`, `X-Original-Method`, `X-Original-Host` or `Host`.
    case nginx
    /// Traefik ForwardAuth and Caddy `forward_auth`: `X-Forwarded-Uri`, `-Method`, `-Host`.
    case forwarded
    /// Envoy `ext_authz` HTTP mode: the original path after the `/v1/auth` prefix, the request's
    /// own method and `Host`.
    case envoy
}

/// Which header gives the client's address.
public enum ForwardAuthClientAddress: String, Sendable, CaseIterable {
    /// `X-Real-IP` when present, else the last (nearest proxy's) `X-Forwarded-For` entry.
    case auto
    case realIP = "x-real-ip"
    /// The last `X-Forwarded-For` entry: the one your own proxy appended.
    case forwardedForLast = "x-forwarded-for-last"
    /// The first entry: only behind a chain of proxies that all overwrite the header.
    case forwardedForFirst = "x-forwarded-for-first"
    /// Never read a client address (IP-bound links are then refused).
    case none
}

/// The original request a proxy describes in a forward-auth request.
struct ForwardedRequest {
    var target: String
    var method: String
    var host: String?
    var clientAddress: String?

    /// Reads the original request; nil when the headers carry none (the answer is then 401).
    init?(path: String, query: String?, method: HTTPMethod, headers: HTTPHeaders,
          mode: ForwardAuthHeaders, addressMode: ForwardAuthClientAddress) {
        let envoyPath = path.hasPrefix("/v1/auth/") ? String(path.dropFirst("/v1/auth".count)) + (query.map { "?" + $0 } ?? "") : nil
        switch mode {
        case .nginx:
            guard let uri = headers.first(name: "X-Original-URI") else { return nil }
            self.init(target: uri, method: headers.first(name: "X-Original-Method") ?? "GET",
                      host: headers.first(name: "X-Original-Host") ?? headers.first(name: "Host"))
        case .forwarded:
            guard let uri = headers.first(name: "X-Forwarded-Uri") else { return nil }
            self.init(target: uri, method: headers.first(name: "X-Forwarded-Method") ?? "GET",
                      host: headers.first(name: "X-Forwarded-Host"))
        case .envoy:
            guard let envoyPath else { return nil }
            self.init(target: envoyPath, method: method.rawValue, host: headers.first(name: "Host"))
        case .auto:
            if headers.contains(name: "X-Original-URI") {
                self.init(path: path, query: query, method: method, headers: headers, mode: .nginx, addressMode: addressMode)
            } else if headers.contains(name: "X-Forwarded-Uri") {
                self.init(path: path, query: query, method: method, headers: headers, mode: .forwarded, addressMode: addressMode)
            } else {
                self.init(path: path, query: query, method: method, headers: headers, mode: .envoy, addressMode: addressMode)
            }
            return
        }
        clientAddress = Self.clientAddress(headers, mode: addressMode)
    }

    private init(target: String, method: String, host: String?) {
        self.target = target
        self.method = method
        self.host = host
    }

    static func clientAddress(_ headers: HTTPHeaders, mode: ForwardAuthClientAddress) -> String? {
        let forwardedFor: [String] = headers[canonicalForm: "X-Forwarded-For"].map { $0.trimmingCharacters(in: .whitespaces) }
        switch mode {
        case .auto: return headers.first(name: "X-Real-IP") ?? forwardedFor.last
        case .realIP: return headers.first(name: "X-Real-IP")
        case .forwardedForLast: return forwardedFor.last
        case .forwardedForFirst: return forwardedFor.first
        case .none: return nil
        }
    }
}
