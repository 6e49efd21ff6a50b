import AuthorityAPI
import AuthorityCore
import AuthorityStore
import NIOCore

/// Everything but checking and issuing: revocations (made, lifted, listed), the key ring (listed,
/// rotated, retired), the audit log, the integrity check and health. A revocation is one write of
/// the group commit, answered once durable; the other writes wait for their commit on the write
/// pool, the reads run on the read pool.
final class Administration: Sendable {
    let state: CurrentState
    let store: any Store
    let runtime: Runtime
    let revocationsEnabled: Bool
    /// `--max-staleness`: health is degraded once the store's state is older.
    let maxStaleness: Double
    let startedAt: Int64
    /// The issuers' refs of live links, for the log lines about them.
    let refs: RefBook

    init(state: CurrentState, store: any Store, runtime: Runtime, revocationsEnabled: Bool, maxStaleness: Int64, refs: RefBook) {
        self.refs = refs
        self.maxStaleness = Double(maxStaleness)
        self.state = state
        self.store = store
        self.runtime = runtime
        self.revocationsEnabled = revocationsEnabled
        self.startedAt = runtime.clock()
    }

    /// `GET /v1/health`: degraded while the store reports trouble, or while its state is older
    /// than `--max-staleness` (checks are refused then, whether or not the store has noticed why).
    func health() -> Reply<HealthResponse> {
        let snapshot = state.snapshot
        let age = store.secondsSinceSync
        let stale = age.map { $0 > maxStaleness } ?? false
        let trouble = store.unavailableReason
            ?? (stale ? "the fleet's state was last confirmed \(Int(age ?? 0)) s ago (--max-staleness \(Int(maxStaleness)) s)" : nil)
        return .value(HealthResponse(
            status: trouble == nil ? "ok" : "degraded", version: authorityVersion, activeEpoch: snapshot.signing.epoch,
            revocations: snapshot.revocations?.count, uptimeSeconds: runtime.clock() - startedAt, storage: store.engineName,
            storageProblem: trouble, syncAgeMilliseconds: age.map { Int64(($0 * 1_000).rounded()) }))
    }

    /// `GET /v1/integrity` (admin): the whole revocation list and every use counter checked
    /// against their MACs, in a read snapshot; a problem is also logged at critical.
    func integrity(on eventLoop: any EventLoop) -> Reply<IntegrityResponse> {
        .off(runtime.pools.reads, on: eventLoop) { [store, runtime] in
            let report = try store.verifyIntegrity()
            if let problem = report.problem {
                runtime.logger.critical("integrity check failed", metadata: ["problem": "\(problem)", "db.path": "\(store.location)"])
            }
            return IntegrityResponse(
                ok: report.problem == nil, serial: report.serial, head: report.head, rows: report.rows, problem: report.problem)
        }
    }

    /// `GET /v1/audit`: newest first.
    func audit(limit: Int, on eventLoop: any EventLoop) -> Reply<AuditPage> {
        .off(runtime.pools.reads, on: eventLoop) { [store] in
            AuditPage(entries: try store.auditLog(limit: limit).map {
                AuditEntryBody(id: $0.id, at: $0.at, actorUID: $0.actorUID, actorPID: $0.actorPID, action: $0.action,
                               linkID: $0.linkID, epoch: $0.epoch, detail: $0.detail)
            })
        }
    }
}
