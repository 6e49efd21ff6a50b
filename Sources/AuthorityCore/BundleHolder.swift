/// What an edge verifier holds of the daemon's revocation state, and the link check it makes with
/// it (docs/revocation-bundle.md §6–§7). Value type; no clock (`now` is a parameter), no I/O.
public struct BundleHolder: Sendable {
    /// The state accepted last.
    public struct Held: Sendable {
        public var serial: Int64
        public var digest: [UInt8]
        public var content: BundleContent
        public var notAfter: Int64
        /// The content's rules as a trie: a lookup walks the path once, whatever their number.
        var rules: RevocationIndex

        init(statement: BundleStatement, content: BundleContent) {
            serial = statement.serial
            digest = statement.digest
            notAfter = statement.notAfter
            self.content = content
            rules = RevocationIndex(content.rules.map(\.revocation))
        }

        /// Binary search of the sorted ids (§3): about log2(N) comparisons, no allocation.
        public func isRevoked(id: LinkID) -> Bool {
            var low = 0
            var high = content.ids.count
            while low < high {
                let middle = (low + high) / 2
                let candidate = content.ids[middle]
                if candidate == id { return true }
                if candidate < id { low = middle + 1 } else { high = middle }
            }
            return false
        }

        func epoch(_ epoch: UInt64) -> BundleEpoch? {
            var low = 0
            var high = content.epochs.count
            while low < high {
                let middle = (low + high) / 2
                if content.epochs[middle].epoch == epoch { return content.epochs[middle] }
                if content.epochs[middle].epoch < epoch { low = middle + 1 } else { high = middle }
            }
            return nil
        }
    }

    /// What accepting an object did.
    public enum Acceptance: String, Sendable {
        /// The held state is the object's now (or, for freshness, its `not_after` moved forward).
        case ok
        /// A freshness object tells of a later serial: fetch `?since=<held serial>`.
        case newer
    }

    public private(set) var held: Held?

    public init() {}

    /// §6: accepts `object` at `now`, or throws the first failing check and changes nothing.
    /// `key` is the JWK set's key of the statement's epoch, nil when it has none or it is retired.
    @discardableResult
    public mutating func accept(_ object: BundleObject, key: PublicKey?, now: Int64) throws(BundleError) -> Acceptance {
        try object.checkSignature(key: key)
        let statement = object.statement
        if case .freshness = object.body {
            if let held {
                if statement.serial == held.serial, held.epoch(statement.epoch)?.status != .active {
                    throw .inactiveSigner(statement.epoch)
                }
                try Self.checkOrder(statement, held: held)
            }
            // Step 8 before `newer`: a stale statement vouches for nothing, not even a later serial.
            guard now < statement.notAfter else { throw .stale(notAfter: statement.notAfter) }
            guard let held, statement.serial == held.serial else { return .newer }
            self.held?.notAfter = max(held.notAfter, statement.notAfter)
            return .ok
        }
        if let held { try Self.checkOrder(statement, held: held) }
        let content: BundleContent
        switch object.body {
        case .full(let full):
            content = full
        case .delta(let changes):
            guard let held, changes.baseSerial == held.serial else {
                throw .baseMismatch(held: held?.serial, base: changes.baseSerial)
            }
            content = changes.applied(to: held.content)
        case .freshness:
            return .newer  // handled above
        }
        guard content.digest == statement.digest else { throw .digestMismatch }
        guard now < statement.notAfter else { throw .stale(notAfter: statement.notAfter) }
        var next = Held(statement: statement, content: content)
        if let held, held.serial == statement.serial { next.notAfter = max(next.notAfter, held.notAfter) }
        self.held = next
        return .ok
    }

    /// Step 5: never back to an older serial, never another digest under the same serial.
    private static func checkOrder(_ statement: BundleStatement, held: Held) throws(BundleError) {
        if statement.serial < held.serial || (statement.serial == held.serial && statement.digest != held.digest) {
            throw .rolledBack(held: held.serial, got: statement.serial)
        }
    }

    /// §7: the daemon's reason for steps 1–8, `stale_bundle` where the bundle cannot vouch, and
    /// `needs_daemon` for use-limited and password links.
    public func check(
        _ request: LinkRequest, keys: some VerificationKeys, now: Int64, verifier: LinkVerifier = LinkVerifier()
    ) -> EdgeVerdict {
        let ring = BundleKeys(keys: keys, held: held)
        let verdict = verifier.check(request, keys: ring, revocations: nil, now: now)
        guard verdict.reason == .ok, let link = verdict.link else { return EdgeVerdict(.link(verdict.reason), verdict) }
        guard let held, now < held.notAfter else { return EdgeVerdict(.staleBundle, verdict) }
        let grant = link.grant
        if held.isRevoked(id: grant.id) || held.rules.isBlocked(path: link.path, issuedAt: grant.issuedAt) {
            return EdgeVerdict(.link(.revoked), verdict)
        }
        if grant.flags.needsState { return EdgeVerdict(.needsDaemon, verdict) }
        return EdgeVerdict(.link(.ok), verdict)
    }
}

/// An edge's answer: a daemon reason, or one of the two only an edge gives.
public struct EdgeVerdict: Sendable {
    public enum Reason: Sendable, Equatable {
        case link(AuthorityCore.Reason)
        case staleBundle
        case needsDaemon

        public var code: String {
            switch self {
            case .link(let reason): reason.rawValue
            case .staleBundle: "stale_bundle"
            case .needsDaemon: "needs_daemon"
            }
        }
    }

    public var reason: Reason
    /// The link verifier's verdict for steps 1–7 (its decoded link, its `malformed` detail).
    public var steps: Verdict

    init(_ reason: Reason, _ steps: Verdict) {
        self.reason = reason
        self.steps = steps
    }

    public var isValid: Bool { reason == .link(.ok) }
}

/// Step 2 with a bundle: the JWK set's key, refused when the bundle lacks the epoch, retired when
/// either says so.
private struct BundleKeys<Keys: VerificationKeys>: VerificationKeys {
    let keys: Keys
    let held: BundleHolder.Held?

    func verificationKey(epoch: UInt64) -> (key: PublicKey, retired: Bool)? {
        guard let (key, retired) = keys.verificationKey(epoch: epoch) else { return nil }
        guard let held else { return (key, retired) }
        guard let state = held.epoch(epoch) else { return nil }
        return (key, retired || state.status == .retired)
    }
}
