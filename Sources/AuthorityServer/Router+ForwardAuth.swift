import AuthorityCore
import NIOCore
import NIOHTTP1

/// What forward-auth answers need from the configuration.
struct ForwardAuthSettings: Sendable {
    /// The dialect bare `/v1/auth` speaks; nil refuses it.
    var dialect: ForwardAuthDialect?
    /// Longest `max-age` of an allowed answer, in seconds.
    var maxAge: Int64
    /// Grant cookies go out without `Secure` (plain-http development).
    var insecureCookies = false
}

extension Router {
    /// `/v1/auth/nginx`, `/v1/auth/caddy`, `/v1/auth/traefik`, `/v1/auth/envoy/<path>` and bare
    /// `/v1/auth` as `--forward-auth-dialect` says (any method): headers in, status out, no JSON.
    /// 204 allows; 401 for a request without a link, with a malformed one, or without the headers
    /// its dialect reads; 403 for every other refusal (`dialect_required` for bare `/v1/auth`
    /// without a configured dialect). Never any other status: a proxy would treat it as a server error.
    func forwardAuth(_ request: APIRequest, on eventLoop: any EventLoop) -> RouteResult {
        let route = ForwardAuthRoute(path: request.path, configured: forwardAuthSettings.dialect)
        guard case .dialect(let dialect, let envoyPath) = route else {
            return .now(Self.refusal(.forbidden, reason: "dialect_required"))
        }
        guard let forwarded = ForwardedRequest(
            dialect, envoyPath: envoyPath, query: request.rawQuery, method: request.method, headers: request.headers)
        else { return .now(Self.refusal(.unauthorized, reason: Reason.malformed.rawValue)) }
        let client = forwarded.clientAddress.flatMap { IPAddress($0) }
        if let method = forwarded.preflightMethod, let origin = forwarded.origin {
            let preflight = LinkRequest(target: forwarded.target, host: forwarded.host, method: method, clientAddress: client)
            switch checker.checkPreflight(preflight) {
            case .success(let outcome): return .now(preflightAnswer(outcome, origin: origin))
            case .failure(let error): return .now(unavailable(error))
            }
        }
        let origin = forwarded.origin
        let reply = checker.check(
            forwarded: LinkRequest(target: forwarded.target, host: forwarded.host, method: forwarded.method, clientAddress: client),
            unlockCookie: {
                request.headers[canonicalForm: "Cookie"].lazy.compactMap { UnlockCookie.find(inCookieHeader: String($0)) }.first
            },
            grantCookies: { request.headers["Cookie"] },
            on: eventLoop)
        let answer: @Sendable (CheckOutcome) -> APIResponse = { [self] outcome in
            var response = forwardAuthAnswer(outcome, dialect: dialect)
            if outcome.reason == .ok, let origin, outcome.verdict.link?.grant.origins?.contains(origin: origin) == true {
                response.headers.add(name: "X-Authority-Allow-Origin", value: origin)
            }
            // The issuer's ref, on an allowed answer only: Caddy, Traefik and Envoy hand a refusal
            // (and a redirect) to the client as it is, and the ref is the issuer's, not the client's.
            if outcome.reason == .ok, response.status == .noContent, let id = outcome.verdict.link?.grant.id,
                let ref = checker.refs.ref(for: id)
            {
                response.headers.add(name: "X-Authority-Ref", value: ref)
            }
            return response
        }
        switch reply {
        case .now(.success(let outcome)): return .now(answer(outcome))
        case .now(.failure(let error)): return .now(unavailable(error))
        case .later(let future): return .later(future.map(answer).recover(unavailable))
        }
    }

    /// A storage failure in the stateful steps: counted and logged, refused (fail closed).
    private func unavailable(_ error: any Error) -> APIResponse {
        _ = errors.storageTrouble(error)
        return Self.refusal(.forbidden, reason: "unavailable")
    }

