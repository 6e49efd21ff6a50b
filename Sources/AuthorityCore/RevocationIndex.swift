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
/// next index and publishes it only after the revocation is durable. Nodes live in one flat array
/// and every walk is a loop, so no stored prefix, however deep, can exhaust the stack.
public struct RevocationIndex: Sendable {
    private struct Node: Sendable {
        /// Child node positions in `nodes`, by segment.
        var children: [String: Int] = [:]
        /// Links issued before this time are revoked for this path and everything below it.
        var cutoffAtOrBelow: Int64 = .min
        /// The same, but only for paths strictly below this node (a prefix ending in `/`).
        var cutoffBelow: Int64 = .min
    }

    private var ids: Set<LinkID> = []
    /// `nodes[0]` is the root, `/`.
    private var nodes = [Node()]
    /// How many revocations were inserted (duplicates included).
    public private(set) var count = 0
    public private(set) var prefixCount = 0

    public init() {}

    public init(_ revocations: some Sequence<Revocation>) {
        for revocation in revocations { insert(revocation) }
    }

    public var idCount: Int { ids.count }

    /// The revoked ids (the set itself: no copy is made).
    public var revokedIDs: Set<LinkID> { ids }

    /// The cutoff in force for exactly `prefix` (canonical), nil when no rule names it: what one
    /// insertion left behind, for the revocation bundle's deltas.
    public func cutoff(prefix: String) -> Int64? {
        var segments = prefix.utf8.dropFirst().split(separator: Canonical.slash, omittingEmptySubsequences: false)
        let strictlyBelow = prefix.utf8.last == Canonical.slash
        if strictlyBelow, !segments.isEmpty { segments.removeLast() }
        var position = 0
        for segment in segments {
            guard let child = nodes[position].children[String(decoding: segment, as: UTF8.self)] else { return nil }
            position = child
        }
        let cutoff = strictlyBelow ? nodes[position].cutoffBelow : nodes[position].cutoffAtOrBelow
        return cutoff > .min ? cutoff : nil
    }

    /// The prefix rules in force, one per prefix: the latest cutoff of every revocation under that
    /// exact prefix, `Int64.max` for a standing block (docs/revocation-bundle.md §3). Unordered.
    public var rules: [BundleRule] {
        var rules: [BundleRule] = []
        // (node, its path): "/a/b" for the node of segments a, b; "" for the root.
        var pending: [(Int, String)] = [(0, "")]
        while let (position, path) = pending.popLast() {
            let node = nodes[position]
            if node.cutoffAtOrBelow > .min { rules.append(BundleRule(prefix: path, cutoff: node.cutoffAtOrBelow)) }
            if node.cutoffBelow > .min { rules.append(BundleRule(prefix: path + "/", cutoff: node.cutoffBelow)) }
            for (segment, child) in node.children { pending.append((child, path + "/" + segment)) }
        }
        return rules
    }

    /// Adds a revocation. Prefixes must be canonical paths (`Revocation` values built by the API
    /// layer are canonicalised before they get here). A `.prefix` is a standing block: it revokes
    /// every link under it, whenever issued.
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
        var segments = prefix.utf8.dropFirst().split(separator: Canonical.slash, omittingEmptySubsequences: false)
        let strictlyBelow = prefix.utf8.last == Canonical.slash
        if strictlyBelow, !segments.isEmpty { segments.removeLast() }
        var position = 0
        for segment in segments {
            let key = String(decoding: segment, as: UTF8.self)
            if let child = nodes[position].children[key] {
                position = child
            } else {
                nodes.append(Node())
                nodes[position].children[key] = nodes.count - 1
                position = nodes.count - 1
            }
        }
        if strictlyBelow {
            nodes[position].cutoffBelow = max(nodes[position].cutoffBelow, cutoff)
        } else {
            nodes[position].cutoffAtOrBelow = max(nodes[position].cutoffAtOrBelow, cutoff)
        }
    }

    /// Whether a link with this id, issued at `issuedAt`, is revoked for a request to canonical `path`.
    public func isRevoked(id: LinkID, path: String, issuedAt: Int64) -> Bool {
        if !ids.isEmpty, ids.contains(id) { return true }
        return isCut(path: path, issuedAt: issuedAt)
    }

    /// Whether a link issued at `now` for canonical `path` would be revoked from birth: a standing
    /// block (`.prefix`) or an `.issuedBefore` rule later than `now` covers the path.
    public func isBlocked(path: String, issuedAt now: Int64) -> Bool { isCut(path: path, issuedAt: now) }

    private func isCut(path: String, issuedAt: Int64) -> Bool {
        if prefixCount == 0 { return false }
        let segments = path.utf8.dropFirst().split(separator: Canonical.slash, omittingEmptySubsequences: false)
        var node = nodes[0]
        var depth = 0
        while true {
            if issuedAt < node.cutoffAtOrBelow { return true }
            if depth < segments.count, issuedAt < node.cutoffBelow { return true }
            guard depth < segments.count,
                let child = node.children[String(decoding: segments[depth], as: UTF8.self)]
            else { return false }
            node = nodes[child]
            depth += 1
        }
    }
}
