import Logging
import ServiceLifecycle
import UnixSignals

/// Reloads the policy file on SIGHUP; a file that does not load keeps the previous policy.
public struct PolicyReloadService: Service, CustomStringConvertible {
    let policy: CurrentPolicy
    let events: EventHub
    let path: String?
    let logger: Logger
    public var description: String { "PolicyReloadService" }

    public init(authority: Authority, logger: Logger) {
        policy = authority.policy
        events = authority.events
        path = authority.configuration.policyFile
        self.logger = logger
    }

    public func run() async throws {
        let signals = await UnixSignalsSequence(trapping: .sighup)
        for await _ in signals.cancelOnGracefulShutdown() {
            guard let path else {
                logger.notice("SIGHUP: no policy file configured; the default policy stays")
                continue
            }
            do {
                policy.replace(try Policy.load(path: path))
                // A stream's filter comes from the rights it was opened with: every stream ends,
                // and its client reconnects (Last-Event-ID) under the new policy.
                events.endAll()
                logger.notice("policy reloaded", metadata: ["policy.path": "\(path)"])
            } catch {
                logger.error("policy not reloaded; keeping the previous one", metadata: ["error": "\(error)"])
            }
        }
    }
}
