/// One revocation, as the daemon records it.
public enum Revocation: Hashable, Sendable {
    /// One link, by id.
    case id(LinkID)
    /// Every link, for every request under this canonical path prefix (§6 prefix rule).
    case prefix(String)
    /// Links issued strictly before this time (Unix seconds), for requests under the prefix.
    case issuedBefore(Int64, prefix: String)
}

/// The revocation list in memory. A lookup walks the request path's segments once: its cost grows
/// with the path's depth, never with the number of revocations. Value type: the daemon builds the
/// next index and publishes it only after the revocation is durable.
public struct RevocationIndex: Sendable {
    private struct Node: Sendable {
        var children: [String: Node] = [:]
        /// Links issued before this time are revoked for this path and everything below it.
        var cutoffAtOrBelow: Int64 = .min
        /// The same, but only for paths strictly below this node (a prefix ending in `/`).
        var cutoffBelow: Int64 = .min

        mutating func insert(_ segments: ArraySlice<Substring>, strictlyBelow: Bool, cutoff: Int64) {
            guard let first = segments.first else {
                if strictlyBelow {
                    cutoffBelow = max(cutoffBelow, cutoff)
                } else {
                    cutoffAtOrBelow = max(cutoffAtOrBelow, cutoff)
                }
                return
            }
            children[String(first), default: Node()].insert(segments.dropFirst(), strictlyBelow: strictlyBelow, cutoff: cutoff)
        }
    }

    private var ids: Set<LinkID> = []
    private var root = Node()
    /// How many revocations were inserted (duplicates included).
    public private(set) var count = 0
    public private(set) var prefixCount = 0

    public init() {}

    public init(_ revocations: some Sequence<Revocation>) {
        for revocation in revocations { insert(revocation) }
    }

    public var idCount: Int { ids.count }

    /// Adds a revocation. Prefixes must be canonical paths (`Revocation` values built by the API
    /// layer are canonicalised before they get here).
    public mutating func insert(_ revocation: Revocation) {
        count += 1
        switch revocation {
        case .id(let id):
            ids.insert(id)
        case .prefix(let prefix):
            insert(prefix: prefix, cutoff: .max)
        case .issuedBefore(let time, let prefix):
            insert(prefix: prefix, cutoff: time)
        }
    }

    private mutating func insert(prefix: String, cutoff: Int64) {
        prefixCount += 1
        // "/" -> [""], "/a/b/" -> ["a", "b", ""]: a trailing "/" means "strictly below".
        var segments = prefix.dropFirst().split(separator: "/", omittingEmptySubsequences: false)
        let strictlyBelow = prefix.hasSuffix("/")
        if strictlyBelow, !segments.isEmpty { segments.removeLast() }
        root.insert(segments[...], strictlyBelow: strictlyBelow, cutoff: cutoff)
    }

    /// Whether a link with this id, issued at `issuedAt`, is revoked for a request to canonical `path`.
    public func isRevoked(id: LinkID, path: String, issuedAt: Int64) -> Bool {
        if !ids.isEmpty, ids.contains(id) { return true }
        if prefixCount == 0 { return false }
        let segments = path.dropFirst().split(separator: "/", omittingEmptySubsequences: false)
        var node = root
        var depth = 0
        while true {
            if issuedAt < node.cutoffAtOrBelow { return true }
            if depth < segments.count, issuedAt < node.cutoffBelow { return true }
            guard depth < segments.count, let child = node.children[String(segments[depth])] else { return false }
            node = child
            depth += 1
        }
    }
}
