import AuthorityCore
import AuthorityStore
import Synchronization

/// The issuer's `ref` of live links, for `X-Authority-Ref` on forward-auth answers without a read
/// per check: filled at issue and at start (from the records, the latest expiries first), pruned
/// past each link's expiry. In fleet mode a link issued by another daemon is looked up at the next
/// activity flush after its first check, so its answers carry the header from then on.
///
/// Bounded: at most `limit` links with a ref. A new one past that takes the place of those that
/// expire soonest (counted, and logged at the flush). Links known to have no ref, not found, or looked up while the
/// book could not hold them are remembered apart (at most `limit` too, forgotten every
/// `absentFor` seconds or when full), so a fleet daemon asks the store about each at most once
/// in that time, not at every flush. Pruning visits only the minutes that have passed since the
/// last prune (the links are filed by the minute they expire), never the whole book under the
/// lock the checks take.
final class RefBook: Sendable {
    private struct Entries {
        var refs: [LinkID: (ref: String, expiresAt: Int64)] = [:]
        /// The ids by the minute their link expires; every minute below `pruned` is empty.
        var expiring: [Int64: [LinkID]] = [:]
        var pruned: Int64?
        var absent: Set<LinkID> = []
        var absentSince: Int64?
        /// Links with a ref not held since the last `prune` because the book was full: dropped for
        /// newer ones, or not taken in (they expire before every held one).
        var dropped = 0
    }

    private let entries = Mutex(Entries())
    let limit: Int
    let absentFor: Int64 = 600

    init(limit: Int = 500_000) { self.limit = limit }

    func ref(for id: LinkID) -> String? { entries.withLock { $0.refs[id]?.ref } }

    /// Holds `ref` of link `id` until `expiresAt`; nil: the link has none (remembered apart).
    func add(_ id: LinkID, ref: String?, expiresAt: Int64) {
        entries.withLock { Self.add(id, ref: ref, expiresAt: expiresAt, to: &$0, limit: limit) }
    }

    func add(_ found: [(id: LinkID, ref: String?, expiresAt: Int64)]) {
        entries.withLock { entries in
            for entry in found { Self.add(entry.id, ref: entry.ref, expiresAt: entry.expiresAt, to: &entries, limit: limit) }
        }
    }

    /// Remembers that `ids` were looked up and found without a ref to hold (no record, or expired).
    func noteAbsent(_ ids: [LinkID]) {
        entries.withLock { entries in for id in ids where entries.refs[id] == nil { Self.noteAbsent(id, in: &entries, limit: limit) } }
    }

    private static func add(_ id: LinkID, ref: String?, expiresAt: Int64, to entries: inout Entries, limit: Int) {
        guard let ref else { return noteAbsent(id, in: &entries, limit: limit) }
        if entries.refs[id] == nil, entries.refs.count >= limit {
            evictSoonest(from: &entries, before: expiresAt, limit: limit)
            guard entries.refs.count < limit else {
                entries.dropped += 1
                return noteAbsent(id, in: &entries, limit: limit)
            }
        }
        entries.refs[id] = (ref, expiresAt)
        entries.absent.remove(id)
        // A link expiring in a minute already pruned is filed under the next one to be pruned.
        let minute = max(Self.minute(of: expiresAt), entries.pruned ?? .min)
        entries.expiring[minute, default: []].append(id)
    }

    private static func noteAbsent(_ id: LinkID, in entries: inout Entries, limit: Int) {
        if entries.absent.count >= limit { entries.absent.removeAll(keepingCapacity: true) }
        entries.absent.insert(id)
    }

    /// Drops held links of the earliest expiry minute until there is room for one more, when
    /// that minute is not after `expiresAt`'s (a link that expires sooner than every held one is
    /// not worth the place of any).
    private static func evictSoonest(from entries: inout Entries, before expiresAt: Int64, limit: Int) {
        while entries.refs.count >= limit, let earliest = entries.expiring.keys.min(), earliest <= minute(of: expiresAt) {
            while entries.refs.count >= limit, let id = entries.expiring[earliest]?.popLast() {
                // Filed here but held again since with a later expiry: it stays (filed there too).
                if let held = entries.refs[id], minute(of: held.expiresAt) <= earliest {
                    entries.refs[id] = nil
                    entries.dropped += 1
                }
            }
            if entries.expiring[earliest]?.isEmpty ?? false { entries.expiring[earliest] = nil }
        }
    }

    /// The ids of `ids` the book neither holds nor remembers as without a ref.
    func missing(_ ids: [LinkID]) -> [LinkID] {
        entries.withLock { entries in ids.filter { entries.refs[$0] == nil && !entries.absent.contains($0) } }
    }

    /// Drops the links expired at `now` (those of the minutes passed since the last prune) and,
    /// every `absentFor` seconds, what it remembered as without a ref; returns how many links
    /// with a ref were not held since the last call because the book was full.
    @discardableResult
    func prune(now: Int64) -> Int {
        entries.withLock { entries in
            let current = Self.minute(of: now)
            let due: [Int64] =
                if let pruned = entries.pruned, current - pruned <= Int64(entries.expiring.count) {
                    pruned < current ? Array(pruned..<current) : []
                } else {
                    entries.expiring.keys.filter { $0 < current }
                }
            for minute in due {
                for id in entries.expiring.removeValue(forKey: minute) ?? [] {
                    // Held again since with a later expiry: it is filed under that minute too.
                    if let held = entries.refs[id], held.expiresAt <= now { entries.refs[id] = nil }
                }
            }
            entries.pruned = max(entries.pruned ?? current, current)
            if entries.absentSince.map({ now < $0 || now - $0 >= absentFor }) ?? true {
                entries.absent.removeAll(keepingCapacity: true)
                entries.absentSince = now
            }
            defer { entries.dropped = 0 }
            return entries.dropped
        }
    }

    private static func minute(of time: Int64) -> Int64 { time >= 0 ? time / 60 : (time - 59) / 60 }

    var count: Int { entries.withLock { $0.refs.count } }
}
