import AuthorityAPI
import AuthorityCore
import AuthorityStore
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// The daemon's behaviour behind the routes: checks on the calling event loop; every durable
/// write through the store's group commit (no event loop waits for an fsync); SQLite reads on
/// the read pool, admin writes and maintenance on a pool of their own, so reads never queue
/// behind writes, rotation, maintenance or password hashing. Holds no HTTP knowledge.
public final class Authority: Sendable {
    public let store: SQLiteStore
    public let configuration: ServerConfiguration
    public let metrics: AuthorityMetrics
    let verifier: LinkVerifier
    let logger: Logger
    /// SQLite reads only.
    let threadPool: NIOThreadPool
    /// Admin writes (rotate, retire, lift) and maintenance, which wait for their commit.
    let writePool: NIOThreadPool
    /// Argon2id runs here, never on the event loops or the other pools.
    let passwordPool: NIOThreadPool
    let policy: Mutex<Policy>
    /// Password guesses in flight per link (bounded: docs/security.md).
    let guesses = GuessesInFlight(limit: 2)
    /// The daemon's time, Unix seconds, which never runs backwards (`TimeMark`). Checks and
    /// issues read it once per request.
    let clock: @Sendable () -> Int64
    let startedAt: Int64
    /// Storage failures: one log line per interval, with a count.
    let storageFailures = RateLimitedLog()

