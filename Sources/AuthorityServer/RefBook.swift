import AuthorityCore
import AuthorityStore
import Synchronization

/// The issuer's `ref` of every live link that has one, for `X-Authority-Ref` on forward-auth
/// answers without a read per check: filled at issue and at start (from the records), pruned
/// past each link's expiry. In fleet mode a link issued by another daemon is looked up at the
/// next activity flush after its first check, so its answers carry the header from then on.
final class RefBook: Sendable {
    private let refs = Mutex<[LinkID: (ref: String, expiresAt: Int64)]>([:])

    func ref(for id: LinkID) -> String? { refs.withLock { $0[id]?.ref } }

    func add(_ id: LinkID, ref: String, expiresAt: Int64) {
        refs.withLock { $0[id] = (ref, expiresAt) }
    }

    func add(_ found: [(id: LinkID, ref: String, expiresAt: Int64)]) {
        refs.withLock { refs in for entry in found { refs[entry.id] = (entry.ref, entry.expiresAt) } }
    }

    /// The ids of `ids` the book does not hold.
    func missing(_ ids: [LinkID]) -> [LinkID] { refs.withLock { refs in ids.filter { refs[$0] == nil } } }

    /// Drops the links expired at `now`.
    func prune(now: Int64) {
        refs.withLock { refs in refs = refs.filter { $0.value.expiresAt > now } }
    }

    var count: Int { refs.withLock { $0.count } }
}
