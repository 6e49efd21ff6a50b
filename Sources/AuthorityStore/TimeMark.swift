import Synchronization

/// The daemon's time, which never runs backwards: the wall clock, or the latest time already used
/// when the wall clock is behind it. The mark is persisted (with every commit that follows a new
/// second, and by maintenance) and reloaded at start, so a clock stepped back, even across a
/// restart, cannot make a link issued later look older than a revocation, or an expired link live
/// again: links end early rather than late. Forward steps simply move the mark.
public final class TimeMark: Sendable {
    /// A wall clock this far behind the mark counts as a backward step (logged, counted); less is
    /// ordinary jitter, silently absorbed by the mark.
    public let tolerance: Int64
    private let mark: Atomic<Int64>
    private let behind = Atomic<Bool>(false)
    private let observer = Mutex<(@Sendable (_ behindBy: Int64) -> Void)?>(nil)

    package init(mark: Int64, tolerance: Int64 = 2) {
        self.mark = Atomic(mark)
        self.tolerance = tolerance
    }

    /// The latest time used so far.
    public var value: Int64 { mark.load(ordering: .acquiring) }

    /// The daemon's time for a wall clock reading `wall`: `max(wall, mark)`, and the mark moves up.
    public func now(wall: Int64) -> Int64 {
        var current = mark.load(ordering: .acquiring)
        while wall > current {
            let (exchanged, original) = mark.compareExchange(
                expected: current, desired: wall, successOrdering: .acquiringAndReleasing, failureOrdering: .acquiring)
            if exchanged {
                if behind.load(ordering: .relaxed) { behind.store(false, ordering: .relaxed) }
                return wall
            }
            current = original
        }
        if current - wall > tolerance, !behind.exchange(true, ordering: .acquiringAndReleasing) {
            observer.withLock { $0 }?(current - wall)
        }
        return current
    }

    /// Calls `observer` once per backward step beyond the tolerance, with how far the wall clock
    /// is behind (for the log and metrics). Replaces any previous one.
    public func observeBackwardSteps(_ observer: @escaping @Sendable (_ behindBy: Int64) -> Void) {
        self.observer.withLock { $0 = observer }
    }
}
