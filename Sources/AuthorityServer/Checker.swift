import AuthorityAPI
import AuthorityCore
import AuthorityStore
import NIOCore

/// Checks links: steps 1–8 of docs/link-format.md §6 on the calling event loop, from the server's
/// snapshot (no storage, no lock but the snapshot's); for a use-limited or password-protected
/// link that passes them, steps 9–10 through the store, off the loop. Every check's duration and
/// reason are counted here, whichever route asked.
final class Checker: Sendable {
    /// What the stateful steps are configured with.
    struct Settings: Sendable {
        var passwordMaxFailures: Int64
        var passwordLockout: Int64
        var cookieTTL: Int64
        var grantCookieIdle: Int64
    }

    let verifier: LinkVerifier
    let state: CurrentState
    let store: any Store
    let runtime: Runtime
    let settings: Settings
    /// Fleet mode: longest time without a confirmed sync before checks are refused (fail closed).
    let maxStaleness: Double
    /// Password guesses in flight per link (bounded: docs/security.md).
    let guesses = GuessesInFlight(limit: 2)
    /// What the checks saw of each link, flushed to the store off the event loops (`ActivityService`).
    let activity = ActivityLog()
    /// The issuers' refs of live links, for `X-Authority-Ref`.
    let refs = RefBook()

    init(state: CurrentState, store: any Store, runtime: Runtime, configuration: ServerConfiguration) {
        self.verifier = LinkVerifier(
            notBeforeLeeway: configuration.notBeforeLeeway,
            cache: VerificationCache(capacity: configuration.verifyCacheEntries))
        self.state = state
        self.store = store
        self.runtime = runtime
        self.maxStaleness = Double(configuration.maxStaleness)
        self.settings = Settings(
            passwordMaxFailures: configuration.passwordMaxFailures, passwordLockout: configuration.passwordLockout,
            cookieTTL: configuration.cookieTTL, grantCookieIdle: configuration.grantCookieIdle)
    }

    /// `POST /v1/links/check`.
    func check(_ body: CheckLinkRequest, on eventLoop: any EventLoop) -> Reply<CheckLinkResponse> {
        let address: IPAddress?
        switch Self.clientAddress(body.clientIP) {
        case .success(let parsed): address = parsed
        case .failure(let error): return .failure(error)
        }
        if let password = body.password, password.isEmpty || password.utf8.count > PasswordHash.maximumLength {
            return .failure(APIError(.invalidRequest, "password must be 1 to \(PasswordHash.maximumLength) bytes"))
        }
        let request = LinkRequest(target: body.url, host: body.host, method: body.method ?? "GET", clientAddress: address)
        return check(request, counts: body.consume ?? true, on: eventLoop) { link, now in
            guard link.grant.flags.needsState || body.issueCookie == true else { return nil }
            return StatefulRequest(
                link: link, client: address, password: body.password, cookie: body.cookie, consume: body.consume ?? true,
                issueCookie: body.issueCookie ?? false, now: now)
        }.map(Self.response)
    }

    /// A request forwarded by a proxy: a use-limited link uses one use; a password-protected one
    /// passes only with its unlock cookie (`unlockCookie` is read only for such a link). A request
    /// that carries no link passes with a grant cookie (`grantCookies`, the `Cookie` header
    /// lines); a passing link with the flag `c` earns one (docs/link-format.md §12).
    func check(
        forwarded request: LinkRequest, unlockCookie: () -> String?, grantCookies: () -> [String], on eventLoop: any EventLoop
    ) -> Reply<CheckOutcome> {
        // Only a request with grant cookies is parsed a second time, as a bare request.
        let values = GrantCookie.find(inCookieHeaders: grantCookies())
        if !values.isEmpty, let bare = ParsedLink.bareRequest(target: request.target, host: request.host) {
            return checkGrantCookies(values, request: request, path: bare.path, host: bare.host, on: eventLoop)
        }
        let reply = check(request, on: eventLoop) { link, now in
            guard link.grant.flags.needsState else { return nil }
            return StatefulRequest(
                link: link, client: request.clientAddress, password: nil, cookie: unlockCookie(), consume: true,
                issueCookie: false, now: now)
        }
        return withGrantCookie(reply, request: request, on: eventLoop)
    }

