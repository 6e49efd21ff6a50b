import AuthorityCore
import AuthorityStore
import Logging
import NIOCore

/// What the stateful steps (uses, password) decided.
struct StatefulOutcome: Sendable {
    var reason: Reason
    var remainingUses: Int64?
    var cookie: UnlockCookie?
}

/// The inputs of the stateful steps of one check.
struct StatefulRequest: Sendable {
    var link: ParsedLink
    var client: IPAddress?
    var password: String?
    var cookie: String?
    var consume: Bool
    var issueCookie: Bool
    var now: Int64
}

extension Checker {
    /// Steps 9–10 of docs/link-format.md §6 for a link that passed steps 1–8: `uses_exhausted`,
    /// then `password_required` / `password_incorrect` / `locked`; then the use is counted
    /// (group commit) and the answer is `ok` only once it is durable. Runs off the event loop;
    /// any storage failure refuses (fail closed, the error is logged).
    func finishStateful(_ request: StatefulRequest, keyRing: KeyRing, on eventLoop: any EventLoop)
        -> EventLoopFuture<StatefulOutcome>
    {
        let grant = request.link.grant
        let useLimited = grant.flags.contains(.useLimited)
        // A consuming check of a link without a password needs no read first: the conditional
        // UPDATE of the group commit finds an exhausted link by itself.
        let needsRead = useLimited && (!request.consume || grant.flags.contains(.passwordProtected))
        let remaining: EventLoopFuture<Int64?> = needsRead
            ? runtime.pools.reads.runIfActive(eventLoop: eventLoop) { [store] in try store.remainingUses(grant.id) }
            : eventLoop.makeSucceededFuture(useLimited ? 1 : nil)
        return remaining.flatMap { [self] remaining -> EventLoopFuture<StatefulOutcome> in
            if useLimited, (remaining ?? 0) <= 0 {
                return eventLoop.makeSucceededFuture(StatefulOutcome(reason: .usesExhausted, remainingUses: 0))
            }
            return passwordStep(request, keyRing: keyRing, on: eventLoop).flatMap { [self] reason, unlockedByPassword in
                guard reason == .ok else {
                    return eventLoop.makeSucceededFuture(StatefulOutcome(reason: reason, remainingUses: remaining))
                }
                let cookie = (unlockedByPassword || request.issueCookie) ? makeCookie(request) : nil
                // The cookie's epoch must outlive it: its retire mark covers the cookie before the
                // answer hands it out (the active epoch may have signed no link at all).
                let recorded = cookie.map { cookie in
                    eventLoop.future { store.noteSigned(epoch: cookie.epoch, expiresAt: cookie.expiresAt, completion: $0) }
                } ?? eventLoop.makeSucceededVoidFuture()
                guard useLimited, request.consume else {
                    return recorded.map { StatefulOutcome(reason: .ok, remainingUses: remaining, cookie: cookie) }
                }
                return recorded.flatMap { [store] in eventLoop.future { store.consumeUse(grant.id, completion: $0) } }.map { outcome in
                    switch outcome {
                    case .used(let left): StatefulOutcome(reason: .ok, remainingUses: left, cookie: cookie)
                    case .exhausted: StatefulOutcome(reason: .usesExhausted, remainingUses: 0)
                    }
                }
            }
        }.flatMapErrorThrowing { [runtime, store, refs] error in
            // Storage trouble is counted and logged at a bounded rate where it is answered.
            if store.storageTrouble(error) == nil {
                var metadata: Logger.Metadata = ["link.id": "\(grant.id)", "error": "\(error)"]
                if let ref = refs.ref(for: grant.id) { metadata["link.ref"] = "\(ref)" }
                runtime.logger.error("stateful check failed; refusing", metadata: metadata)
            }
            throw error
        }
    }

    /// The password step: `ok` when the link needs none, a valid cookie unlocks it, or the
    /// password is right. The Boolean says whether a password was verified (a cookie follows).
    private func passwordStep(_ request: StatefulRequest, keyRing: KeyRing, on eventLoop: any EventLoop)
        -> EventLoopFuture<(Reason, Bool)>
    {
        let grant = request.link.grant
        guard grant.flags.contains(.passwordProtected) else { return eventLoop.makeSucceededFuture((.ok, false)) }
        if let value = request.cookie, let cookie = UnlockCookie(value: value),
            cookie.unlocks(grant, client: request.client, keys: keyRing, now: request.now)
        {
            return eventLoop.makeSucceededFuture((.ok, false))
        }
        guard let password = request.password else { return eventLoop.makeSucceededFuture((.passwordRequired, false)) }
        // A link takes a bounded number of guesses at a time: the rest answer `locked` unhashed,
        // so guesses at one link cannot fill the password pool ahead of other links.
        guard guesses.reserve(grant.id) else { return eventLoop.makeSucceededFuture((.locked, false)) }
        let now = request.now
        return runtime.pools.reads.runIfActive(eventLoop: eventLoop) { [store] in try store.passwordRecord(grant.id) }
            .flatMap { [self] record -> EventLoopFuture<(Reason, Bool)> in
                guard let record else { return eventLoop.makeSucceededFuture((.passwordRequired, false)) }
                if record.lockedUntil > now { return eventLoop.makeSucceededFuture((.locked, false)) }
                return runtime.pools.passwords.runIfActive(eventLoop: eventLoop) { [store, runtime] () throws -> Bool? in
                    // The link may have locked while this guess waited for the pool: check again.
                    if let current = try store.passwordRecord(grant.id), current.lockedUntil > now { return nil }
                    runtime.metrics.passwordVerifications.increment()
                    return PasswordHash.verify(password, hash: record.hash)
                }
                .flatMap { [self] correct in
                    guard let correct else { return eventLoop.makeSucceededFuture((.locked, false)) }
                    let attempt = eventLoop.future {
                        store.recordPasswordAttempt(
                            grant.id, success: correct, now: now, maxFailures: settings.passwordMaxFailures,
                            baseLockout: settings.passwordLockout, completion: $0)
                    }
                    return attempt.map { attempt -> (Reason, Bool) in
                        guard let attempt else { return (.passwordRequired, false) }
                        if attempt.locked { return (.locked, false) }
                        return correct ? (.ok, true) : (.passwordIncorrect, false)
                    }
                }
            }
            .always { [guesses] _ in guesses.release(grant.id) }
    }

    private func makeCookie(_ request: StatefulRequest) -> UnlockCookie {
        let grant = request.link.grant
        let (epoch, key) = state.signing
        return UnlockCookie.issue(
            linkID: grant.id, expiresAt: min(grant.expiresAt, request.now + settings.cookieTTL),
            address: grant.network == nil ? nil : request.client, epoch: epoch, key: key)
    }
}
