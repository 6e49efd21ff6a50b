import CSodium

/// The revocation bundle of docs/revocation-bundle.md: what an offline verifier needs beyond the
/// link and the public keys. Encoding and decoding only; no clock, no I/O. The daemon writes it;
/// `AuthorityEdge` (and any verifier) reads it.
public enum RevocationBundle {
    /// The first line of the signed statement (§1).
    public static let context = "authority-bundle-v1"
    /// The binary form's magic (§2.1).
    public static let magic = Array("AUBUNDL1".utf8)
    public static let headerByteCount = 137
    /// The cutoff of a standing prefix block (§3).
    public static let standingBlock = Int64.max
    public static let binaryMediaType = "application/vnd.authority.bundle"

    /// SHA-256 (libsodium), for the content digest.
    public static func sha256(_ bytes: [UInt8]) -> [UInt8] {
        Sodium.ensureInitialised()
        var digest = [UInt8](repeating: 0, count: Int(crypto_hash_sha256_BYTES))
        _ = bytes.withUnsafeBufferPointer { input in
            digest.withUnsafeMutableBufferPointer { crypto_hash_sha256($0.baseAddress!, input.baseAddress, UInt64(input.count)) }
        }
        return digest
    }
}

/// A refusal while reading or accepting a bundle object (§6), by its stable code.
public enum BundleError: Error, Equatable, Sendable, CustomStringConvertible {
    case badFormat(String)
    case unknownKey(UInt64)
    case badSignature
    case inactiveSigner(UInt64)
    case rolledBack(held: Int64, got: Int64)
    /// `held` is nil when nothing is held.
    case baseMismatch(held: Int64?, base: Int64)
    case digestMismatch
    case stale(notAfter: Int64)

    public var code: String {
        switch self {
        case .badFormat: "bad_format"
        case .unknownKey: "unknown_key"
        case .badSignature: "bad_signature"
        case .inactiveSigner: "inactive_signer"
        case .rolledBack: "rolled_back"
        case .baseMismatch: "base_mismatch"
        case .digestMismatch: "digest_mismatch"
        case .stale: "stale"
        }
    }

    public var description: String {
        switch self {
        case .badFormat(let why): "bad_format: \(why)"
        case .unknownKey(let epoch): "unknown_key: no usable key for epoch \(epoch)"
        case .badSignature: "bad_signature: the signature does not verify over the statement"
        case .inactiveSigner(let epoch): "inactive_signer: epoch \(epoch) is not the active epoch of the state"
        case .rolledBack(let held, let got): "rolled_back: serial \(got) after \(held)"
        case .baseMismatch(let held?, let base): "base_mismatch: the delta is from serial \(base), the state held is \(held)"
        case .baseMismatch(nil, let base): "base_mismatch: the delta is from serial \(base), and no state is held"
        case .digestMismatch: "digest_mismatch: the content does not hash to the signed digest"
        case .stale(let notAfter): "stale: not after \(notAfter)"
        }
    }
}

/// §1: the six signed lines.
public struct BundleStatement: Sendable, Equatable {
    public var epoch: UInt64
    public var serial: Int64
    public var issuedAt: Int64
    public var notAfter: Int64
    /// SHA-256 of the content (§3), 32 bytes.
    public var digest: [UInt8]

    public init(epoch: UInt64, serial: Int64, issuedAt: Int64, notAfter: Int64, digest: [UInt8]) {
        self.epoch = epoch
        self.serial = serial
        self.issuedAt = issuedAt
        self.notAfter = notAfter
        self.digest = digest
    }

    /// The exact bytes signed.
    public var message: [UInt8] {
        Array(
            "\(RevocationBundle.context)\nepoch=\(epoch)\nserial=\(serial)\nissued_at=\(issuedAt)\nnot_after=\(notAfter)\ndigest=\(Base64URL.encode(digest))\n"
                .utf8)
    }
}

/// One epoch of the bundle's list.
public struct BundleEpoch: Sendable, Hashable {
    public var epoch: UInt64
    public var status: KeyStatus

    public init(epoch: UInt64, status: KeyStatus) {
        self.epoch = epoch
        self.status = status
    }

    var stateByte: UInt8 {
        switch status {
        case .active: 1
        case .verifyOnly: 2
        case .retired: 3
        }
    }

    init(epoch: UInt64, stateByte: UInt8) throws(BundleError) {
        self.epoch = epoch
        switch stateByte {
        case 1: status = .active
        case 2: status = .verifyOnly
        case 3: status = .retired
        default: throw .badFormat("epoch \(epoch) has state \(stateByte)")
        }
    }
}

/// A prefix rule (§3): links issued before `cutoff` are revoked for paths under `prefix`;
/// `RevocationBundle.standingBlock` revokes them whenever issued.
public struct BundleRule: Sendable, Hashable {
    public var prefix: String
    public var cutoff: Int64

