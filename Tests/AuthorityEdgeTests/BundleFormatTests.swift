import AuthorityCore
import AuthorityEdge
import AuthorityTesting
import Foundation
import Testing

/// Signed objects for the format tests: epoch 7 (the fixed key) active, 6 verify-only, 9 a key
/// no JWK set here knows.
enum Sample {
    static let t0 = Fixtures.issuedAt
    static let keys: [UInt64: SigningKey] = [
        6: SigningKey.fromSeed(Array(0x40..<0x60))!, 7: Fixtures.key, 9: SigningKey.fromSeed(Array(0xA0..<0xC0))!,
    ]
    static let epochs = [BundleEpoch(epoch: 6, status: .verifyOnly), BundleEpoch(epoch: 7, status: .active)]
    static let content = BundleContent(
        epochs: epochs,
        rules: [BundleRule(prefix: "/a/", cutoff: RevocationBundle.standingBlock), BundleRule(prefix: "/b", cutoff: t0 - 10)],
        ids: [Fixtures.id(1), Fixtures.id(2)])
    /// From `content` to the state of serial 12.
    static let changes = BundleChanges(
        baseSerial: 10, epochs: epochs, removedRules: ["/b"], setRules: [BundleRule(prefix: "/c", cutoff: t0)],
        removedIDs: [Fixtures.id(1)], addedIDs: [Fixtures.id(3)])

    /// The JWK set of epochs 6 and 7.
    static var jwks: JSONWebKeys { JSONWebKeys([6: (keys[6]!.publicKey, false), 7: (keys[7]!.publicKey, false)]) }

    /// `body` under a statement of `serial`, issued at `at`, good for 300 s, signed by `epoch`.
    static func object(
        _ body: BundleObject.Body, serial: Int64, digest: [UInt8], epoch: UInt64 = 7, at: Int64 = t0
    ) -> BundleObject {
        let statement = BundleStatement(epoch: epoch, serial: serial, issuedAt: at, notAfter: at + 300, digest: digest)
        return BundleObject.signed(statement, body: body, key: keys[epoch]!)
    }

    static func full(_ content: BundleContent, serial: Int64 = 10, epoch: UInt64 = 7, at: Int64 = t0) -> BundleObject {
        object(.full(content), serial: serial, digest: content.digest, epoch: epoch, at: at)
    }

    static var delta: BundleObject { object(.delta(changes), serial: 12, digest: changes.applied(to: content).digest, at: t0 + 60) }
    static var freshness: BundleObject { object(.freshness, serial: 10, digest: content.digest, at: t0 + 100) }

    /// A list order the format refuses, in `object`'s body, kept as given (the initialisers sort).
    static func unordered(_ edit: (inout BundleContent) -> Void) -> BundleObject {
        var edited = content
        edit(&edited)
        return object(.full(edited), serial: 10, digest: RevocationBundle.sha256(edited.encoded()))
    }

    static func unordered(_ edit: (inout BundleChanges) -> Void) -> BundleObject {
        var edited = changes
        edit(&edited)
        return object(.delta(edited), serial: 12, digest: content.digest)
    }

    /// The code of the refusal of reading `bytes` in binary, nil when they parse.
    static func binaryRefusal(_ bytes: [UInt8]) -> BundleError? {
        do {
            _ = try BundleObject(binary: bytes)
            return nil
        } catch { return error }
    }

    static func jsonRefusal(_ text: String) -> BundleError? {
        do {
            _ = try BundleObject(json: Data(text.utf8))
            return nil
        } catch { return error }
    }
}

/// docs/revocation-bundle.md §2–§4: both encodings, and what they refuse.
@Suite struct BundleEncodingTests {
    static let kinds = [("full", Sample.full(Sample.content)), ("delta", Sample.delta), ("freshness", Sample.freshness)]

