import AuthorityCore
import Prometheus
import Synchronization

/// The daemon's metrics, exported at `GET /metrics` in Prometheus text format. Every series is
/// created up front, so the hot path only increments. The verification cache counts its hits and
/// misses under its own lock; they reach their counters at scrape time.
public final class AuthorityMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry
    private let checks: [Reason: Counter]
    private let responses: [UInt: Counter]
    private let otherResponses: Counter
    let checkDuration: DurationHistogram
    let issued: Counter
    let revocations: Counter
    let revocationsLifted: Counter
    let passwordVerifications: Counter
    let rotations: Counter
    let activeEpoch: Gauge
    let clockBackwardSteps: Counter
    let storageErrors: Counter
    /// 1 while the database answers, 0 while it does not (fleet mode: PostgreSQL unreachable).
    let storageUp: Gauge
    /// Fleet mode: seconds since the daemon last confirmed it holds PostgreSQL's state.
    let storageSyncAge: Gauge
    let revocationListVersion: Gauge
    private let verifyCacheHits: Counter
    private let verifyCacheMisses: Counter
    /// The cache's counts as last added to the counters.
    private let exportedCacheCounts = Mutex<(hits: UInt64, misses: UInt64)>((0, 0))
    private let commits: Counter
    private let committedWrites: Counter
    private let commitBatchSize: ValueHistogram
    let connectionsOpen: Gauge
    /// Open `GET /v1/events` streams.
    let eventStreams: Gauge
    private let connectionsRefused: [ConnectionRefusal: Counter]
    private let connectionsClosed: [ConnectionClosure: Counter]
    let acceptErrors: Counter

    public init() {
        let registry = PrometheusCollectorRegistry()
        self.registry = registry
        checks = Dictionary(uniqueKeysWithValues: Reason.allCases.map {
            ($0, registry.makeCounter(name: "authority_checks_total", labels: [("reason", $0.rawValue)], help: "Link checks by reason code"))
        })
        let statuses: [UInt] = [200, 201, 204, 400, 401, 403, 404, 405, 409, 413, 415, 422, 500, 503]
        responses = Dictionary(uniqueKeysWithValues: statuses.map {
            ($0, registry.makeCounter(name: "authority_http_requests_total", labels: [("status", String($0))], help: "HTTP answers by status"))
        })
        otherResponses = registry.makeCounter(name: "authority_http_requests_total", labels: [("status", "other")], help: "HTTP answers by status")
        checkDuration = registry.makeDurationHistogram(
            name: "authority_check_duration_seconds",
            buckets: [.microseconds(50), .microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1),
                      .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(50)],
            help: "Time to decide a check, excluding HTTP")
        issued = registry.makeCounter(name: "authority_links_issued_total", help: "Links issued")
        revocations = registry.makeCounter(name: "authority_revocations_total", help: "Revocations recorded")
        revocationsLifted = registry.makeCounter(name: "authority_revocations_lifted_total", help: "Revocations lifted by an admin")
        passwordVerifications = registry.makeCounter(
            name: "authority_password_verifications_total", help: "Password guesses hashed (Argon2id)")
        rotations = registry.makeCounter(name: "authority_key_rotations_total", help: "Key rotations")
        activeEpoch = registry.makeGauge(name: "authority_active_epoch", help: "The epoch that signs new links")
        clockBackwardSteps = registry.makeCounter(
            name: "authority_clock_backward_steps_total",
            help: "Times the wall clock was found behind the latest time already used (the daemon kept that time)")
        storageErrors = registry.makeCounter(
            name: "authority_storage_errors_total", help: "Writes answered 503 storage.unavailable")
        storageUp = registry.makeGauge(name: "authority_storage_up", help: "1 while the database answers, 0 while it cannot be reached")
        storageSyncAge = registry.makeGauge(
            name: "authority_storage_sync_age_seconds",
            help: "Fleet mode: seconds since this daemon last confirmed it holds PostgreSQL's state")
        revocationListVersion = registry.makeGauge(
            name: "authority_revocation_list_version", help: "Changes to revocations and use counters so far (the integrity head's serial)")
        verifyCacheHits = registry.makeCounter(
            name: "authority_verify_cache_hits_total", help: "Checks whose signature the verification cache knew")
        verifyCacheMisses = registry.makeCounter(
            name: "authority_verify_cache_misses_total", help: "Checks whose signature had to be verified")
        commits = registry.makeCounter(
            name: "authority_commits_total", help: "Group-commit transactions committed (one fsync each)")
        committedWrites = registry.makeCounter(
            name: "authority_committed_writes_total", help: "Revocations, issues and uses made durable by those transactions")
        commitBatchSize = registry.makeValueHistogram(
            name: "authority_commit_batch_size", buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 1024, 4096],
            help: "Writes per group-commit transaction")
        connectionsOpen = registry.makeGauge(name: "authority_connections_open", help: "Open API connections")
        eventStreams = registry.makeGauge(name: "authority_event_streams_open", help: "Open GET /v1/events streams (Server-Sent Events)")
        connectionsRefused = Dictionary(uniqueKeysWithValues: ConnectionRefusal.allCases.map {
            ($0, registry.makeCounter(
                name: "authority_connections_refused_total", labels: [("limit", $0.rawValue)],
                help: "Connections closed at once because a connection cap was reached"))
        })
        connectionsClosed = Dictionary(uniqueKeysWithValues: ConnectionClosure.allCases.map {
            ($0, registry.makeCounter(
                name: "authority_connections_closed_total", labels: [("reason", $0.rawValue)],
                help: "Connections the daemon closed because a resource limit was reached"))
        })
        acceptErrors = registry.makeCounter(
            name: "authority_accept_errors_total",
            help: "Failed accepts (descriptors exhausted and the like), each followed by a back-off")
    }

    func countRefused(_ limit: ConnectionRefusal) { connectionsRefused[limit]?.increment() }
    func countClosed(_ reason: ConnectionClosure) { connectionsClosed[reason]?.increment() }

    func countCheck(_ reason: Reason) { checks[reason]?.increment() }

    /// One group-commit transaction that made `writes` writes durable (on the writer thread).
    func countCommit(writes: Int) {
        commits.increment()
        committedWrites.increment(by: Int64(writes))
        commitBatchSize.record(Double(writes))
    }

    func countResponse(status: UInt) { (responses[status] ?? otherResponses).increment() }

    /// The metrics in Prometheus text format, with the counts of `verifyCache` brought up to date.
    public func text(verifyCache: VerificationCache? = nil) -> String {
        if let verifyCache { export(verifyCache) }
        return registry.emitToString()
    }

    /// Adds what the cache counted since the last scrape. The cache is read under the lock, so
    /// concurrent scrapes never add the same lookups twice.
    private func export(_ cache: VerificationCache) {
        exportedCacheCounts.withLock { exported in
            let (hits, misses) = (cache.hits, cache.misses)
            verifyCacheHits.increment(by: Int64(hits - exported.hits))
            verifyCacheMisses.increment(by: Int64(misses - exported.misses))
            exported = (hits, misses)
        }
    }
}

/// Which cap refused a connection (the `limit` label of `authority_connections_refused_total`).
enum ConnectionRefusal: String, CaseIterable, Sendable {
    case total = "max_connections"
    case perUID = "max_connections_per_uid"
}

/// Why the daemon closed a connection (the `reason` label of `authority_connections_closed_total`).
enum ConnectionClosure: String, CaseIterable, Sendable {
    case requestTimeout = "request_timeout"
    case idleTimeout = "idle_timeout"
    /// Answers waited unread for the idle timeout.
    case writeStalled = "write_stalled"
    case writeBufferHardLimit = "write_buffer_hard_limit"
}
