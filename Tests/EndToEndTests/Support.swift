import AuthorityAPI
import AuthorityTesting
import Foundation
import Testing

/// Every end-to-end suite is nested here, so that they run one after another: each test starts
/// its own daemon, and several daemons at once would only make the timings noisy.
@Suite(.serialized) struct EndToEnd {}

/// An answer the test did not expect, with enough context to debug it.
struct UnexpectedResponse: Error, CustomStringConvertible {
    var request: String
    var response: HTTPResponse
    var description: String { "\(request) → \(response.status) \(response.text)" }
}

/// The current Unix time in seconds.
func unixNow() -> Int64 { Int64(Date().timeIntervalSince1970) }

/// The value of the query parameter `name` of a link (verbatim, as reserved parameters are).
func queryValue(_ url: String, _ name: String) -> String? {
    guard let query = url.split(separator: "?", maxSplits: 1).dropFirst().first else { return nil }
    for piece in query.split(separator: "&") where piece.hasPrefix(name + "=") {
        return String(piece.dropFirst(name.count + 1))
    }
    return nil
}

/// The origin form (`/path?query`) of an absolute URL.
func originForm(_ url: String) -> String {
    guard let scheme = url.range(of: "://") else { return url }
    let rest = url[scheme.upperBound...]
    return String(rest[(rest.firstIndex(of: "/") ?? rest.endIndex)...])
}

/// Checks an error answer: status, stable code, and the `{"error": {"code", "message"}}` shape.
func expectError(
    _ response: HTTPResponse, _ status: Int, _ code: String, _ what: String = "",
    sourceLocation: SourceLocation = #_sourceLocation
) {
    #expect(response.status == status, "\(what): \(response.text)", sourceLocation: sourceLocation)
    #expect(response.errorCode == code, "\(what): \(response.text)", sourceLocation: sourceLocation)
    expectErrorShape(response, what, sourceLocation: sourceLocation)
}

/// Checks that a body is exactly `{"error": {"code": String, "message": String}}` with a JSON content type.
func expectErrorShape(_ response: HTTPResponse, _ what: String = "", sourceLocation: SourceLocation = #_sourceLocation) {
    let object = try? JSONSerialization.jsonObject(with: response.body) as? [String: Any]
    let error = object?["error"] as? [String: Any]
    let shaped = object?.count == 1 && error?.count == 2 && error?["code"] is String
        && !((error?["message"] as? String) ?? "").isEmpty
    #expect(shaped, "\(what): not the error shape: \(response.text)", sourceLocation: sourceLocation)
    #expect(
        response.header("Content-Type")?.hasPrefix("application/json") == true,
        "\(what): Content-Type \(response.header("Content-Type") ?? "none")", sourceLocation: sourceLocation)
}

extension UnixHTTPClient {
    /// `POST /v1/links`, requiring 201.
    func issue(_ request: IssueLinkRequest) throws -> IssueLinkResponse {
        let response = try post("/v1/links", json: request)
        guard response.status == 201 else { throw UnexpectedResponse(request: "issue \(request.resource)", response: response) }
        return try response.decode(IssueLinkResponse.self)
    }

    /// `POST /v1/links`, requiring 201.
    func issue(_ resource: String, ttl: Int64 = 3_600, methods: [String]? = nil, ip: String? = nil) throws -> IssueLinkResponse {
        try issue(IssueLinkRequest(resource: resource, methods: methods, ttl: ttl, ip: ip))
    }

    /// `POST /v1/links/check`, requiring 200.
    func check(_ request: CheckLinkRequest) throws -> CheckLinkResponse {
        let response = try post("/v1/links/check", json: request)
        guard response.status == 200 else { throw UnexpectedResponse(request: "check \(request.url)", response: response) }
        return try response.decode(CheckLinkResponse.self)
    }

    /// The reason `POST /v1/links/check` gives for `url`.
    func reason(_ url: String, method: String? = nil, clientIP: String? = nil, host: String? = nil) throws -> String {
        try check(CheckLinkRequest(url: url, method: method, clientIP: clientIP, host: host)).reason
    }

    /// `POST /v1/revocations`, requiring 201.
    func revoke(_ request: RevokeRequest) throws -> RevocationEntry {
        let response = try post("/v1/revocations", json: request)
        guard response.status == 201 else { throw UnexpectedResponse(request: "revoke", response: response) }
        return try response.decode(RevocationEntry.self)
    }

    /// `GET /v1/keys`, requiring 200.
    func keys() throws -> JSONWebKeySet { try getDecoded("/v1/keys") }

    /// `GET /v1/audit?limit=N`, requiring 200.
    func audit(limit: Int = 1_000) throws -> [AuditEntryBody] { try getDecoded("/v1/audit?limit=\(limit)", AuditPage.self).entries }

    /// `GET /v1/health`, requiring 200.
    func health() throws -> HealthResponse { try getDecoded("/v1/health") }

    /// One page of `GET /v1/revocations`.
    func revocationPage(after: Int64?, limit: Int?) throws -> RevocationPage {
        let query = [after.map { "after=\($0)" }, limit.map { "limit=\($0)" }].compactMap(\.self).joined(separator: "&")
        return try getDecoded("/v1/revocations" + (query.isEmpty ? "" : "?" + query))
    }

    /// Every revocation, following `next_after` (bounded, in case it never ends).
    func allRevocations(limit: Int = 1_000) throws -> [RevocationEntry] {
        var entries: [RevocationEntry] = []
        var after: Int64? = nil
        for _ in 0..<100_000 {
            let page = try revocationPage(after: after, limit: limit)
            entries += page.revocations
            guard let next = page.nextAfter else { return entries }
            after = next
        }
        Issue.record("GET /v1/revocations never reached the last page")
        return entries
    }

    func getDecoded<T: Decodable>(_ target: String, _ type: T.Type = T.self) throws -> T {
        let response = try get(target)
        guard response.status == 200 else { throw UnexpectedResponse(request: "GET \(target)", response: response) }
        return try response.decode(type)
    }
}


/// Runs `body(0..<count)` on `count` dedicated threads (blocking I/O must not sit on the
/// cooperative pool) and returns their results in order. Waits at most `timeout` seconds.
func onThreads<T: Sendable>(_ count: Int, timeout: Double = 120, _ body: @escaping @Sendable (Int) -> T) -> [T?] {
    let results = Locked([T?](repeating: nil, count: count))
    let group = DispatchGroup()
    for index in 0..<count {
        group.enter()
        let thread = Thread {
            let result = body(index)
            results.withLock { $0[index] = result }
            group.leave()
        }
        thread.start()
    }
    if group.wait(timeout: .now() + timeout) == .timedOut { Issue.record("threads still running after \(timeout) s") }
    return results.withLock { $0 }
}

/// Runs `executable arguments` and returns its exit status (128 + the signal when killed), stdout
/// and stderr (killed after `timeout` seconds, which is recorded as an issue).
func run(_ executable: String, _ arguments: [String], timeout: Double = 30) throws -> (Int32, String, String) {
    let result = try ChildProcess.run([executable] + arguments, timeout: timeout)
    if result.timedOut { Issue.record("\(executable) still running after \(timeout) s") }
    return (result.status, result.stdout, result.stderr)
}