    @Test func binaryRoundTripsEveryKind() throws {
        for (name, object) in Self.kinds {
            #expect(try BundleObject(binary: object.binary()) == object, "\(name)")
        }
        let empty = Sample.full(BundleContent(epochs: [BundleEpoch(epoch: 7, status: .active)], rules: [], ids: []))
        #expect(try BundleObject(binary: empty.binary()) == empty)
    }

    /// The header at the offsets of §2.1, and a full bundle's digest over the bytes after it.
    @Test func binaryHeaderIsTheDocumentedLayout() {
        let object = Sample.full(Sample.content, serial: 0x0102_0304_0506_0708)
        let bytes = object.binary()
        func field(_ offset: Int) -> UInt64 { bytes[offset..<offset + 8].reduce(0) { $0 << 8 | UInt64($1) } }
        #expect(Array(bytes.prefix(8)) == Array("AUBUNDL1".utf8))
        #expect(bytes[8] == 1 && field(9) == 7 && field(17) == 0x0102_0304_0506_0708)
        #expect(field(25) == UInt64(Sample.t0) && field(33) == UInt64(Sample.t0 + 300))
        #expect(Array(bytes[41..<73]) == object.statement.digest && Array(bytes[73..<137]) == object.signature)
        #expect(RevocationBundle.sha256(Array(bytes[137...])) == object.statement.digest)
        #expect(Sample.delta.binary()[8] == 2 && Sample.freshness.binary().count == 137 && Sample.freshness.binary()[8] == 3)
    }

    @Test func jsonTwinRoundTripsEveryKind() throws {
        for (name, object) in Self.kinds {
            #expect(try BundleObject(json: Data(object.json().utf8)) == object, "\(name)")
        }
    }

