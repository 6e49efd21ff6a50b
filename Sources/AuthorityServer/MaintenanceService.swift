import AuthorityStore
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle

/// Periodic upkeep: automatic rotation (when configured), retirement of epochs whose
/// `retire_after` has passed, collection of revocations no live link can match, the time mark
/// persisted and the WAL checkpointed. Runs on the write pool, never in the read pool's way.
public struct MaintenanceService: Service, CustomStringConvertible {
    let store: any Store
    let state: CurrentState
    let runtime: Runtime
    let errors: ErrorReporter
    let interval: Int64
    /// Automatic rotation period in seconds; 0: off.
    let rotationInterval: Int64
    var logger: Logger { runtime.logger }
    public var description: String { "MaintenanceService" }

    public init(authority: Authority) {
        store = authority.store
        state = authority.state
        runtime = authority.runtime
        errors = authority.errors
        interval = authority.configuration.maintenanceInterval
        rotationInterval = authority.configuration.rotationInterval
    }

    public func run() async throws {
        await runEvery(.seconds(interval)) { await tick() }
    }

    /// One round; tests call it directly.
    public func tick() async {
        let now = runtime.clock()
        do {
            try await runtime.pools.writes.runIfActive { [self] in
                let ring = state.keyRing
                if rotationInterval > 0, let active = ring.activeEpoch, let created = ring.records[active]?.createdAt,
                    now - created >= rotationInterval
                {
                    _ = try store.rotate(now: now, caller: .daemon)
                    runtime.metrics.rotations.increment()
                }
                for epoch in try store.maintain(now: now).retired {
                    logger.notice("epoch retired: its links have all expired", metadata: ["key.epoch": "\(epoch)"])
                }
            }
        } catch {
            if errors.storageTrouble(error) == nil { logger.error("maintenance failed", metadata: ["error": "\(error)"]) }
        }
    }
}
