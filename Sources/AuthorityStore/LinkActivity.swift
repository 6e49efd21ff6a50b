import AuthorityCore
import Synchronization

/// What the checks of one link since the last flush saw: kept in memory by the server (no write
/// per request) and written to the link's record by `Store.recordActivity`, off the event loops.
public struct LinkActivity: Sendable, Equatable {
    public var id: LinkID
    /// The first and last allowed check, and how many were allowed.
    public var firstAllowed: Int64?
    public var lastAllowed: Int64?
    public var allowed: Int64 = 0
    /// The last refusal after the signature was verified (`expired`, `revoked`, …) and when.
    public var refused: String?
    public var refusedAt: Int64?

    public init(id: LinkID) { self.id = id }
}

/// The activity of every link checked since the last `take()`: one lock per check, no storage.
/// At most `limit` links are held; past it a link's checks are not noted until the next flush
/// (counted in `dropped`), so a flood of distinct valid links cannot grow it without bound.
public final class ActivityLog: Sendable {
    private let entries = Mutex<(seen: [LinkID: LinkActivity], dropped: Int)>(([:], 0))
    public let limit: Int

    public init(limit: Int = 200_000) { self.limit = limit }

    /// Notes one check of `id` that reached past its signature: allowed, or refused for `reason`.
    public func note(_ id: LinkID, allowed: Bool, reason: String, now: Int64) {
        entries.withLock { entries in
            if entries.seen[id] == nil, entries.seen.count >= limit {
                entries.dropped += 1
                return
            }
            var activity = entries.seen[id] ?? LinkActivity(id: id)
            if allowed {
                if activity.firstAllowed == nil { activity.firstAllowed = now }
                activity.lastAllowed = now
                activity.allowed += 1
            } else {
                (activity.refused, activity.refusedAt) = (reason, now)
            }
            entries.seen[id] = activity
        }
    }

    /// Everything noted since the last call, in the order of the links' first allowed checks
    /// (then by id; links with none last), and how many checks were not noted (the log was full).
    /// In that order a flush writes them, so its `first_used` events follow the uses.
    public func take() -> (activity: [LinkActivity], dropped: Int) {
        let (seen, dropped) = entries.withLock { entries in
            defer { entries = ([:], 0) }
            return (Array(entries.seen.values), entries.dropped)
        }
        return (seen.sorted { ($0.firstAllowed ?? .max, $0.id) < ($1.firstAllowed ?? .max, $1.id) }, dropped)
    }
}

extension Array {
    /// The array in consecutive slices of at most `size` elements (the last may be shorter): one
    /// statement's, or one write's, share of a batch.
    package func chunks(of size: Int) -> [ArraySlice<Element>] {
        stride(from: 0, to: count, by: size).map { self[$0..<Swift.min($0 + size, count)] }
    }
}