    /// Each kind has exactly the members of §2.2.
    @Test func jsonTwinHasTheDocumentedMembers() throws {
        let common: Set = ["format", "kind", "epoch", "serial", "issued_at", "not_after", "digest", "signature"]
        let added: [String: Set<String>] = [
            "full": ["epochs", "rules", "ids"],
            "delta": ["base_serial", "epochs", "removed_rules", "set_rules", "removed_ids", "added_ids"], "freshness": [],
        ]
        for (name, object) in Self.kinds {
            let parsed = try #require(try JSONSerialization.jsonObject(with: Data(object.json().utf8)) as? [String: Any])
            #expect(Set(parsed.keys) == common.union(added[name]!), "\(name)")
            #expect(parsed["kind"] as? String == name)
        }
        let rules = try #require(
            (try JSONSerialization.jsonObject(with: Data(Sample.full(Sample.content).json().utf8)) as? [String: Any])?["rules"]
                as? [[String: Any]])
        #expect(rules.first?["issued_before"] is NSNull, "a standing block is null")
    }

    /// Every prefix of a full bundle and of a delta is refused as bad_format, none traps.
    @Test(arguments: [("full", Sample.full(Sample.content).binary()), ("delta", Sample.delta.binary())])
    func everyTruncationIsBadFormat(_ name: String, _ bytes: [UInt8]) {
        for length in 0..<bytes.count {
            #expect(Sample.binaryRefusal(Array(bytes.prefix(length)))?.code == "bad_format", "\(name), \(length) bytes")
        }
        #expect(Sample.binaryRefusal(bytes + [0])?.code == "bad_format", "\(name) with a byte too many")
    }

    /// A count of 2^32 − 1 is refused by the count itself (its message names it), before any list
    /// is reserved: reserving that many ids or epochs would ask for tens of gigabytes.
    @Test func aHugeCountIsBadFormatWithoutAllocating() {
        let bytes = Sample.full(Sample.content).binary()
        let rules = 137 + 4 + 9 * Sample.content.epochs.count
        let ids = rules + 4 + Sample.content.rules.reduce(0) { $0 + 10 + $1.prefix.utf8.count }
        #expect(Array(bytes[ids..<ids + 4]) == [0, 0, 0, 2], "the offsets of §3")
        let delta = Sample.delta.binary()
        for (name, base, offset) in [("epochs", bytes, 137), ("rules", bytes, rules), ("ids", bytes, ids), ("delta epochs", delta, 145)] {
            var huge = base
            huge.replaceSubrange(offset..<offset + 4, with: [0xFF, 0xFF, 0xFF, 0xFF])
            let refusal = Sample.binaryRefusal(huge)
            #expect(refusal?.code == "bad_format" && "\(refusal!)".contains("4294967295"), "\(name): \(String(describing: refusal))")
        }
    }

    static let misordered: [(String, BundleObject)] = [
        ("epochs descending", Sample.unordered { (c: inout BundleContent) in c.epochs.reverse() }),
        ("an epoch twice", Sample.unordered { (c: inout BundleContent) in c.epochs.insert(c.epochs[0], at: 0) }),
        ("rules descending", Sample.unordered { (c: inout BundleContent) in c.rules.reverse() }),
        ("a rule twice", Sample.unordered { (c: inout BundleContent) in c.rules.append(c.rules[1]) }),
        ("a prefix after a longer one", Sample.unordered { (c: inout BundleContent) in c.rules = [BundleRule(prefix: "/a/", cutoff: 1), BundleRule(prefix: "/a", cutoff: 1)] }),
        ("ids descending", Sample.unordered { (c: inout BundleContent) in c.ids.reverse() }),
        ("an id twice", Sample.unordered { (c: inout BundleContent) in c.ids.append(c.ids[1]) }),
        ("two active epochs", Sample.unordered { (c: inout BundleContent) in c.epochs[0].status = .active }),
        ("a delta's epochs descending", Sample.unordered { (d: inout BundleChanges) in d.epochs.reverse() }),
        ("removed rules descending", Sample.unordered { (d: inout BundleChanges) in d.removedRules = ["/b", "/a"] }),
        ("a removed rule twice", Sample.unordered { (d: inout BundleChanges) in d.removedRules = ["/b", "/b"] }),
        ("set rules descending", Sample.unordered { (d: inout BundleChanges) in d.setRules.insert(BundleRule(prefix: "/d", cutoff: 1), at: 0) }),
        ("a set rule twice", Sample.unordered { (d: inout BundleChanges) in d.setRules.append(d.setRules[0]) }),
        ("removed ids descending", Sample.unordered { (d: inout BundleChanges) in d.removedIDs = [Fixtures.id(2), Fixtures.id(1)] }),
        ("an added id twice", Sample.unordered { (d: inout BundleChanges) in d.addedIDs.append(d.addedIDs[0]) }),
    ]

    @Test func listsOutOfOrderOrRepeatedAreBadFormatInBothForms() {
        for (name, object) in Self.misordered {
            #expect(Sample.binaryRefusal(object.binary())?.code == "bad_format", "binary: \(name)")
            #expect(Sample.jsonRefusal(object.json())?.code == "bad_format", "JSON: \(name)")
        }
    }

    /// §3: a prefix is a canonical path, so its JSON needs no escaping and every verifier reads
    /// the same rule. Anything else is bad_format in both forms.
    @Test(arguments: ["a/", "/a//b", "/a/../b", "/a/./b", "/a b", "/a%2fb", "/a%41", "/caf\u{E9}", "/a\\b", "/a\"b", "/a\u{1}"])
    func prefixesThatAreNotCanonicalPathsAreBadFormat(_ prefix: String) {
        let object = Sample.unordered { (c: inout BundleContent) in c.rules = [BundleRule(prefix: prefix, cutoff: 1)] }
        #expect(Sample.binaryRefusal(object.binary())?.code == "bad_format", "binary: \(prefix)")
        #expect(Sample.jsonRefusal(object.json())?.code == "bad_format", "JSON: \(prefix)")
        let removed = Sample.unordered { (d: inout BundleChanges) in d.removedRules = [prefix] }
        #expect(Sample.binaryRefusal(removed.binary())?.code == "bad_format", "binary, removed: \(prefix)")
        #expect(Sample.jsonRefusal(removed.json())?.code == "bad_format", "JSON, removed: \(prefix)")
    }

    @Test(arguments: ["/", "/a", "/a/", "/a/b%20c/", "/~x/-._/", "/%C3%A9"])
    func canonicalPrefixesAreRead(_ prefix: String) throws {
        let object = Sample.unordered { (c: inout BundleContent) in c.rules = [BundleRule(prefix: prefix, cutoff: 1)] }
        #expect(try BundleObject(binary: object.binary()) == object)
        #expect(try BundleObject(json: Data(object.json().utf8)) == object)
    }

    /// §2.2: an integer from −(2^53 − 1) to 2^53 − 1, written as one; nothing else reads as a number.
    @Test(arguments: ["10.0", "1e1", "true", "\"10\"", "null", "-1", "0", "9007199254740992", "[10]"])
    func jsonNumbersAreExactIntegers(_ serial: String) throws {
        let text = Sample.full(Sample.content).json()
        let edited = text.replacingOccurrences(of: "\"serial\":10,", with: "\"serial\":\(serial),")
        #expect(edited != text)
        #expect(Sample.jsonRefusal(edited)?.code == "bad_format", "serial \(serial)")
    }

    @Test func theLargestSafeIntegerIsRead() throws {
        let text = Sample.full(Sample.content).json()
        let edited = text.replacingOccurrences(of: "\"serial\":10,", with: "\"serial\":9007199254740991,")
        #expect(try BundleObject(json: Data(edited.utf8)).statement.serial == 9_007_199_254_740_991)
    }
}

