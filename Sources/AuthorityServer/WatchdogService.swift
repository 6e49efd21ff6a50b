import NIOCore
import NIOPosix
import ServiceLifecycle

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
