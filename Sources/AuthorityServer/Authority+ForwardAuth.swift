import AuthorityCore
import NIOCore
import NIOHTTP1

extension Authority {
    /// `/v1/auth/nginx`, `/v1/auth/caddy`, `/v1/auth/traefik`, `/v1/auth/envoy/<path>` and bare
    /// `/v1/auth` as `--forward-auth-dialect` says (any method): headers in, status out, no JSON.
    /// 204 allows; 401 for a request without a link, with a malformed one, or without the headers
    /// its dialect reads; 403 for every other refusal (`dialect_required` for bare `/v1/auth`
    /// without a configured dialect). Never any other status: a proxy would treat it as a server error.
    public func forwardAuth(_ request: APIRequest, grant: Grant, on eventLoop: any EventLoop) -> RouteResult {
        guard grant.allows(.check) else { return .now(Self.refusal(.forbidden, reason: "forbidden")) }
        let route = ForwardAuthRoute(path: request.path, configured: configuration.forwardAuthDialect)
        guard case .dialect(let dialect, let envoyPath) = route else {
            return .now(Self.refusal(.forbidden, reason: "dialect_required"))
        }
        guard let forwarded = ForwardedRequest(
            dialect, envoyPath: envoyPath, query: request.rawQuery, method: request.method, headers: request.headers)
        else { return .now(Self.refusal(.unauthorized, reason: Reason.malformed.rawValue)) }
        let started = ContinuousClock.now
        let now = clock()
        let (keyRing, revocations) = store.checkState
        let client = forwarded.clientAddress.flatMap { IPAddress($0) }
        let verdict = verifier.check(
            LinkRequest(target: forwarded.target, host: forwarded.host, method: forwarded.method, clientAddress: client),
            keys: keyRing, revocations: revocations, now: now)
        let finish: @Sendable (Reason, StatefulOutcome?) -> APIResponse = { [self] reason, outcome in
            metrics.checkDuration.record(ContinuousClock.now - started)
            metrics.countCheck(reason)
            return forwardAuthAnswer(verdict, reason: reason, remaining: outcome?.remainingUses, now: now)
        }
        guard verdict.isValid, let link = verdict.link, !link.grant.flags.isEmpty else {
            return .now(finish(verdict.reason, nil))
        }
        let cookie = request.headers[canonicalForm: "Cookie"].lazy.compactMap { UnlockCookie.find(inCookieHeader: String($0)) }.first
        let stateful = StatefulRequest(
            link: link, client: client, password: nil, cookie: cookie, consume: true, issueCookie: false, now: now)
        return .later(finishStateful(stateful, keyRing: keyRing, on: eventLoop)
            .map { finish($0.reason, $0) }
            .recover { [self] error in
                _ = storageTrouble(error)
                return Self.refusal(.forbidden, reason: "unavailable")
            })
    }

    private func forwardAuthAnswer(_ verdict: Verdict, reason: Reason, remaining: Int64?, now: Int64) -> APIResponse {
        guard reason == .ok, let grantOfLink = verdict.link?.grant else {
            var response = Self.refusal(reason == .malformed ? .unauthorized : .forbidden, reason: reason.rawValue)
            if let id = verdict.link?.grant.id { response.headers.add(name: "X-Authority-Link-Id", value: id.description) }
            return response
        }
        var headers = HTTPHeaders()
        headers.add(name: "X-Authority-Link-Id", value: grantOfLink.id.description)
        headers.add(name: "X-Authority-Expires-At", value: String(grantOfLink.expiresAt))
        headers.add(name: "X-Authority-Reason", value: "ok")
        if let remaining {
            headers.add(name: "X-Authority-Remaining-Uses", value: String(remaining))
            headers.add(name: "Cache-Control", value: "no-store")
        } else {
            let maxAge = max(0, min(grantOfLink.expiresAt - now, configuration.forwardAuthMaxAge))
            headers.add(name: "Cache-Control", value: grantOfLink.flags.isEmpty ? "private, max-age=\(maxAge)" : "no-store")
        }
        return APIResponse(status: .noContent, headers: headers)
    }

    static func refusal(_ status: HTTPResponseStatus, reason: String) -> APIResponse {
        var headers = HTTPHeaders()
        headers.add(name: "X-Authority-Reason", value: reason)
        headers.add(name: "Cache-Control", value: "no-store")
        return APIResponse(status: status, headers: headers)
    }
}