/// The daemon's revocation index as bundle rules (§3), and the edge's lookup against the daemon's.
@Suite struct BundleRuleTests {
    @Test func rulesAreExactlyTheRevocationsInserted() {
        let index = RevocationIndex([
            .id(Fixtures.id(1)), .id(Fixtures.id(2)), .id(Fixtures.id(1)),
            .prefix("/a/"), .issuedBefore(50, prefix: "/a"), .issuedBefore(100, prefix: "/a"), .issuedBefore(70, prefix: "/a"),
            .issuedBefore(200, prefix: "/b/c/"), .issuedBefore(300, prefix: "/b/c/"), .issuedBefore(250, prefix: "/b/c/"),
            .issuedBefore(10, prefix: "/"), .prefix("/"), .issuedBefore(20, prefix: "/"),
            .issuedBefore(20, prefix: "/d"), .prefix("/d"), .issuedBefore(30, prefix: "/d"), .prefix("/e"), .issuedBefore(5, prefix: "/e"),
            .issuedBefore(7, prefix: "/f%20g/h"),
        ])
        let rules = index.rules
        #expect(Set(index.revokedIDs) == [Fixtures.id(1), Fixtures.id(2)])
        #expect(rules.count == Set(rules).count, "one rule per prefix")
        #expect(Set(rules) == [
            BundleRule(prefix: "/a/", cutoff: .max), BundleRule(prefix: "/a", cutoff: 100), BundleRule(prefix: "/b/c/", cutoff: 300),
            BundleRule(prefix: "/", cutoff: .max), BundleRule(prefix: "/d", cutoff: .max), BundleRule(prefix: "/e", cutoff: .max),
            BundleRule(prefix: "/f%20g/h", cutoff: 7),
        ])
        #expect(RevocationIndex().rules.isEmpty && RevocationIndex([.id(Fixtures.id(1))]).rules.isEmpty)
    }

    /// For random indexes, the edge's answer for a real link (its id, its path, its issue time)
    /// is the daemon index's: the bundle carries every revocation and nothing more.
    @Test func theEdgeAgreesWithTheDaemonsIndex() throws {
        var random = SplitMix64(seed: 15)
        var outcomes: [Bool: Int] = [:]
        for _ in 0..<40 {
            var index = RevocationIndex()
            for _ in 0..<Int.random(in: 0...12, using: &random) { index.insert(Self.revocation(&random)) }
            let content = BundleContent(keyRing: Fixtures.keyRing(), revocations: index)
            var holder = BundleHolder()
            try holder.accept(
                Sample.object(.full(content), serial: 1, digest: content.digest, at: Sample.t0 - 200),
                key: Fixtures.key.publicKey, now: Sample.t0 - 200)
            for _ in 0..<50 {
                let id = Self.ids[Int.random(in: 0..<Self.ids.count, using: &random)]
                let path = Self.path(&random)
                let issuedAt = Sample.t0 + Int64.random(in: -60...60, using: &random)
                let link = try LinkIssuer.issue(
                    IssueRequest(resource: path, expiresAt: Sample.t0 + 3_600), id: id, epoch: 7, key: Fixtures.key, now: issuedAt)
                let expected = index.isRevoked(id: id, path: path, issuedAt: issuedAt)
                let reason = holder.check(LinkRequest(target: link.url), keys: Fixtures.keyRing(), now: Sample.t0 + 90).reason
                #expect(reason == .link(expected ? .revoked : .ok), "\(path) issued \(issuedAt), rules \(index.rules)")
                outcomes[expected, default: 0] += 1
            }
        }
        #expect(outcomes[true, default: 0] > 100 && outcomes[false, default: 0] > 100, "\(outcomes)")
    }

    static let ids = (1...6).map { Fixtures.id(UInt8($0)) }

    /// `/`, or one to three segments of a, b, c, with or without a trailing `/`.
    static func path(_ random: inout SplitMix64, depth: ClosedRange<Int> = 0...3) -> String {
        let segments = (0..<Int.random(in: depth, using: &random)).map { _ in ["a", "b", "c"].randomElement(using: &random)! }
        let path = "/" + segments.joined(separator: "/")
        return path != "/" && Bool.random(using: &random) ? path + "/" : path
    }

    static func revocation(_ random: inout SplitMix64) -> Revocation {
        switch Int.random(in: 0..<4, using: &random) {
        case 0: .id(ids[Int.random(in: 0..<ids.count, using: &random)])
        case 1: .prefix(path(&random, depth: 1...3))
        default: .issuedBefore(Sample.t0 + Int64.random(in: -60...60, using: &random), prefix: path(&random))
        }
    }
}