    public init(prefix: String, cutoff: Int64) {
        self.prefix = prefix
        self.cutoff = cutoff
    }

    public var revocation: Revocation {
        cutoff == RevocationBundle.standingBlock ? .prefix(prefix) : .issuedBefore(cutoff, prefix: prefix)
    }

    /// Bytewise order of prefixes (§3).
    static func ordered(_ lhs: String, _ rhs: String) -> Bool { lhs.utf8.lexicographicallyPrecedes(rhs.utf8) }

    /// §3: a prefix is a canonical path, its own canonical form (docs/link-format.md §3). Both
    /// readers refuse anything else, so that every verifier reads the same rule and the JSON twin,
    /// written without escaping, stays JSON.
    public static func checkedPrefix(_ text: String) throws(BundleError) -> String {
        guard (try? canonicalPath(text)) == text else { throw .badFormat("a prefix that is not a canonical path") }
        return text
    }
}

/// The content of a state (§3): its digest is what the statement signs.
public struct BundleContent: Sendable, Equatable {
    public var epochs: [BundleEpoch]
    public var rules: [BundleRule]
    public var ids: [LinkID]

    /// Sorts what it is given (epochs, rules by prefix bytes, ids), as the format requires.
    public init(epochs: [BundleEpoch], rules: [BundleRule], ids: [LinkID]) {
        self.epochs = epochs.sorted { $0.epoch < $1.epoch }
        self.rules = rules.sorted { BundleRule.ordered($0.prefix, $1.prefix) }
        self.ids = ids.sorted()
    }

    /// The state of a key ring and a revocation index.
    public init(keyRing: KeyRing, revocations: RevocationIndex?) {
        self.init(
            epochs: keyRing.sorted.map { BundleEpoch(epoch: $0.epoch, status: $0.status) },
            rules: revocations?.rules ?? [], ids: revocations.map { Array($0.revokedIDs) } ?? [])
    }

    public func encoded() -> [UInt8] {
        var writer = BundleWriter()
        writer.epochs(epochs)
        writer.count(rules.count)
        for rule in rules { writer.rule(rule) }
        writer.ids(ids)
        return writer.bytes
    }

    public var digest: [UInt8] { RevocationBundle.sha256(encoded()) }
}

/// A delta's changes (§4).
public struct BundleChanges: Sendable, Equatable {
    public var baseSerial: Int64
    public var epochs: [BundleEpoch]
    public var removedRules: [String]
    public var setRules: [BundleRule]
    public var removedIDs: [LinkID]
    public var addedIDs: [LinkID]

    public init(
        baseSerial: Int64, epochs: [BundleEpoch], removedRules: [String], setRules: [BundleRule], removedIDs: [LinkID],
        addedIDs: [LinkID]
    ) {
        self.baseSerial = baseSerial
        self.epochs = epochs.sorted { $0.epoch < $1.epoch }
        self.removedRules = removedRules.sorted(by: BundleRule.ordered)
        self.setRules = setRules.sorted { BundleRule.ordered($0.prefix, $1.prefix) }
        self.removedIDs = removedIDs.sorted()
        self.addedIDs = addedIDs.sorted()
    }

    public var isEmpty: Bool { removedRules.isEmpty && setRules.isEmpty && removedIDs.isEmpty && addedIDs.isEmpty }

    /// Step 3 of §4: the content after the changes.
    public func applied(to base: BundleContent) -> BundleContent {
        var rules = Dictionary(base.rules.map { ($0.prefix, $0.cutoff) }, uniquingKeysWith: { $1 })
        for prefix in removedRules { rules[prefix] = nil }
        for rule in setRules { rules[rule.prefix] = rule.cutoff }
        var content = BundleContent(epochs: epochs, rules: rules.map { BundleRule(prefix: $0.key, cutoff: $0.value) }, ids: [])
        content.ids = Self.merged(base.ids, removing: removedIDs, adding: addedIDs)
        return content
    }

    /// `base` without `removed`, then with `added` (removals first, as step 3 says): all three
    /// sorted and unique, so one pass keeps the result sorted and unique with no sort at all (a
    /// delta on 10^6 ids costs a copy, not a sort).
    static func merged(_ base: [LinkID], removing removed: [LinkID], adding added: [LinkID]) -> [LinkID] {
        if removed.isEmpty, added.isEmpty { return base }
        var out: [LinkID] = []
        out.reserveCapacity(base.count + added.count)
        var r = 0
        var a = 0
        for id in base {
            while r < removed.count, removed[r] < id { r += 1 }
            while a < added.count, added[a] < id {
                out.append(added[a])
                a += 1
            }
            if a < added.count, added[a] == id {
                // Added again (whether or not it was also removed): present once.
                a += 1
            } else if r < removed.count, removed[r] == id {
                continue
            }
            out.append(id)
        }
        out += added[a...]
        return out
    }

