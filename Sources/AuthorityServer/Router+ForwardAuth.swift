import AuthorityCore
import NIOCore
import NIOHTTP1

/// What forward-auth answers need from the configuration.
struct ForwardAuthSettings: Sendable {
    /// The dialect bare `/v1/auth` speaks; nil refuses it.
    var dialect: ForwardAuthDialect?
    /// Longest `max-age` of an allowed answer, in seconds.
    var maxAge: Int64
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
        let reply = checker.check(
            forwarded: LinkRequest(target: forwarded.target, host: forwarded.host, method: forwarded.method, clientAddress: client),
            unlockCookie: {
                request.headers[canonicalForm: "Cookie"].lazy.compactMap { UnlockCookie.find(inCookieHeader: String($0)) }.first
            },
            on: eventLoop)
        switch reply {
        case .now(.success(let outcome)): return .now(forwardAuthAnswer(outcome))
        case .now(.failure(let error)): return .now(unavailable(error))
        case .later(let future): return .later(future.map(forwardAuthAnswer).recover(unavailable))
        }
    }

    /// A storage failure in the stateful steps: counted and logged, refused (fail closed).
    private func unavailable(_ error: any Error) -> APIResponse {
        _ = errors.storageTrouble(error)
        return Self.refusal(.forbidden, reason: "unavailable")
    }

    private func forwardAuthAnswer(_ outcome: CheckOutcome) -> APIResponse {
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
            headers.add(name: "Cache-Control", value: "no-store")
        } else {
            let maxAge = max(0, min(grant.expiresAt - outcome.now, forwardAuthSettings.maxAge))
            headers.add(name: "Cache-Control", value: grant.flags.isEmpty ? "private, max-age=\(maxAge)" : "no-store")
        }
        return APIResponse(status: .noContent, headers: headers)
    }

    /// A refusal: the status, the reason in `X-Authority-Reason`, never cached.
    static func refusal(_ status: HTTPResponseStatus, reason: String) -> APIResponse {
        var headers = HTTPHeaders()
        headers.add(name: "X-Authority-Reason", value: reason)
        headers.add(name: "Cache-Control", value: "no-store")
        return APIResponse(status: status, headers: headers)
    }
}
