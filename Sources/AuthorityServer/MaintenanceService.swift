import AuthorityStore
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import UnixSignals

/// Periodic upkeep: automatic rotation (when configured), retirement of epochs whose
/// `retire_after` has passed, collection of revocations no live link can match, the time mark
/// persisted and the WAL checkpointed. Runs on the write pool, never in the read pool's way.
public struct MaintenanceService: Service, CustomStringConvertible {
    let authority: Authority
    let logger: Logger
    public var description: String { "MaintenanceService" }

    public init(authority: Authority, logger: Logger) {
        self.authority = authority
        self.logger = logger
    }

    public func run() async throws {
        let interval = Duration.seconds(authority.configuration.maintenanceInterval)
        await runEvery(interval) { await tick() }
    }

    /// One round; tests call it directly.
    public func tick() async {
        let store = authority.store
        let now = authority.clock()
        let pool = authority.writePool
        do {
            try await pool.runIfActive {
                let rotation = authority.configuration.rotationInterval
                if rotation > 0, let active = store.keyRing.activeEpoch,
                    let created = store.keyRing.records[active]?.createdAt, now - created >= rotation
                {
                    let epoch = try store.rotate(now: now, caller: .daemon)
                    authority.metrics.rotations.increment()
                    authority.metrics.activeEpoch.set(Int64(epoch))
                }
                for epoch in try store.retireDue(now: now) {
                    logger.notice("epoch retired: its links have all expired", metadata: ["key.epoch": "\(epoch)"])
                }
                try store.collectRevocations(now: now)
                try store.collectExpiredLinkState(now: now)
                try store.persistTime()
                store.checkpoint()
            }
        } catch {
            if authority.storageTrouble(error) == nil { logger.error("maintenance failed", metadata: ["error": "\(error)"]) }
        }
    }
}

/// Checks every second that the database file is still the one opened; when it was removed or
/// replaced, logs it at critical and fails, which stops the daemon with a non-zero exit (writes
/// stopped being acknowledged at the first commit that noticed). Under systemd the restart then
/// refuses to start on the missing database.
public struct StoreWatchService: Service, CustomStringConvertible {
    let store: SQLiteStore
    let logger: Logger
    public var description: String { "StoreWatchService" }

    public init(store: SQLiteStore, logger: Logger) {
        self.store = store
        self.logger = logger
    }

    public func run() async throws {
        do {
            try await cancelWhenGracefulShutdown {
                while !Task.isCancelled {
                    try await Task.sleep(for: .seconds(1))
                    do {
                        try store.checkDatabaseFile()
                    } catch {
                        logger.critical("stopping: \(error)")
                        throw error
                    }
                }
            }
        } catch is CancellationError {
            // A graceful shutdown: the watch ends with the daemon.
        }
    }
}

/// Sends `WATCHDOG=1` every half `WATCHDOG_USEC`, but only after every event loop has run a task:
/// a stuck loop stops the pings and systemd restarts the daemon.
public struct WatchdogService: Service, CustomStringConvertible {
    let notifier: SystemdNotifier
    let group: MultiThreadedEventLoopGroup
    public var description: String { "WatchdogService" }

    public init(notifier: SystemdNotifier, group: MultiThreadedEventLoopGroup) {
        self.notifier = notifier
        self.group = group
    }

    public func run() async throws {
        guard let interval = notifier.watchdogInterval else {
            try? await gracefulShutdown()
            return
        }
        await runEvery(interval) {
            for loop in group.makeIterator() { try? await loop.submit {}.get() }
            notifier.watchdog()
        }
    }
}

/// Reloads the policy file on SIGHUP; a file that does not load keeps the previous policy.
public struct PolicyReloadService: Service, CustomStringConvertible {
    let authority: Authority
    let logger: Logger
    public var description: String { "PolicyReloadService" }

    public init(authority: Authority, logger: Logger) {
        self.authority = authority
        self.logger = logger
    }

    public func run() async throws {
        let signals = await UnixSignalsSequence(trapping: .sighup)
        for await _ in signals.cancelOnGracefulShutdown() {
            guard let path = authority.configuration.policyFile else {
                logger.notice("SIGHUP: no policy file configured; the default policy stays")
                continue
            }
            do {
                authority.replacePolicy(try Policy.load(path: path))
                logger.notice("policy reloaded", metadata: ["policy.path": "\(path)"])
            } catch {
                logger.error("policy not reloaded; keeping the previous one", metadata: ["error": "\(error)"])
            }
        }
    }
}

/// Runs `body` every `interval` until graceful shutdown or cancellation.
func runEvery(_ interval: Duration, _ body: @escaping @Sendable () async -> Void) async {
    do {
        try await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                try await Task.sleep(for: interval)
                await body()
            }
        }
    } catch {
        // Cancelled: the service stops.
    }
}