    public init(
        store: SQLiteStore, configuration: ServerConfiguration, policy: Policy, threadPool: NIOThreadPool,
        metrics: AuthorityMetrics = AuthorityMetrics(), logger: Logger,
        clock: @escaping @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970) }
    ) {
        self.store = store
        self.configuration = configuration
        self.metrics = metrics
        self.verifier = LinkVerifier(
            notBeforeLeeway: configuration.notBeforeLeeway,
            cache: VerificationCache(capacity: configuration.verifyCacheEntries))
        self.logger = logger
        self.threadPool = threadPool
        self.writePool = NIOThreadPool(numberOfThreads: 1)
        self.passwordPool = NIOThreadPool(numberOfThreads: configuration.passwordThreads)
        self.policy = Mutex(policy)
        let time = store.time
        self.clock = { time.now(wall: clock()) }
        self.startedAt = self.clock()
        metrics.activeEpoch.set(Int64(store.signingKey.epoch))
        metrics.revocationListVersion.set(store.version.serial)
        store.groupCommit.observe { [metrics, store] writes in
            metrics.countCommit(writes: writes)
            metrics.revocationListVersion.set(store.version.serial)
        }
        time.observeBackwardSteps { [metrics, logger] behind in
            metrics.clockBackwardSteps.increment()
            logger.warning(
                "the clock stepped back behind the latest time already used; keeping that time until the clock catches up (links end early, never late)",
                metadata: ["clock.behind_seconds": "\(behind)"])
        }
        writePool.start()
        passwordPool.start()
    }

    /// After the server has drained: stops the password and write pools, then commits (or fails)
    /// every write still queued, refuses new ones, checkpoints and writes the final head.
    public func shutdown() async {
        try? await passwordPool.shutdownGracefully()
        try? await writePool.shutdownGracefully()
        store.close()
    }

    /// The rights of a caller under the current policy.
    public func grant(for peer: PeerCredentials) -> Grant { policy.withLock { $0.grant(for: peer) } }

    /// Replaces the policy (SIGHUP).
    public func replacePolicy(_ newPolicy: Policy) { policy.withLock { $0 = newPolicy } }

    /// Runs blocking work on the read pool, or with `writes` on the write pool; the future
    /// completes on `eventLoop`. Store errors become API errors, a 503 or a logged 500, never an
    /// empty answer.
    func blocking(on eventLoop: any EventLoop, writes: Bool = false, _ work: @escaping @Sendable () throws -> APIResponse)
        -> EventLoopFuture<APIResponse>
    {
        (writes ? writePool : threadPool).runIfActive(eventLoop: eventLoop, work).recover { [self] in errorResponse($0) }
    }

    /// The answer to a request whose work ends with `future` (a group commit): its value as JSON
    /// with `status`, or the error's answer.
    func answer(_ future: EventLoopFuture<some Encodable & Sendable>, status: HTTPResponseStatus)
        -> EventLoopFuture<APIResponse>
    {
        future.map { .json($0, status: status) }.recover { [self] in errorResponse($0) }
    }

    /// An API error answers as itself; storage trouble answers 503 `storage.unavailable` naming
    /// the path and cause (logged at a bounded rate); anything else is logged and answers 500.
    func errorResponse(_ error: any Error) -> APIResponse {
        if let error = error as? APIError { return error.response }
        if let trouble = storageTrouble(error) { return .error(.storageUnavailable, trouble) }
        logger.error("request failed", metadata: ["error": "\(error)"])
        return .error(.internalError, "internal error; see the daemon's log")
    }

    /// The message of a storage failure (counted, and logged at most once per interval), or nil
    /// for any other error.
    func storageTrouble(_ error: any Error) -> String? {
        guard let trouble = store.storageTrouble(error) else { return nil }
        metrics.storageErrors.increment()
        storageFailures.occurred { count in
            logger.error("writes refused: storage unavailable", metadata: ["error": "\(trouble)", "refused": "\(count)"])
        }
        return trouble
    }

    /// `POST /v1/links/check`. Steps 1–8 answer on the event loop without touching SQLite; a
    /// use-limited or password-protected link that passes them continues off the loop.
    public func check(_ body: CheckLinkRequest, on eventLoop: any EventLoop) -> Result<CheckAnswer, APIError> {
        let address: IPAddress?
        switch Self.clientAddress(body.clientIP) {
        case .success(let parsed): address = parsed
        case .failure(let error): return .failure(error)
        }
        if let password = body.password, password.isEmpty || password.utf8.count > PasswordHash.maximumLength {
            return .failure(APIError(.invalidRequest, "password must be 1 to \(PasswordHash.maximumLength) bytes"))
        }
        let started = ContinuousClock.now
        let now = clock()
        let (keyRing, revocations) = store.checkState
        let verdict = verifier.check(
            LinkRequest(target: body.url, host: body.host, method: body.method ?? "GET", clientAddress: address),
            keys: keyRing, revocations: revocations, now: now)
        let grant = verdict.link?.grant
        func answer(_ reason: Reason, _ outcome: StatefulOutcome? = nil) -> CheckLinkResponse {
            metrics.checkDuration.record(ContinuousClock.now - started)
            metrics.countCheck(reason)
            return CheckLinkResponse(
                valid: reason == .ok, reason: reason.rawValue, id: grant?.id.description, epoch: grant?.epoch,
                expiresAt: grant?.expiresAt, remainingUses: outcome?.remainingUses, detail: verdict.detail,
                cookie: outcome?.cookie?.value, cookieExpiresAt: outcome?.cookie?.expiresAt)
        }
        guard verdict.isValid, let link = verdict.link, !link.grant.flags.isEmpty || body.issueCookie == true else {
            return .success(.now(answer(verdict.reason)))
        }
        let request = StatefulRequest(
            link: link, client: address, password: body.password, cookie: body.cookie, consume: body.consume ?? true,
            issueCookie: body.issueCookie ?? false, now: now)
        return .success(.later(finishStateful(request, keyRing: keyRing, on: eventLoop).map { answer($0.reason, $0) }))
    }

    /// A request's `client_ip`: absent is nil; anything but an IPv4 or IPv6 address is a 422.
    static func clientAddress(_ text: String?) -> Result<IPAddress?, APIError> {
        guard let text else { return .success(nil) }
        guard let parsed = IPAddress(text) else {
            return .failure(APIError(.invalidRequest, "client_ip is not an IPv4 or IPv6 address"))
        }
        return .success(parsed)
    }

    public func health() -> HealthResponse {
        let now = clock()
        return HealthResponse(
            status: "ok", version: authorityVersion, activeEpoch: store.signingKey.epoch,
            revocations: store.revocations?.count, uptimeSeconds: now - startedAt)
    }
}

extension EventLoop {
    /// A future, completed on this loop, for a store operation that reports through a
    /// completion (the group commit's writes).
    func future<T: Sendable>(_ start: (@escaping @Sendable (Result<T, any Error>) -> Void) -> Void) -> EventLoopFuture<T> {
        let promise = makePromise(of: T.self)
        start { promise.completeWith($0) }
        return promise.futureResult
    }
}

/// A check's answer: at once, or after the stateful steps.
public enum CheckAnswer: Sendable {
    case now(CheckLinkResponse)
    case later(EventLoopFuture<CheckLinkResponse>)
}

/// The daemon's version, reported by `/v1/health` and `--version`.
public let authorityVersion = "0.1.0"
