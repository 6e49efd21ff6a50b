import AuthorityAPI
import AuthorityCore
import NIOCore

extension Checker {
    /// `POST /v1/links/explain`: every check and its outcome; consumes nothing, shows no secret.
    /// Reads the use counter from the store: on the read pool.
    func explain(_ body: ExplainLinkRequest, on eventLoop: any EventLoop) -> Reply<ExplainLinkResponse> {
        .off(runtime.pools.reads, on: eventLoop) { [self] in try explain(body).get() }
    }

    func explain(_ body: ExplainLinkRequest) -> Result<ExplainLinkResponse, APIError> {
        let address: IPAddress?
        switch Self.clientAddress(body.clientIP) {
        case .success(let parsed): address = parsed
        case .failure(let error): return .failure(error)
        }
        let now = runtime.clock()
        let (keyRing, revocations) = state.forCheck
        let (verdict, coreSteps) = verifier.explain(
            LinkRequest(target: body.url, host: body.host, method: body.method ?? "GET", clientAddress: address),
            keys: keyRing, revocations: revocations, now: now)
        var steps = coreSteps
        let flags = verdict.link?.grant.flags ?? []
        if flags.contains(.useLimited), let id = verdict.link?.grant.id {
            let remaining = (try? store.remainingUses(id)) ?? nil
            steps.append((remaining ?? 0) > 0
                ? CheckStep("uses", .pass, .usesExhausted, "\(remaining ?? 0) uses left")
                : CheckStep("uses", .fail, .usesExhausted, "no use left"))
        } else {
            steps.append(CheckStep("uses", .skipped, .usesExhausted, "not use-limited"))
        }
        // Explain takes no password: a protected link is refused here exactly as a check
        // without password or cookie would refuse it.
        steps.append(flags.contains(.passwordProtected)
            ? CheckStep("password", .fail, .passwordRequired, "password-protected: a check needs the password or an unlock cookie")
            : CheckStep("password", .skipped, .passwordRequired, "not password-protected"))
        let decisive = steps.firstIndex { $0.outcome == .fail }
        let checks = steps.enumerated().map { index, step in
            ExplainedCheck(name: step.name, outcome: step.outcome.rawValue, reason: step.reason.rawValue,
                           detail: step.detail, decisive: index == decisive)
        }
        let reason = decisive.map { steps[$0].reason } ?? .ok
        return .success(ExplainLinkResponse(
            valid: reason == .ok, reason: reason.rawValue, grant: verdict.link.map(Self.explained),
            signedMessage: verdict.link.map { String(decoding: $0.signedMessage, as: UTF8.self) }, checks: checks,
            now: now))
    }

    static func explained(_ link: ParsedLink) -> ExplainedGrant {
        let grant = link.grant
        return ExplainedGrant(
            id: grant.id.description, epoch: grant.epoch, issuedAt: grant.issuedAt, notBefore: grant.notBefore,
            expiresAt: grant.expiresAt, methods: grant.methods.names, scope: grant.prefix == nil ? "exact" : "prefix",
            prefix: grant.prefix, host: grant.host, ip: grant.network?.description,
            useLimited: grant.flags.contains(.useLimited), passwordProtected: grant.flags.contains(.passwordProtected),
            path: link.path, query: link.query)
    }
}
