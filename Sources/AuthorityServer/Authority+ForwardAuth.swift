import AuthorityCore
import NIOCore
import NIOHTTP1

extension Authority {
    /// `GET /v1/auth` (any method): headers in, status out, no JSON. 204 allows; 401 for a
    /// request without a link or with a malformed one; 403 for every other refusal. Never any
    /// other status: a proxy would treat it as a server error.
    public func forwardAuth(_ request: APIRequest, grant: Grant) -> APIResponse {
        guard grant.allows(.check) else { return Self.refusal(.forbidden, reason: "forbidden") }
        guard let forwarded = ForwardedRequest(
            path: request.path, query: request.rawQuery, method: request.method, headers: request.headers,
            mode: configuration.forwardAuthHeaders, addressMode: configuration.forwardAuthClientAddress)
        else { return Self.refusal(.unauthorized, reason: Reason.malformed.rawValue) }
        let started = ContinuousClock.now
        let now = clock()
        let (keyRing, revocations) = store.checkState
        var verdict = verifier.check(
            LinkRequest(target: forwarded.target, host: forwarded.host, method: forwarded.method,
                        clientAddress: forwarded.clientAddress.flatMap { IPAddress($0) }),
            keys: keyRing, revocations: revocations, now: now)
        if verdict.isValid, let flags = verdict.link?.grant.flags {
            if flags.contains(.useLimited) { verdict.reason = .usesExhausted }
            else if flags.contains(.passwordProtected) { verdict.reason = .passwordRequired }
        }
        metrics.checkDuration.record(ContinuousClock.now - started)
        metrics.countCheck(verdict.reason)
        guard verdict.isValid, let grantOfLink = verdict.link?.grant else {
            var response = Self.refusal(verdict.reason == .malformed ? .unauthorized : .forbidden, reason: verdict.reason.rawValue)
            if let id = verdict.link?.grant.id { response.headers.add(name: "X-Authority-Link-Id", value: id.description) }
            return response
        }
        var headers = HTTPHeaders()
        headers.add(name: "X-Authority-Link-Id", value: grantOfLink.id.description)
        headers.add(name: "X-Authority-Expires-At", value: String(grantOfLink.expiresAt))
        headers.add(name: "X-Authority-Reason", value: "ok")
        let maxAge = max(0, min(grantOfLink.expiresAt - now, configuration.forwardAuthMaxAge))
        headers.add(name: "Cache-Control", value: "private, max-age=\(maxAge)")
        return APIResponse(status: .noContent, headers: headers)
    }

    static func refusal(_ status: HTTPResponseStatus, reason: String) -> APIResponse {
        var headers = HTTPHeaders()
        headers.add(name: "X-Authority-Reason", value: reason)
        headers.add(name: "Cache-Control", value: "no-store")
        return APIResponse(status: status, headers: headers)
    }
}