    private func forwardAuthAnswer(_ outcome: CheckOutcome, dialect: ForwardAuthDialect) -> APIResponse {
        guard outcome.reason == .ok, let grant = outcome.verdict.link?.grant else {
            var response = Self.refusal(outcome.reason == .malformed ? .unauthorized : .forbidden, reason: outcome.reason.rawValue)
            if let id = outcome.verdict.link?.grant.id { response.headers.add(name: "X-Authority-Link-Id", value: id.description) }
            return response
        }
        var headers = HTTPHeaders()
        headers.add(name: "X-Authority-Link-Id", value: grant.id.description)
        headers.add(name: "X-Authority-Expires-At", value: String(grant.expiresAt))
        headers.add(name: "X-Authority-Reason", value: "ok")
        if let remaining = outcome.remainingUses {
            headers.add(name: "X-Authority-Remaining-Uses", value: String(remaining))
        }
        if let cookie = outcome.grantCookie {
            headers.add(name: "Set-Cookie", value: setCookie(cookie, now: outcome.now))
        }
        if let location = outcome.location {
            return grantRedirect(to: location, headers: headers, dialect: dialect)
        }
        // An answer that rests on a cookie, a use or a password is never cached: a proxy caching
        // by address would pass the next request without them.
        if outcome.remainingUses != nil || outcome.byGrantCookie || outcome.grantCookie != nil {
            headers.add(name: "Cache-Control", value: "no-store")
        } else {
            let maxAge = max(0, min(grant.expiresAt - outcome.now, forwardAuthSettings.maxAge))
            headers.add(name: "Cache-Control", value: !grant.flags.needsState ? "private, max-age=\(maxAge)" : "no-store")
        }
        return APIResponse(status: .noContent, headers: headers)
    }

    /// A CORS preflight (`OPTIONS` with `Origin` and `Access-Control-Request-Method`): browsers
    /// send it without cookies, so it passes when its address carries a link (query or path
    /// token) that passes steps 1–8 for the method asked about and lists the origin. No use is
    /// used. The proxy answers it itself from `X-Authority-Allow-Origin` and
    /// `X-Authority-Allow-Methods` (docs/browsing.md).
    private func preflightAnswer(_ outcome: CheckOutcome, origin: String) -> APIResponse {
        guard outcome.reason == .ok, let grant = outcome.verdict.link?.grant else {
            return Self.refusal(outcome.reason == .malformed ? .unauthorized : .forbidden, reason: outcome.reason.rawValue)
        }
        guard grant.origins?.contains(origin: origin) == true else { return Self.refusal(.forbidden, reason: "origin_not_allowed") }
        var headers = HTTPHeaders()
        headers.add(name: "X-Authority-Reason", value: "ok")
        headers.add(name: "X-Authority-Link-Id", value: grant.id.description)
        headers.add(name: "X-Authority-Allow-Origin", value: origin)
        headers.add(name: "X-Authority-Allow-Methods", value: grant.methods.canonicalText)
        headers.add(name: "Cache-Control", value: "no-store")
        return APIResponse(status: .noContent, headers: headers)
    }

    /// The answer that carried the token: the browser goes on to the same address without it, with
    /// its grant cookie, and the token stays out of its history and of `Referer` headers. A 303
    /// for the proxies that hand a refusal to the client as it is (Caddy, Traefik, Envoy); nginx's
    /// `auth_request` passes only 2xx, 401 and 403, so it gets a 401 with the address in
    /// `X-Authority-Location`, which its `error_page` turns into the redirect (docs/browsing.md).
    private func grantRedirect(to location: String, headers: HTTPHeaders, dialect: ForwardAuthDialect) -> APIResponse {
        var headers = headers
        headers.add(name: "Referrer-Policy", value: "no-referrer")
        headers.add(name: "Cache-Control", value: "no-store")
        guard dialect != .nginx else {
            headers.add(name: "X-Authority-Location", value: location)
            return APIResponse(status: .unauthorized, headers: headers)
        }
        headers.add(name: "Location", value: location)
        return APIResponse(status: .seeOther, headers: headers)
    }

    /// `Set-Cookie` for a grant cookie: host-only, for the prefix, gone at its expiry.
    private func setCookie(_ cookie: GrantCookie, now: Int64) -> String {
        "\(cookie.name)=\(cookie.value); Path=\(cookie.grant.prefix ?? "/"); Max-Age=\(max(0, cookie.expiresAt - now)); HttpOnly"
            + (forwardAuthSettings.insecureCookies ? "" : "; Secure") + "; SameSite=Lax"
    }

    /// A refusal: the status, the reason in `X-Authority-Reason`, never cached.
    static func refusal(_ status: HTTPResponseStatus, reason: String) -> APIResponse {
        var headers = HTTPHeaders()
        headers.add(name: "X-Authority-Reason", value: reason)
        headers.add(name: "Cache-Control", value: "no-store")
        return APIResponse(status: status, headers: headers)
    }
}