/// A seeded generator, so that a failing random case comes back on the next run.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Deltas (§4) and acceptance (§6) with `BundleHolder`.
@Suite struct BundleHolderTests {
    @Test func changesApplyAsDocumented() {
        let base = BundleContent(
            epochs: Sample.epochs,
            rules: [BundleRule(prefix: "/a", cutoff: 100), BundleRule(prefix: "/b/", cutoff: .max), BundleRule(prefix: "/c", cutoff: 5)],
            ids: [Fixtures.id(1), Fixtures.id(2), Fixtures.id(3)])
        let epochs = [BundleEpoch(epoch: 7, status: .verifyOnly), BundleEpoch(epoch: 8, status: .active)]
        let changes = BundleChanges(
            baseSerial: 10, epochs: epochs, removedRules: ["/a", "/zz", "/c"],
            setRules: [BundleRule(prefix: "/b/", cutoff: 50), BundleRule(prefix: "/d", cutoff: 7), BundleRule(prefix: "/c", cutoff: 9)],
            removedIDs: [Fixtures.id(2), Fixtures.id(9), Fixtures.id(3)], addedIDs: [Fixtures.id(3), Fixtures.id(4), Fixtures.id(1)])
        let expected = BundleContent(
            epochs: epochs,
            rules: [BundleRule(prefix: "/b/", cutoff: 50), BundleRule(prefix: "/c", cutoff: 9), BundleRule(prefix: "/d", cutoff: 7)],
            ids: [Fixtures.id(1), Fixtures.id(3), Fixtures.id(4)])
        let applied = changes.applied(to: base)
        #expect(applied == expected)
        #expect(applied.digest == expected.digest && applied.digest != base.digest)
        #expect(applied.digest == RevocationBundle.sha256(expected.encoded()))
        let nothing = BundleChanges(baseSerial: 10, epochs: Sample.epochs, removedRules: [], setRules: [], removedIDs: [], addedIDs: [])
        #expect(nothing.isEmpty && nothing.applied(to: base) == base && !changes.isEmpty)
    }

