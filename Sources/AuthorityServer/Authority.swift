import AuthorityAPI
import AuthorityCore
import AuthorityStore
import Foundation
import Logging
import NIOCore
import NIOPosix
import Synchronization

/// The daemon's behaviour behind the routes: checks on the calling event loop, durable writes on
/// the thread pool. Holds no HTTP knowledge.
public final class Authority: Sendable {
    public let store: AuthorityStore
    public let configuration: ServerConfiguration
    public let metrics: AuthorityMetrics
    let verifier: LinkVerifier
    let logger: Logger
    let threadPool: NIOThreadPool
    let policy: Mutex<Policy>
    /// The clock, Unix seconds. Checks and issues read it once per request.
    let clock: @Sendable () -> Int64
    let startedAt: Int64

    public init(
        store: AuthorityStore, configuration: ServerConfiguration, policy: Policy, threadPool: NIOThreadPool,
        metrics: AuthorityMetrics = AuthorityMetrics(), logger: Logger,
        clock: @escaping @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970) }
    ) {
        self.store = store
        self.configuration = configuration
        self.metrics = metrics
        self.verifier = LinkVerifier(notBeforeLeeway: configuration.notBeforeLeeway)
        self.logger = logger
        self.threadPool = threadPool
        self.policy = Mutex(policy)
        self.clock = clock
        self.startedAt = clock()
        metrics.activeEpoch.set(Int64(store.signingKey.epoch))
    }

    /// The rights of a caller under the current policy.
    public func grant(for peer: PeerCredentials) -> Grant { policy.withLock { $0.grant(for: peer) } }

    /// Replaces the policy (SIGHUP).
    public func replacePolicy(_ newPolicy: Policy) { policy.withLock { $0 = newPolicy } }

    /// Runs blocking work on the thread pool; the future completes on `eventLoop`. Store errors
    /// become API errors or a logged 500, never an empty answer.
    func blocking(on eventLoop: any EventLoop, _ work: @escaping @Sendable () throws -> APIResponse)
        -> EventLoopFuture<APIResponse>
    {
        threadPool.runIfActive(eventLoop: eventLoop) { [logger] in
            do {
                return try work()
            } catch let error as APIError {
                return error.response
            } catch {
                logger.error("blocking operation failed", metadata: ["error": "\(error)"])
                return .error(.internalError, "internal error; see the daemon's log")
            }
        }
    }

    /// `POST /v1/links/check`: answered on the event loop; never touches SQLite.
    public func check(_ body: CheckLinkRequest) -> Result<CheckLinkResponse, APIError> {
        var address: IPAddress?
        if let text = body.clientIP {
            guard let parsed = IPAddress(text) else {
                return .failure(APIError(.invalidRequest, "client_ip is not an IPv4 or IPv6 address"))
            }
            address = parsed
        }
        let started = ContinuousClock.now
        let (keyRing, revocations) = store.checkState
        var verdict = verifier.check(
            LinkRequest(target: body.url, host: body.host, method: body.method ?? "GET", clientAddress: address),
            keys: keyRing, revocations: revocations, now: clock())
        if verdict.isValid, let flags = verdict.link?.grant.flags {
            // Use counts and passwords are not kept by this version: fail closed.
            if flags.contains(.useLimited) { verdict.reason = .usesExhausted }
            else if flags.contains(.passwordProtected) { verdict.reason = .passwordRequired }
        }
        metrics.checkDuration.record(ContinuousClock.now - started)
        metrics.countCheck(verdict.reason)
        if let link = verdict.link {
            logger.debug("checked", metadata: ["link.id": "\(link.grant.id)", "reason": "\(verdict.reason.rawValue)"])
        }
        let grant = verdict.link?.grant
        return .success(CheckLinkResponse(
            valid: verdict.isValid, reason: verdict.reason.rawValue, id: grant?.id.description, epoch: grant?.epoch,
            expiresAt: grant?.expiresAt, remainingUses: nil, detail: verdict.detail))
    }

    public func health() -> HealthResponse {
        let now = clock()
        return HealthResponse(
            status: "ok", version: authorityVersion, activeEpoch: store.signingKey.epoch,
            revocations: store.revocations?.count, uptimeSeconds: now - startedAt)
    }
}

/// The daemon's version, reported by `/v1/health` and `--version`.
public let authorityVersion = "0.1.0"
