import Synchronization

/// A log line written at most once per `interval`, carrying how many times its event happened
/// since the last line: a flood of refused connections or failed accepts is one line every
/// `interval`, never one line per event.
final class RateLimitedLog: Sendable {
    private let interval: Duration
    private let state = Mutex<(last: ContinuousClock.Instant?, count: Int)>((nil, 0))

    init(interval: Duration = .seconds(10)) { self.interval = interval }

    /// Counts one event; when a line is due, calls `write` with the events since the last line
    /// (this one included). `write` runs outside the lock.
    func occurred(_ write: (_ events: Int) -> Void) {
        let now = ContinuousClock.now
        let due: Int? = state.withLock { state in
            state.count += 1
            if let last = state.last, now - last < interval { return nil }
            state.last = now
            defer { state.count = 0 }
            return state.count
        }
        if let due { write(due) }
    }
}
