import AuthorityCore
import AuthorityStore

/// What changed in the revocation bundle's content (docs/revocation-bundle.md §3), serial by
/// serial, since the daemon started: what `?since=SERIAL` deltas are made of. Bounded: it keeps
/// the last `capacity` changed items; a base older than that is answered with a full bundle.
/// Value type, kept under `CurrentState`'s lock so that it always matches the state beside it.
struct RevocationJournal: Sendable {
    /// One serial's changes: ids added (true) or removed (false), rules set (a cutoff) or removed
    /// (nil). An entry with neither changed the epoch list only.
    struct Entry: Sendable {
        var serial: Int64
        var ids: [(LinkID, Bool)] = []
        var rules: [(String, Int64?)] = []

        var size: Int { max(1, ids.count + rules.count) }
    }

    /// Net changes from a base to now.
    struct Changes: Sendable {
        var removedIDs: [LinkID] = []
        var addedIDs: [LinkID] = []
        var removedRules: [String] = []
        var setRules: [BundleRule] = []
    }

    static let capacity = 65_536

    /// The content's serial now: the serial of the last change that changed the content.
    private(set) var serial: Int64
    /// The oldest serial a delta can start from.
    private(set) var start: Int64
    private var entries: [Entry] = []
    private var first = 0
    private var size = 0

    init(serial: Int64) {
        self.serial = serial
        start = serial
    }

    /// Records the changes of the write that brought the store to `serial`.
    mutating func record(_ entry: Entry) {
        serial = max(serial, entry.serial)
        if entry.size > Self.capacity {
            entries = []
            first = 0
            size = 0
            start = entry.serial
            return
        }
        entries.append(entry)
        size += entry.size
        while size > Self.capacity {
            size -= entries[first].size
            start = entries[first].serial
            first += 1
        }
        // Drop what was let go once it is most of the array (amortised: no copy per change).
        if first > 1_024, first * 2 > entries.count {
            entries.removeFirst(first)
            first = 0
        }
    }

    /// The net changes from the state of `base` to now; nil when no delta can be made from it
    /// (too old, from before the daemon started, or a serial that was never a state's).
    func changes(since base: Int64) -> Changes? {
        guard base >= start, base <= serial else { return nil }
        let live = entries[first...]
        guard base == start || live.contains(where: { $0.serial == base }) else { return nil }
        var ids: [LinkID: Bool] = [:]
        var rules: [String: Int64?] = [:]
        for entry in live where entry.serial > base {
            for (id, added) in entry.ids { ids[id] = added }
            for (prefix, cutoff) in entry.rules { rules[prefix] = .some(cutoff) }
        }
        var changes = Changes()
        for (id, added) in ids {
            if added { changes.addedIDs.append(id) } else { changes.removedIDs.append(id) }
        }
        for (prefix, cutoff) in rules {
            if let cutoff { changes.setRules.append(BundleRule(prefix: prefix, cutoff: cutoff)) } else {
                changes.removedRules.append(prefix)
            }
        }
        return changes
    }

    /// The entry for `change`, from the state it is about to change (read only, so that the index
    /// is never copied); nil when the bundle's content does not change (a retire mark raised, a
    /// revocation already in force, a rebuilt index equal to the old one).
    static func entry(for change: StoreChange, serial: Int64, before: StoreSnapshot) -> Entry? {
        var entry = Entry(serial: serial)
        switch change {
        case .everything:
            return nil
        case .keys(let ring, _):
            guard ring.sorted.map(\.epoch) != before.keyRing.sorted.map(\.epoch)
                || ring.sorted.map(\.status) != before.keyRing.sorted.map(\.status)
            else { return nil }
        case .revoked(.id(let id)):
            entry.ids = [(id, true)]
        case .revoked(let revocation):
            guard let rule = BundleRule(revocation) else { return nil }
            let old = before.revocations?.cutoff(prefix: rule.prefix) ?? .min
            guard rule.cutoff > old else { return nil }
            entry.rules = [(rule.prefix, rule.cutoff)]
        case .revocations(let index):
            let old = before.revocations ?? RevocationIndex()
            entry.ids = old.revokedIDs.subtracting(index.revokedIDs).map { ($0, false) }
                + index.revokedIDs.subtracting(old.revokedIDs).map { ($0, true) }
            let oldRules = Dictionary(old.rules.map { ($0.prefix, $0.cutoff) }, uniquingKeysWith: max)
            let newRules = Dictionary(index.rules.map { ($0.prefix, $0.cutoff) }, uniquingKeysWith: max)
            entry.rules = oldRules.keys.filter { newRules[$0] == nil }.map { ($0, nil) }
                + newRules.filter { oldRules[$0.key] != $0.value }.map { ($0.key, $0.value) }
            if entry.ids.isEmpty, entry.rules.isEmpty { return nil }
        }
        return entry
    }
}

extension BundleRule {
    /// The rule a prefix revocation makes; nil for a revocation by id.
    init?(_ revocation: Revocation) {
        switch revocation {
        case .id: return nil
        case .prefix(let prefix): self.init(prefix: prefix, cutoff: RevocationBundle.standingBlock)
        case .issuedBefore(let time, let prefix): self.init(prefix: prefix, cutoff: time)
        }
    }
}
