import AuthorityAPI
import NIOCore
import NIOHTTP1

/// The one layer that speaks HTTP to the handlers: finds the endpoint of a request (404, 405),
/// checks the caller's right for it (403), decodes its input (422), calls the handler and turns
/// its `Reply` into an answer. Every answer is JSON with a status, including every refusal, except
/// forward auth's, which is headers and a status (Router+ForwardAuth.swift).
public struct Router: Sendable {
    let checker: Checker
    let issuer: Issuer
    let administration: Administration
    let bundles: BundlePublisher
    let events: EventHub
    let policy: CurrentPolicy
    let errors: ErrorReporter
    let metrics: AuthorityMetrics
    let forwardAuthSettings: ForwardAuthSettings
    /// The text of `GET /metrics`.
    let metricsText: @Sendable () -> String

    public init(authority: Authority) {
        checker = authority.checker
        issuer = authority.issuer
        administration = authority.administration
        bundles = authority.bundles
        events = authority.events
        policy = authority.policy
        errors = authority.errors
        metrics = authority.metrics
        forwardAuthSettings = ForwardAuthSettings(
            dialect: authority.configuration.forwardAuthDialect, maxAge: authority.configuration.forwardAuthMaxAge,
            insecureCookies: authority.configuration.grantCookieInsecure)
        metricsText = { [metrics = authority.metrics, cache = authority.checker.verifier.cache, store = authority.store] in
            metrics.storageUp.set(Int64(store.unavailableReason == nil ? 1 : 0))
            if let age = store.secondsSinceSync { metrics.storageSyncAge.set(age) }
            return metrics.text(verifyCache: cache)
        }
    }

    public func respond(to request: APIRequest, peer: PeerCredentials, eventLoop: any EventLoop) -> RouteResult {
        let endpoint: Endpoint
        switch Endpoint.find(method: request.method, path: request.path) {
        case .found(let found): endpoint = found
        case .refused(let refusal): return .now(refusal)
        }
        let rights = policy.rights(for: peer)
        if let right = endpoint.right, !rights.allows(right) {
            if case .forwardAuth = endpoint { return .now(Self.refusal(.forbidden, reason: "forbidden")) }
            return .now(.error(.forbidden, "this caller lacks the \(right.rawValue) right (see the policy file)"))
        }
        switch endpoint {
        case .forwardAuth:
            return forwardAuth(request, on: eventLoop)
        case .health:
            return answer(administration.health())
        case .check:
            return answer(request.decode(CheckLinkRequest.self)) { checker.check($0, on: eventLoop) }
        case .explain:
            return answer(request.decode(ExplainLinkRequest.self)) { checker.explain($0, on: eventLoop) }
        case .issue:
            return answer(request.decode(IssueLinkRequest.self), status: .created) {
                issuer.issue($0, rights: rights, caller: peer, on: eventLoop)
            }
        case .events:
            return events(request, rights: rights, peer: peer, on: eventLoop)
        case .linkState(let id):
            return answer(id) { issuer.linkState($0, rights: rights, caller: peer, on: eventLoop) }
        case .revoke:
            return answer(request.decode(RevokeRequest.self), status: .created) {
                administration.revoke($0, caller: peer, on: eventLoop)
            }
        case .listRevocations:
            let page = request.queryInteger("after", default: 0, range: 0...Int64.max).flatMap { after in
                request.queryInteger("limit", default: 100, range: 1...1000).map { (after, Int($0)) }
            }
            return answer(page) { administration.revocations(after: $0.0, limit: $0.1, on: eventLoop) }
        case .lift(let serial):
            return answer(serial) { administration.liftRevocation(serial: $0, caller: peer, on: eventLoop) }
        case .keys:
            return answer(administration.keys())
        case .rotate:
            return answer(administration.rotate(caller: peer, on: eventLoop), status: .created)
        case .retire(let epoch):
            return answer(request.decode(RetireRequest.self, emptyAs: RetireRequest())) {
                administration.retire(epoch: epoch, force: $0.force ?? false, caller: peer, on: eventLoop)
            }
        case .audit:
            return answer(request.queryInteger("limit", default: 100, range: 1...1000)) {
                administration.audit(limit: Int($0), on: eventLoop)
            }
        case .integrity:
            return answer(administration.integrity(on: eventLoop))
        case .metrics:
            return .now(.text(metricsText(), contentType: "text/plain; version=0.0.4"))
        case .bundle, .bundleFreshness:
            if case .bundleFreshness = endpoint { return bundle(request, freshness: true, on: eventLoop) }
            return bundle(request, freshness: false, on: eventLoop)
        }
    }

    /// A handler's reply as HTTP: its value as JSON with `status`, or its error's answer.
    private func answer<Value: Encodable & Sendable>(_ reply: Reply<Value>, status: HTTPResponseStatus = .ok) -> RouteResult {
        switch reply {
        case .now(.success(let value)): .now(.json(value, status: status))
        case .now(.failure(let error)): .now(errors.response(error))
        case .later(let future): .later(future.map { .json($0, status: status) }.recover { [errors] in errors.response($0) })
        }
    }

    /// The handler's reply for a decoded input, or the input's refusal.
    private func answer<Input, Value: Encodable & Sendable>(
        _ input: Result<Input, APIError>, status: HTTPResponseStatus = .ok, _ handle: (Input) -> Reply<Value>
    ) -> RouteResult {
        switch input {
        case .failure(let error): .now(error.response)
        case .success(let input): answer(handle(input), status: status)
        }
    }

    /// `GET /v1/events`: a page of JSON, or with `Accept: text/event-stream` a stream of
    /// Server-Sent Events from `Last-Event-ID` (else `after`, else the oldest event kept).
    private func events(_ request: APIRequest, rights: CallerRights, peer: PeerCredentials, on eventLoop: any EventLoop) -> RouteResult {
        let after = request.queryInteger("after", default: 0, range: 0...Int64.max)
        let explicit = request.query["after"] != nil
        let issuerFilter = rights.rights.contains(.admin) ? nil : peer.uid
        let accept = request.headers[canonicalForm: "Accept"].contains { $0.lowercased().hasPrefix("text/event-stream") }
        guard accept else {
            let page = after.flatMap { after in request.queryInteger("limit", default: 100, range: 1...1000).map { (after, Int($0)) } }
            return answer(page) { issuer.events(after: explicit ? $0.0 : nil, limit: $0.1, rights: rights, caller: peer, on: eventLoop) }
        }
        let resume: Result<Int64?, APIError>
        if let last = request.headers.first(name: "Last-Event-ID") {
            guard let serial = Int64(last), serial >= 0, last.utf8.allSatisfy({ (48...57).contains($0) }) else {
                return .now(.error(.invalidRequest, "Last-Event-ID must be an event serial: an integer from 0 to \(Int64.max)"))
            }
            resume = .success(serial)
        } else {
            resume = after.map { explicit ? $0 : nil }
        }
        switch resume {
        case .failure(let error): return .now(error.response)
        case .success(let start): return .events(EventFeed(after: start, issuer: issuerFilter, hub: events))
        }
    }
}