    func encoded() -> [UInt8] {
        var writer = BundleWriter()
        writer.u64(UInt64(baseSerial))
        writer.epochs(epochs)
        writer.count(removedRules.count)
        for prefix in removedRules { writer.prefix(prefix) }
        writer.count(setRules.count)
        for rule in setRules { writer.rule(rule) }
        writer.ids(removedIDs)
        writer.ids(addedIDs)
        return writer.bytes
    }
}

/// One object of the format: a statement, its signature and a body (§2).
public struct BundleObject: Sendable, Equatable {
    public enum Body: Sendable, Equatable {
        case full(BundleContent)
        case delta(BundleChanges)
        case freshness
    }

    public var statement: BundleStatement
    public var signature: [UInt8]
    public var body: Body

    public init(statement: BundleStatement, signature: [UInt8], body: Body) {
        self.statement = statement
        self.signature = signature
        self.body = body
    }

    /// Signs `statement` with `key` (the key of `statement.epoch`).
    public static func signed(_ statement: BundleStatement, body: Body, key: SigningKey) -> BundleObject {
        BundleObject(statement: statement, signature: key.sign(statement.message), body: body)
    }

    public var kind: UInt8 {
        switch body {
        case .full: 1
        case .delta: 2
        case .freshness: 3
        }
    }

    public var kindName: String {
        switch body {
        case .full: "full"
        case .delta: "delta"
        case .freshness: "freshness"
        }
    }

    /// The binary form (§2.1).
    public func binary() -> [UInt8] {
        var bytes = binaryHeader()
        switch body {
        case .full(let content): bytes += content.encoded()
        case .delta(let changes): bytes += changes.encoded()
        case .freshness: break
        }
        return bytes
    }

    /// The first 137 bytes: magic, kind, statement, signature. A full bundle's body is its
    /// content's `encoded()`, which the daemon writes once per serial.
    public func binaryHeader() -> [UInt8] {
        var writer = BundleWriter()
        writer.bytes = RevocationBundle.magic
        writer.bytes.append(kind)
        writer.u64(statement.epoch)
        writer.u64(UInt64(statement.serial))
        writer.u64(UInt64(bitPattern: statement.issuedAt))
        writer.u64(UInt64(bitPattern: statement.notAfter))
        writer.bytes += statement.digest
        writer.bytes += signature
        return writer.bytes
    }

    /// Reads the binary form, checking every rule of §2–§4 (`bad_format`); not the signature.
    public init(binary bytes: [UInt8]) throws(BundleError) {
        var reader = BundleReader(bytes)
        guard try reader.take(8) == RevocationBundle.magic else { throw .badFormat("not a bundle (magic)") }
        let kind = try reader.u8()
        let epoch = try reader.u64()
        let serial = try reader.u64()
        let issuedAt = Int64(bitPattern: try reader.u64())
        let notAfter = Int64(bitPattern: try reader.u64())
        let digest = try reader.take(32)
        let signature = try reader.take(64)
        guard epoch >= 1, epoch <= UInt64(Int64.max) else { throw .badFormat("epoch \(epoch) out of range") }
        guard serial >= 1, serial <= UInt64(Int64.max) else { throw .badFormat("serial \(serial) out of range") }
        guard issuedAt >= 0, notAfter >= 0 else { throw .badFormat("negative time") }
        statement = BundleStatement(epoch: epoch, serial: Int64(serial), issuedAt: issuedAt, notAfter: notAfter, digest: digest)
        self.signature = signature
        switch kind {
        case 1:
            body = .full(try reader.content())
        case 2:
            body = .delta(try reader.changes())
        case 3:
            body = .freshness
        default:
            throw .badFormat("kind \(kind)")
        }
        guard reader.atEnd else { throw .badFormat("\(reader.remaining) bytes after the body") }
    }

    /// Steps 2–4 of §6: the signature under the JWK set's key, and (for a full bundle or delta) the
    /// signer active in the new epoch list. `key` is nil when the set has no usable key.
    public func checkSignature(key: PublicKey?) throws(BundleError) {
        guard let key else { throw .unknownKey(statement.epoch) }
        guard key.isValidSignature(signature, for: statement.message) else { throw .badSignature }
        let epochs: [BundleEpoch]
        switch body {
        case .full(let content): epochs = content.epochs
        case .delta(let changes): epochs = changes.epochs
        case .freshness: return
        }
        guard epochs.contains(BundleEpoch(epoch: statement.epoch, status: .active)) else {
            throw .inactiveSigner(statement.epoch)
        }
    }
}
