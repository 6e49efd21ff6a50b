import AuthorityCore
import AuthorityStore
import Synchronization

/// The issuer's `ref` of live links, for `X-Authority-Ref` on forward-auth answers without a read
/// per check: filled at issue and at start (from the records), pruned past each link's expiry. In
/// fleet mode a link issued by another daemon is looked up at the next activity flush after its
/// first check, so its answers carry the header from then on; a link found without a ref is held
/// too (as having none), so it is not looked up again at every flush.
///
/// Bounded: at most `limit` links. Past it, a new link is not held (its answers lack the header;
/// counted, and logged at the flush). Pruning touches only the links whose expiry has passed
/// (they are also filed by the minute they expire), so it never walks the whole book under the
/// lock the checks take.
final class RefBook: Sendable {
    private struct Entries {
        var refs: [LinkID: (ref: String?, expiresAt: Int64)] = [:]
        /// The ids by the minute their link expires.
        var expiring: [Int64: [LinkID]] = [:]
        /// Links not held since the last `prune` because the book was full.
        var refused = 0
    }

    private let entries = Mutex(Entries())
    let limit: Int

    init(limit: Int = 500_000) { self.limit = limit }

    func ref(for id: LinkID) -> String? { entries.withLock { $0.refs[id]?.ref } }

    /// Holds `ref` (nil: the link is known to have none) of link `id` until `expiresAt`.
    func add(_ id: LinkID, ref: String?, expiresAt: Int64) {
        entries.withLock { Self.add(id, ref: ref, expiresAt: expiresAt, to: &$0, limit: limit) }
    }

    func add(_ found: [(id: LinkID, ref: String?, expiresAt: Int64)]) {
        entries.withLock { entries in
            for entry in found { Self.add(entry.id, ref: entry.ref, expiresAt: entry.expiresAt, to: &entries, limit: limit) }
        }
    }

    private static func add(_ id: LinkID, ref: String?, expiresAt: Int64, to entries: inout Entries, limit: Int) {
        if entries.refs[id] == nil, entries.refs.count >= limit {
            entries.refused += 1
            return
        }
        entries.refs[id] = (ref, expiresAt)
        entries.expiring[minute(of: expiresAt), default: []].append(id)
    }

    /// The ids of `ids` the book does not hold.
    func missing(_ ids: [LinkID]) -> [LinkID] { entries.withLock { entries in ids.filter { entries.refs[$0] == nil } } }

    /// Drops the links expired at `now` (those of the minutes that have passed); returns how many
    /// links were not held since the last call because the book was full.
    @discardableResult
    func prune(now: Int64) -> Int {
        entries.withLock { entries in
            let current = Self.minute(of: now)
            for minute in entries.expiring.keys.filter({ $0 < current }) {
                for id in entries.expiring.removeValue(forKey: minute) ?? [] {
                    // Held again since with a later expiry: it is filed under that minute too.
                    if let held = entries.refs[id], held.expiresAt <= now { entries.refs[id] = nil }
                }
            }
            defer { entries.refused = 0 }
            return entries.refused
        }
    }

    private static func minute(of time: Int64) -> Int64 { time >= 0 ? time / 60 : (time - 59) / 60 }

    var count: Int { entries.withLock { $0.refs.count } }
}
