import AuthorityAPI
import AuthorityCore
import AuthorityStore
import Foundation
import Logging

/// The daemon's parts, wired and nothing more: the store and the server's copy of its state, the
/// pools, the policy, and the handlers the router calls (`Checker`, `Issuer`, `Administration`,
/// `BundlePublisher`, `EventHub`).
/// docs/architecture.md shows how a request passes through them.
public final class Authority: Sendable {
    public let store: any Store
    public let configuration: ServerConfiguration
    public let metrics: AuthorityMetrics
    let runtime: Runtime
    let state: CurrentState
    let policy: CurrentPolicy
    let errors: ErrorReporter
    let checker: Checker
    let issuer: Issuer
    let administration: Administration
    let bundles: BundlePublisher
    let events: EventHub

    public init(
        store: any Store, configuration: ServerConfiguration, policy: Policy, metrics: AuthorityMetrics = AuthorityMetrics(),
        logger: Logger, clock: @escaping @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970) }
    ) {
        let time = store.time
        let runtime = Runtime(
            clock: { time.now(wall: clock()) },
            pools: WorkPools(readThreads: configuration.blockingThreads, passwordThreads: configuration.passwordThreads),
            metrics: metrics, logger: logger)
        let state = CurrentState(following: store) { metrics.activeEpoch.set(Int64($0)) }
        self.store = store
        self.configuration = configuration
        self.metrics = metrics
        self.runtime = runtime
        self.state = state
        self.policy = CurrentPolicy(policy)
        self.errors = ErrorReporter(store: store, metrics: metrics, logger: logger)
        self.checker = Checker(state: state, store: store, runtime: runtime, configuration: configuration)
        self.issuer = Issuer(state: state, store: store, runtime: runtime, maxTTL: configuration.maxTTL, refs: checker.refs)
        self.administration = Administration(
            state: state, store: store, runtime: runtime, revocationsEnabled: configuration.revocationsEnabled,
            maxStaleness: configuration.maxStaleness, refs: checker.refs)
        self.bundles = BundlePublisher(state: state, runtime: runtime, maxAge: configuration.bundleMaxAge)
        self.events = EventHub(store: store, runtime: runtime)
        Self.observe(store, into: metrics, logger: logger)
        do {
            checker.refs.add(try store.refs(of: nil, now: runtime.clock(), limit: checker.refs.limit))
        } catch {
            logger.warning("the refs of live links could not be read: forward-auth answers lack X-Authority-Ref until their next issue", metadata: ["error": "\(error)"])
        }
    }

    /// The gauges that follow the store's commits (the active epoch follows `state`): the
    /// revocation list's version; the clock's backward steps, counted and logged.
    private static func observe(_ store: any Store, into metrics: AuthorityMetrics, logger: Logger) {
        metrics.revocationListVersion.set(store.versionSerial)
        store.observeCommits { writes in
            metrics.countCommit(writes: writes)
            metrics.revocationListVersion.set(store.versionSerial)
        }
        store.time.observeBackwardSteps { behind in
            metrics.clockBackwardSteps.increment()
            logger.warning(
                "the clock stepped back behind the latest time already used; keeping that time until the clock catches up (links end early, never late)",
                metadata: ["clock.behind_seconds": "\(behind)"])
        }
    }

    /// After the server has drained: waits for the pools' work, then commits (or fails) every
    /// write still queued, refuses new ones, checkpoints and writes the final head.
    public func shutdown() async {
        do {
            try flushActivity()
        } catch {
            runtime.logger.warning("the checks' last activity could not be recorded", metadata: ["error": "\(error)"])
        }
        await runtime.pools.shutdown()
        store.close()
    }
}

/// The daemon's version, reported by `/v1/health` and `--version`.
public let authorityVersion = "0.1.0"
