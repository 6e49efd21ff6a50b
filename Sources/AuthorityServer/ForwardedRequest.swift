import AuthorityCore
import NIOHTTP1

/// The original request a proxy describes in a forward-auth request.
struct ForwardedRequest: Equatable {
    var target: String
    var method: String
    var host: String
    var clientAddress: String?
    /// The client's `Origin` header, when it sent one on one line (a browser's cross-origin request).
    var origin: String?
    /// `Access-Control-Request-Method` of an `OPTIONS` request with an `Origin`: a CORS preflight.
    var preflightMethod: String?

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
        guard var read else { return nil }
        // The browser's own headers, which every proxy passes on: a client that forges them
        // fools only itself (they decide what a browser lets a page read, never what passes).
        read.origin = Self.token(headers, "Origin")
        if read.method == "OPTIONS", read.origin != nil { read.preflightMethod = Self.token(headers, "Access-Control-Request-Method") }
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