    /// The one-pass merge of `applied` against set arithmetic: random bases, removals (present
    /// or not) and additions (new, already present, or also removed), sorted and unique after.
    @Test func changesApplyLikeSetArithmeticForRandomLists() {
        var generator = SystemRandomNumberGenerator()
        func id(_ n: Int) -> LinkID { LinkID(high: UInt64(n / 7), low: UInt64(n)) }
        for _ in 0..<300 {
            let universe = Int.random(in: 1...60, using: &generator)
            let pick = { (share: Double) in (0..<universe).filter { _ in Double.random(in: 0..<1, using: &generator) < share } }
            let base = Set(pick(0.5)), removed = Set(pick(0.3)), added = Set(pick(0.3))
            let content = BundleContent(epochs: [BundleEpoch(epoch: 1, status: .active)], rules: [], ids: base.map(id))
            let changes = BundleChanges(
                baseSerial: 1, epochs: content.epochs, removedRules: [], setRules: [], removedIDs: removed.map(id),
                addedIDs: added.map(id))
            let expected = base.subtracting(removed).union(added).sorted().map(id)
            #expect(changes.applied(to: content).ids == expected, "base \(base.sorted()) - \(removed.sorted()) + \(added.sorted())")
        }
    }

    @Test func aDeltaBringsTheHolderToTheNewContent() throws {
        var holder = BundleHolder()
        try holder.accept(Sample.full(Sample.content), key: Fixtures.key.publicKey, now: Sample.t0)
        #expect(try holder.accept(Sample.delta, key: Fixtures.key.publicKey, now: Sample.t0 + 60) == .ok)
        let held = try #require(holder.held)
        #expect(held.serial == 12 && held.notAfter == Sample.t0 + 360)
        #expect(held.content == BundleContent(
            epochs: Sample.epochs,
            rules: [BundleRule(prefix: "/a/", cutoff: .max), BundleRule(prefix: "/c", cutoff: Sample.t0)], ids: [Fixtures.id(2), Fixtures.id(3)]))
        #expect(held.isRevoked(id: Fixtures.id(3)) && !held.isRevoked(id: Fixtures.id(1)))
    }

    /// What the holder holds, to compare before and after.
    struct Snapshot: Equatable {
        var serial: Int64
        var digest: [UInt8]
        var content: BundleContent
        var notAfter: Int64

        init?(_ holder: BundleHolder) {
            guard let held = holder.held else { return nil }
            serial = held.serial
            digest = held.digest
            content = held.content
            notAfter = held.notAfter
        }
    }

    /// Every refusal of §6 after a full bundle (serial 10, issued t0, not after t0 + 300), and a
    /// freshness of a later serial: the held state is what it was, and still takes the next delta.
    @Test func aRefusedObjectChangesNothing() throws {
        let key7 = Fixtures.key.publicKey
        var wrongSignature = Sample.delta
        wrongSignature.signature[0] ^= 1
        var wrongBase = Sample.changes
        wrongBase.baseSerial = 11
        let other = BundleContent(epochs: Sample.epochs, rules: [], ids: [])
        let byVerifyOnly = Sample.full(Sample.content, serial: 11, epoch: 6)
        let cases: [(String, BundleObject, PublicKey?, Int64, String)] = [
            ("bad signature", wrongSignature, key7, Sample.t0 + 60, "bad_signature"),
            ("unknown key", Sample.full(other, serial: 11, epoch: 9), nil, Sample.t0 + 1, "unknown_key"),
            ("inactive signer", byVerifyOnly, Sample.keys[6]!.publicKey, Sample.t0 + 1, "inactive_signer"),
            ("older serial", Sample.full(other, serial: 9), key7, Sample.t0 + 1, "rolled_back"),
            ("another digest, same serial", Sample.full(other, serial: 10), key7, Sample.t0 + 1, "rolled_back"),
            ("wrong base", Sample.object(.delta(wrongBase), serial: 12, digest: Sample.delta.statement.digest), key7, Sample.t0 + 1, "base_mismatch"),
            ("wrong digest", Sample.object(.delta(Sample.changes), serial: 12, digest: other.digest), key7, Sample.t0 + 1, "digest_mismatch"),
            ("stale full", Sample.full(other, serial: 11, at: Sample.t0 - 400), key7, Sample.t0 + 1, "stale"),
            ("stale delta", Sample.delta, key7, Sample.t0 + 360, "stale"),
            ("freshness, another digest", Sample.object(.freshness, serial: 10, digest: other.digest), key7, Sample.t0 + 1, "rolled_back"),
            ("freshness, older serial", Sample.object(.freshness, serial: 9, digest: Sample.content.digest), key7, Sample.t0 + 1, "rolled_back"),
            ("freshness, stale", Sample.object(.freshness, serial: 10, digest: Sample.content.digest, at: Sample.t0 + 10), key7, Sample.t0 + 310, "stale"),
            ("freshness, later serial", Sample.object(.freshness, serial: 13, digest: other.digest, at: Sample.t0 + 10), key7, Sample.t0 + 20, "newer"),
        ]
        var holder = BundleHolder()
        try holder.accept(Sample.full(Sample.content), key: key7, now: Sample.t0)
        let before = try #require(Snapshot(holder))
        for (name, object, key, now, answer) in cases {
            let got: String
            do { got = try holder.accept(object, key: key, now: now).rawValue } catch { got = error.code }
            #expect(got == answer, "\(name)")
            #expect(Snapshot(holder) == before, "\(name) changed the held state")
        }
        #expect(try holder.accept(Sample.delta, key: key7, now: Sample.t0 + 60) == .ok)
    }

    /// A freshness object with the held serial and digest moves `not_after` forward, never back.
    @Test func freshnessExtendsButNeverShortens() throws {
        var holder = BundleHolder()
        let key7 = Fixtures.key.publicKey
        try holder.accept(Sample.full(Sample.content, at: Sample.t0 + 50), key: key7, now: Sample.t0 + 50)
        #expect(try holder.accept(Sample.freshness, key: key7, now: Sample.t0 + 120) == .ok)
        #expect(holder.held?.notAfter == Sample.t0 + 400)
        let earlier = Sample.object(.freshness, serial: 10, digest: Sample.content.digest, at: Sample.t0)
        #expect(try holder.accept(earlier, key: key7, now: Sample.t0 + 120) == .ok)
        #expect(holder.held?.notAfter == Sample.t0 + 400)
    }

    /// §6 in order: a stale object fails at step 8 whatever it says, so a stale freshness object
    /// is `stale`, not `newer`, also when nothing is held.
    @Test func aStaleFreshnessObjectIsStaleNotNewer() throws {
        let key7 = Fixtures.key.publicKey
        let later = Sample.object(.freshness, serial: 13, digest: Sample.content.digest, at: Sample.t0)
        var empty = BundleHolder()
        #expect(throws: BundleError.stale(notAfter: Sample.t0 + 300)) { try empty.accept(later, key: key7, now: Sample.t0 + 300) }
        #expect(try empty.accept(later, key: key7, now: Sample.t0 + 299) == .newer)
        var holder = BundleHolder()
        try holder.accept(Sample.full(Sample.content), key: key7, now: Sample.t0)
        #expect(throws: BundleError.stale(notAfter: Sample.t0 + 300)) { try holder.accept(later, key: key7, now: Sample.t0 + 300) }
    }
}
