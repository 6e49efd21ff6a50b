import Logging
import NIOCore
import NIOPosix

/// What every handler shares: the daemon's clock, its pools, its metrics and its logger.
struct Runtime: Sendable {
    /// The daemon's time in Unix seconds, which never runs backwards (`TimeMark`): read once per
    /// request.
    let clock: @Sendable () -> Int64
    let pools: WorkPools
    let metrics: AuthorityMetrics
    let logger: Logger
}
