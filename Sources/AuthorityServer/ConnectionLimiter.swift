import Synchronization

/// Counts the open connections, all callers together and per caller uid (`SO_PEERCRED`), and
/// refuses one over either cap. One lock round per connection opened and closed; nothing per
/// request.
final class ConnectionLimiter: Sendable {
    let maxTotal: Int
    let maxPerUID: Int
    private let state = Mutex<(total: Int, perUID: [UInt32: Int])>((0, [:]))

    init(maxTotal: Int, maxPerUID: Int) {
        self.maxTotal = maxTotal
        self.maxPerUID = maxPerUID
    }

    /// Counts a new connection of `uid`, or names the cap it would exceed (and counts nothing).
    func admit(uid: UInt32) -> ConnectionRefusal? {
        state.withLock { state in
            guard state.total < maxTotal else { return .total }
            let mine = state.perUID[uid, default: 0]
            guard mine < maxPerUID else { return .perUID }
            state.total += 1
            state.perUID[uid] = mine + 1
            return nil
        }
    }

    /// Forgets a connection `admit` counted.
    func release(uid: UInt32) {
        state.withLock { state in
            state.total -= 1
            let mine = state.perUID[uid, default: 1] - 1
            state.perUID[uid] = mine > 0 ? mine : nil
        }
    }

    /// Open connections: all, and of `uid`.
    func open(uid: UInt32) -> (total: Int, uid: Int) {
        state.withLock { ($0.total, $0.perUID[uid, default: 0]) }
    }
}
