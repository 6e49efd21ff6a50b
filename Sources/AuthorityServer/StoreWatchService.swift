import AuthorityStore
import Logging
import ServiceLifecycle

/// Checks every second that the database file is still the one opened; when it was removed or
/// replaced, logs it at critical and fails, which stops the daemon with a non-zero exit (writes
/// stopped being acknowledged at the first commit that noticed). Under systemd the restart then
/// refuses to start on the missing database.
public struct StoreWatchService: Service, CustomStringConvertible {
    let store: any Store
    let logger: Logger
    public var description: String { "StoreWatchService" }

    public init(store: any Store, logger: Logger) {
        self.store = store
        self.logger = logger
    }

    public func run() async throws {
        do {
            try await cancelWhenGracefulShutdown {
                while !Task.isCancelled {
                    try await Task.sleep(for: .seconds(1))
                    do {
                        try store.checkAlive()
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
