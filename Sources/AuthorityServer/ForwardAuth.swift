import AuthorityCore
import NIOHTTP1

/// The proxy a forward-auth request comes from, which decides the only headers read for the
/// original request (docs/proxies.md). Each reads only headers its proxy sets or overwrites, so a
/// header the client adds never wins; no dialect falls back on another's headers.
public enum ForwardAuthDialect: String, Sendable, CaseIterable {
    /// nginx `auth_request` (`/v1/auth/nginx`): `X-Original-URI`, `X-Original-Method`,
    /// `X-Original-Host`, `X-Real-IP`, each set by `proxy_set_header`.
    case nginx
    /// Caddy `forward_auth` (`/v1/auth/caddy`): `X-Forwarded-Uri`, `X-Forwarded-Method`,
    /// `X-Forwarded-Host`, and the last `X-Forwarded-For` entry.
    case caddy
    /// Traefik ForwardAuth with `trustForwardHeader: false` (`/v1/auth/traefik`): the same headers as Caddy.
    case traefik
    /// Envoy `ext_authz` HTTP mode (`/v1/auth/envoy/<original path>`): the path after the prefix,
    /// the request's own method, `Host`, and the last `X-Forwarded-For` entry when there is one.
    case envoy
}

/// How a request to `/v1/auth…` is to be read: the dialect, and for Envoy the original target.
enum ForwardAuthRoute: Equatable {
    case dialect(ForwardAuthDialect, envoyPath: Substring)
    /// Bare `/v1/auth` (or another path under it) while no `--forward-auth-dialect` is set.
    case dialectRequired

    /// The named endpoints match exactly and first; any other path under `/v1/auth` is read as
    /// the configured dialect (Envoy: the path after `/v1/auth`).
    init(path: String, configured: ForwardAuthDialect?) {
        switch path {
        case "/v1/auth/nginx": self = .dialect(.nginx, envoyPath: "")
        case "/v1/auth/caddy": self = .dialect(.caddy, envoyPath: "")
        case "/v1/auth/traefik": self = .dialect(.traefik, envoyPath: "")
        case _ where path == "/v1/auth/envoy" || path.hasPrefix("/v1/auth/envoy/"):
            self = .dialect(.envoy, envoyPath: path.dropFirst("/v1/auth/envoy".count))
        default:
            guard let configured else { self = .dialectRequired; return }
            self = .dialect(configured, envoyPath: configured == .envoy ? path.dropFirst("/v1/auth".count) : "")
        }
    }
}

/// The original request a proxy describes in a forward-auth request.
struct ForwardedRequest: Equatable {
    var target: String
    var method: String
    var host: String
    var clientAddress: String?

    /// Reads the original request the way `dialect` describes it; nil when a header it reads is
    /// missing, repeated or a list where one value belongs (the answer is then 401 `malformed`).
    /// `envoyPath` is the path after the Envoy prefix, `query` the request's own raw query.
    init?(_ dialect: ForwardAuthDialect, envoyPath: Substring, query: String?, method: HTTPMethod, headers: HTTPHeaders) {
        let read: ForwardedRequest?
        switch dialect {
        case .nginx: read = Self.nginx(headers)
        case .caddy, .traefik: read = Self.forwarded(headers)
        case .envoy: read = Self.envoy(envoyPath, query: query, method: method, headers: headers)
        }
        guard let read else { return nil }
        self = read
    }

    init(target: String, method: String, host: String, clientAddress: String?) {
        (self.target, self.method, self.host, self.clientAddress) = (target, method, host, clientAddress)
    }

    /// `X-Original-URI`, `X-Original-Method`, `X-Original-Host`, `X-Real-IP`: nginx's `proxy_set_header`s.
    private static func nginx(_ headers: HTTPHeaders) -> ForwardedRequest? {
        guard let target = one(headers, "X-Original-URI"), let method = token(headers, "X-Original-Method"),
            let host = token(headers, "X-Original-Host"), let address = token(headers, "X-Real-IP")
        else { return nil }
        return ForwardedRequest(target: target, method: method, host: host, clientAddress: address)
    }

    /// `X-Forwarded-Uri`, `-Method`, `-Host` and the last `X-Forwarded-For` entry, all of which
    /// Caddy and Traefik overwrite.
    private static func forwarded(_ headers: HTTPHeaders) -> ForwardedRequest? {
        guard let target = one(headers, "X-Forwarded-Uri"), let method = token(headers, "X-Forwarded-Method"),
            let host = token(headers, "X-Forwarded-Host"), case .address(let address) = lastForwardedFor(headers)
        else { return nil }
        return ForwardedRequest(target: target, method: method, host: host, clientAddress: address)
    }

    /// The path after the prefix and the query, the request's own method, `Host`, and the last
    /// `X-Forwarded-For` entry when Envoy passes the header.
    private static func envoy(_ path: Substring, query: String?, method: HTTPMethod, headers: HTTPHeaders) -> ForwardedRequest? {
        guard path.first == "/", let host = token(headers, "Host") else { return nil }
        let address: String?
        switch lastForwardedFor(headers) {
        case .absent: address = nil
        case .address(let last): address = last
        case .malformed: return nil
        }
        let target = String(path) + (query.map { "?" + $0 } ?? "")
        return ForwardedRequest(target: target, method: method.rawValue, host: host, clientAddress: address)
    }

    /// The value of a header that must appear on exactly one line and not be empty. A request
    /// target may hold a comma (`/files/a,b.txt`), so only the line count is checked.
    static func one(_ headers: HTTPHeaders, _ name: String) -> String? {
        // One pass over the headers, no array: this runs four times per forward-auth request.
        var found: String?
        for (headerName, value) in headers where Self.sameName(headerName, name) {
            guard found == nil else { return nil }
            found = value
        }
        guard let found, !found.isEmpty else { return nil }
        return found
    }

    /// Header names compare in ASCII case only, as bytes.
    static func sameName(_ a: String, _ b: String) -> Bool { ASCII.equalsIgnoringCase(a.utf8, b.utf8) }

    /// Like `one`, for a single token (method, host, address): a comma means the value is a list.
    static func token(_ headers: HTTPHeaders, _ name: String) -> String? {
        guard let value = one(headers, name), !value.utf8.contains(UInt8(ascii: ",")) else { return nil }
        return value
    }

    enum ForwardedFor: Equatable {
        case absent
        /// The last entry: the address that connected to the proxy, which the proxy appends (or sets alone).
        case address(String)
        /// On more than one line, or an empty last entry.
        case malformed
    }

    static func lastForwardedFor(_ headers: HTTPHeaders) -> ForwardedFor {
        var line: String?
        for (name, value) in headers where sameName(name, "X-Forwarded-For") {
            guard line == nil else { return .malformed }
            line = value
        }
        guard let line else { return .absent }
        var address = line.split(separator: ",", omittingEmptySubsequences: false).last ?? ""
        while let first = address.first, first == " " || first == "\t" { address.removeFirst() }
        while let last = address.last, last == " " || last == "\t" { address.removeLast() }
        return address.isEmpty ? .malformed : .address(String(address))
    }
}
