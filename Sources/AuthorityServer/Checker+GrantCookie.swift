import AuthorityCore
import NIOCore

/// Grant cookies (docs/link-format.md §12): minted for a passing link with the flag `c`, checked
/// for a forwarded request without a link, renewed while in use. Checking one is steps of the
/// link check on the event loop; minting or renewing one waits for the signing epoch's retire
/// mark to cover it (a store write only when it does not yet).
extension Checker {
    /// A forwarded request without a link that carries grant cookies: it passes on the first that
    /// grants it, else it is refused with the reason of the cookie most likely meant for it.
    func checkGrantCookies(
        _ values: [String], request: LinkRequest, path: String, host: String?, on eventLoop: any EventLoop
    ) -> Reply<CheckOutcome> {
        let started = ContinuousClock.now
        if let stale = staleness() { return .failure(stale) }
        let now = runtime.clock()
        let (keyRing, revocations) = state.forCheck
        var refused: (reason: Reason, cookie: GrantCookie)?
        for value in values {
            guard let cookie = GrantCookie(value: value) else { continue }
            let reason = cookie.refusal(
                method: request.method, host: host, path: path, client: request.clientAddress, keys: keyRing,
                revocations: revocations, verifier: verifier, now: now)
            guard let reason else { return granted(cookie, path: path, host: host, now: now, started: started, on: eventLoop) }
            // A cookie for another prefix says least about this request.
            if refused == nil || refused?.reason == .resourceMismatch { refused = (reason, cookie) }
        }
        let link = refused.map { ParsedLink(grant: $0.cookie.grant, path: path, host: host, carrier: .query) }
        let verdict = Verdict(
            reason: refused?.reason ?? .malformed, link: link,
            detail: refused == nil ? "the request carries no link and no grant cookie in a valid form" : nil)
        var outcome = finish(verdict, reason: verdict.reason, nil, now: now, started: started)
        outcome.byGrantCookie = true
        return .value(outcome)
    }

    private func granted(
        _ cookie: GrantCookie, path: String, host: String?, now: Int64, started: ContinuousClock.Instant,
        on eventLoop: any EventLoop
    ) -> Reply<CheckOutcome> {
        var grant = cookie.grant
        grant.expiresAt = cookie.expiresAt
        var outcome = finish(
            Verdict(reason: .ok, link: ParsedLink(grant: grant, path: path, host: host, carrier: .query)), reason: .ok, nil,
            now: now, started: started)
        outcome.byGrantCookie = true
        // Renewed once less than half of the sliding lifetime is left, up to the link's expiry.
        guard cookie.expiresAt - now < settings.grantCookieIdle / 2, cookie.expiresAt < cookie.grant.expiresAt else {
            return .value(outcome)
        }
        let renewed = mintGrantCookie(for: cookie.grant, now: now)
        let kept = outcome
        outcome.grantCookie = renewed
        // A renewal the store cannot record is skipped: the cookie in hand still grants this request.
        return .later(recorded(renewed, on: eventLoop).map { [outcome] in outcome }.recover { _ in kept })
    }

    /// Adds a fresh grant cookie to a passing check of a link with the flag `c` carried in its
    /// query, and for a `GET` or `HEAD` the address to send the browser to without the link.
    func withGrantCookie(_ reply: Reply<CheckOutcome>, request: LinkRequest, on eventLoop: any EventLoop) -> Reply<CheckOutcome> {
        @Sendable func mints(_ outcome: CheckOutcome) -> Bool {
            guard outcome.reason == .ok, let link = outcome.verdict.link else { return false }
            return link.grant.flags.contains(.grantCookie) && link.carrier == .query && !link.grant.methods.isDisjoint(with: .view)
        }
        let method = request.method, target = request.target
        @Sendable func minted(_ outcome: CheckOutcome) -> EventLoopFuture<CheckOutcome> {
            guard mints(outcome), let link = outcome.verdict.link else { return eventLoop.makeSucceededFuture(outcome) }
            let cookie = mintGrantCookie(for: link.grant, now: outcome.now)
            return recorded(cookie, on: eventLoop).map {
                var outcome = outcome
                outcome.grantCookie = cookie
                if method == "GET" || method == "HEAD" { outcome.location = Self.location(withoutLink: target) }
                return outcome
            }
        }
        switch reply {
        case .now(.success(let outcome)) where mints(outcome): return .later(minted(outcome))
        case .later(let future): return .later(future.flatMap(minted))
        default: return reply
        }
    }

    private func mintGrantCookie(for link: LinkGrant, now: Int64) -> GrantCookie {
        let (epoch, key) = state.signing
        return GrantCookie.issue(for: link, expiresAt: now + settings.grantCookieIdle, epoch: epoch, key: key)
    }

    /// The signing epoch must outlive the cookie: its retire mark covers it before it is handed out.
    private func recorded(_ cookie: GrantCookie, on eventLoop: any EventLoop) -> EventLoopFuture<Void> {
        eventLoop.future { [store] in store.noteSigned(epoch: cookie.epoch, expiresAt: cookie.expiresAt, completion: $0) }
    }

    /// A target that carried a link in its query, without the reserved parameters, as a path on
    /// the same origin (`/a/b?x=1`). The target passed the link's parsing, so its reserved names
    /// are written plainly and its path starts with a single `/`.
    static func location(withoutLink target: String) -> String {
        var rest = Substring(target)
        if !rest.hasPrefix("/"), let scheme = rest.range(of: "://") {
            rest = rest[scheme.upperBound...]
            rest = rest[(rest.firstIndex { $0 == "/" || $0 == "?" } ?? rest.endIndex)...]
        }
        let questionMark = rest.firstIndex(of: "?") ?? rest.endIndex
        let path = rest[..<questionMark].isEmpty ? "/" : String(rest[..<questionMark])
        let kept = rest[questionMark...].dropFirst().split(separator: "&", omittingEmptySubsequences: false)
            .filter { !$0.hasPrefix("au_") }
        return kept.isEmpty ? path : path + "?" + kept.joined(separator: "&")
    }
}
