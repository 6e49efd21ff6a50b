import AuthorityStore
import Logging

/// Failures as answers: an API error answers as itself; storage trouble answers 503
/// `storage.unavailable` naming the path and cause (counted, and logged at most once per
/// interval with a count); anything else is logged and answers 500, never an empty answer.
struct ErrorReporter: Sendable {
    let store: any Store
    let metrics: AuthorityMetrics
    let logger: Logger
    private let storageFailures = RateLimitedLog()

    init(store: any Store, metrics: AuthorityMetrics, logger: Logger) {
        self.store = store
        self.metrics = metrics
        self.logger = logger
    }

    func response(_ error: any Error) -> APIResponse {
        if let error = error as? APIError { return error.response }
        if let trouble = storageTrouble(error) { return .error(.storageUnavailable, trouble) }
        logger.error("request failed", metadata: ["error": "\(error)"])
        return .error(.internalError, "internal error; see the daemon's log")
    }

    /// The message of a storage failure (counted and logged), or nil for any other error.
    func storageTrouble(_ error: any Error) -> String? {
        guard let trouble = store.storageTrouble(error) else { return nil }
        metrics.storageErrors.increment()
        storageFailures.occurred { count in
            logger.error("writes refused: storage unavailable", metadata: ["error": "\(trouble)", "refused": "\(count)"])
        }
        return trouble
    }
}
