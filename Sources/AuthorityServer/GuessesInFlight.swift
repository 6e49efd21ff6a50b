import AuthorityCore
import Synchronization

/// Password guesses in progress, per link: at most `limit` at a time each.
final class GuessesInFlight: Sendable {
    let limit: Int
    private let counts = Mutex<[LinkID: Int]>([:])

    init(limit: Int) { self.limit = limit }

    /// Takes a slot for a guess at `id`; false when the link already has `limit` guesses in flight.
    func reserve(_ id: LinkID) -> Bool {
        counts.withLock { counts in
            guard counts[id, default: 0] < limit else { return false }
            counts[id, default: 0] += 1
            return true
        }
    }

    func release(_ id: LinkID) {
        counts.withLock { counts in
            let left = counts[id, default: 1] - 1
            counts[id] = left > 0 ? left : nil
        }
    }
}