    /// A CORS preflight: steps 1–8 for the method it asks about, never the stateful steps (a
    /// preflight uses no use and needs no password). Fleet state older than `--max-staleness`
    /// refuses it as it refuses any check.
    func checkPreflight(_ request: LinkRequest) -> Result<CheckOutcome, APIError> {
        if let stale = staleness() { return .failure(stale) }
        let started = ContinuousClock.now
        let now = runtime.clock()
        let (keyRing, revocations) = state.forCheck
        let verdict = verifier.check(request, keys: keyRing, revocations: revocations, now: now)
        return .success(finish(verdict, reason: verdict.reason, nil, now: now, started: started, counts: false))
    }

    /// One check: the verdict of steps 1–8, then the stateful steps when `stateful` asks for them
    /// (nil: the verdict is the answer).
    private func check(
        _ request: LinkRequest, counts: Bool = true, on eventLoop: any EventLoop, stateful: (ParsedLink, Int64) -> StatefulRequest?
    ) -> Reply<CheckOutcome> {
        let started = ContinuousClock.now
        if let stale = staleness() { return .failure(stale) }
        let now = runtime.clock()
        let (keyRing, revocations) = state.forCheck
        let verdict = verifier.check(request, keys: keyRing, revocations: revocations, now: now)
        guard verdict.isValid, let link = verdict.link, let next = stateful(link, now) else {
            return .value(finish(verdict, reason: verdict.reason, nil, now: now, started: started, counts: counts))
        }
        return .later(finishStateful(next, keyRing: keyRing, on: eventLoop).map { [self] outcome in
            finish(verdict, reason: outcome.reason, outcome, now: now, started: started, counts: counts)
        })
    }

    /// Fleet mode: the refusal of every check once the state is older than `--max-staleness`.
    func staleness() -> APIError? {
        guard let age = store.secondsSinceSync, age > maxStaleness else { return nil }
        return APIError(
            .storageUnavailable,
            "the daemon has not confirmed the fleet's state for \(Int(age)) s (PostgreSQL \(store.location) unreachable?); checks are refused after --max-staleness \(Int(maxStaleness)) s")
    }

    /// Counts the check and, for one that counts as a use (not a preflight, not `consume: false`)
    /// of a link whose signature held, notes it in `activity`.
    func finish(
        _ verdict: Verdict, reason: Reason, _ stateful: StatefulOutcome?, now: Int64, started: ContinuousClock.Instant,
        counts: Bool = true
    ) -> CheckOutcome {
        runtime.metrics.checkDuration.record(ContinuousClock.now - started)
        runtime.metrics.countCheck(reason)
        if counts, let id = verdict.link?.grant.id, !Self.beforeSignature.contains(reason) {
            activity.note(id, allowed: reason == .ok, reason: reason.rawValue, now: now)
        }
        return CheckOutcome(
            verdict: verdict, reason: reason, remainingUses: stateful?.remainingUses, cookie: stateful?.cookie, now: now)
    }

    private static func response(_ outcome: CheckOutcome) -> CheckLinkResponse {
        let grant = outcome.verdict.link?.grant
        return CheckLinkResponse(
            valid: outcome.reason == .ok, reason: outcome.reason.rawValue, id: grant?.id.description, epoch: grant?.epoch,
            expiresAt: grant?.expiresAt, remainingUses: outcome.remainingUses, detail: outcome.verdict.detail,
            cookie: outcome.cookie?.value, cookieExpiresAt: outcome.cookie?.expiresAt)
    }

    /// Refusals decided before the signature held: the link's id is then the client's word.
    static let beforeSignature: Set<Reason> = [.malformed, .unknownKey, .retiredKey, .badSignature]

    /// A request's `client_ip`: absent is nil; anything but an IPv4 or IPv6 address is a 422.
    static func clientAddress(_ text: String?) -> Result<IPAddress?, APIError> {
        guard let text else { return .success(nil) }
        guard let parsed = IPAddress(text) else {
            return .failure(APIError(.invalidRequest, "client_ip is not an IPv4 or IPv6 address"))
        }
        return .success(parsed)
    }
}
