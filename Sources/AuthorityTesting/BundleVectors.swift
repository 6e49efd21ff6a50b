import AuthorityCore
import Foundation

/// The generator of `Tests/Vectors/bundle-v1.json` (docs/revocation-bundle.md §9). Every case
/// states its expected answer by hand; generation fails if `BundleHolder` disagrees, so the file
/// never records a bug as the truth.
public enum BundleVectors {
    /// The bundle's key ring: 5 retired, 6 verify-only, 7 active (the link vectors' key); 8 is in
    /// the JWK set but not in any bundle; 9 is in neither.
    static let keys: [UInt64: SigningKey] = [
        5: SigningKey.fromSeed(Array(0x20..<0x40))!, 6: SigningKey.fromSeed(Array(0x40..<0x60))!, 7: Fixtures.key,
        8: SigningKey.fromSeed(Array(0x60..<0x80))!, 9: SigningKey.fromSeed(Array(0xA0..<0xC0))!,
    ]
    static let jwkStatus: [(UInt64, String)] = [(5, "retired"), (6, "verify_only"), (7, "active"), (8, "verify_only")]
    static let epochs = [
        BundleEpoch(epoch: 5, status: .retired), BundleEpoch(epoch: 6, status: .verifyOnly),
        BundleEpoch(epoch: 7, status: .active),
    ]
    static let t0 = Fixtures.issuedAt
    static let issuedAt = t0 + 100
    static let maxAge: Int64 = 300

    /// A revoked id that is not a link of the checks: bytes n, n+1, … (distinct from `Fixtures.id`).
    static func filler(_ n: Int) -> LinkID { LinkID(high: 0xF0F0_0000_0000_0000 | UInt64(n), low: UInt64(n) &* 0x9E37_79B9_7F4A_7C15) }

    static let content1 = BundleContent(
        epochs: epochs,
        rules: [
            BundleRule(prefix: "/blocked/", cutoff: RevocationBundle.standingBlock),
            BundleRule(prefix: "/old", cutoff: t0 + 1), BundleRule(prefix: "/fresh", cutoff: t0),
        ],
        ids: [Fixtures.id(0x40), Fixtures.id(0x50)] + (0..<40).map(filler))
    static let changes12 = BundleChanges(
        baseSerial: 10, epochs: epochs, removedRules: ["/old"], setRules: [BundleRule(prefix: "/fresh", cutoff: t0 + 100)],
        removedIDs: [Fixtures.id(0x50), filler(3)], addedIDs: [Fixtures.id(0x60), filler(1000)])
    static let content2 = changes12.applied(to: content1)

    struct Object {
        var name: String
        var binary: [UInt8]?
        var json: Any?
    }

    static func statement(serial: Int64, epoch: UInt64 = 7, at: Int64 = issuedAt, digest: [UInt8]) -> BundleStatement {
        BundleStatement(epoch: epoch, serial: serial, issuedAt: at, notAfter: at + maxAge, digest: digest)
    }

    static func sign(_ statement: BundleStatement, _ body: BundleObject.Body) -> BundleObject {
        BundleObject.signed(statement, body: body, key: keys[statement.epoch]!)
    }

    static func object(_ name: String, _ object: BundleObject) throws -> Object {
        Object(name: name, binary: object.binary(), json: try parse(object.json()))
    }

    static func parse(_ json: String) throws -> Any { try JSONSerialization.jsonObject(with: Data(json.utf8)) }

    static func objects() throws -> [Object] {
        let full1 = sign(statement(serial: 10, digest: content1.digest), .full(content1))
        let full2 = sign(statement(serial: 12, at: issuedAt + 60, digest: content2.digest), .full(content2))
        let delta = sign(statement(serial: 12, at: issuedAt + 60, digest: content2.digest), .delta(changes12))
        var wrongBase = changes12
        wrongBase.baseSerial = 11
        var tamperedDelta = changes12
        tamperedDelta.addedIDs = [Fixtures.id(0x61), filler(1000)]
        let noChanges = BundleChanges(baseSerial: 12, epochs: epochs, removedRules: [], setRules: [], removedIDs: [], addedIDs: [])
        var conflict = content2
        conflict.ids.removeLast()
        var unsorted = content1
        unsorted.ids.swapAt(0, 1)
        var noncanonical = content1
        noncanonical.rules = [BundleRule(prefix: "/a%2fb/", cutoff: RevocationBundle.standingBlock)]
        let notCanonical = BundleContent(epochs: epochs, rules: [BundleRule(prefix: "/a//b", cutoff: t0)], ids: [])
        var byVerifyOnly = content1
        byVerifyOnly.epochs = [
            BundleEpoch(epoch: 5, status: .retired), BundleEpoch(epoch: 6, status: .active), BundleEpoch(epoch: 7, status: .retired),
        ]
        let full1Binary = full1.binary()
        var badMagic = full1Binary
        badMagic[0] = UInt8(ascii: "X")
        var badSignature = full1Binary
        badSignature[73 + 10] ^= 0x01
        var tamperedID = full1Binary
        tamperedID[tamperedID.count - 1] ^= 0x01
        var badState = full1Binary
        badState[137 + 4 + 8] = 4  // epoch 5's state byte
        let freshness = sign(statement(serial: 12, at: issuedAt + 400, digest: content2.digest), .freshness)
        let freshness1 = try json(full1) { $0["signature"] = Base64URL.encode(full1.signature.reversed()) }
        return [
            try object("full-10", full1),
            try object("full-12", full2),
            try object("delta-10-12", delta),
            try object("delta-12-12-later", sign(statement(serial: 12, at: issuedAt + 500, digest: content2.digest), .delta(noChanges))),
            try object("delta-wrong-base", sign(delta.statement, .delta(wrongBase))),
            try object("delta-tampered", sign(delta.statement, .delta(tamperedDelta))),
            try object("freshness-12-later", freshness),
            try object("freshness-13", sign(statement(serial: 13, at: issuedAt + 400, digest: content1.digest), .freshness)),
            try object("freshness-10-other-digest", sign(statement(serial: 10, at: issuedAt + 1, digest: content2.digest), .freshness)),
            try object("freshness-9", sign(statement(serial: 9, at: issuedAt + 400, digest: content1.digest), .freshness)),
            try object("full-9-older", sign(statement(serial: 9, digest: content1.digest), .full(content1))),
            try object("full-12-conflict", sign(statement(serial: 12, digest: conflict.digest), .full(conflict))),
            try object("full-stale", sign(BundleStatement(epoch: 7, serial: 10, issuedAt: t0 - 600, notAfter: t0 - 300, digest: content1.digest), .full(content1))),
            try object("full-ids-unsorted", sign(statement(serial: 10, digest: RevocationBundle.sha256(unsorted.encoded())), .full(unsorted))),
            try object("full-noncanonical-prefix", sign(statement(serial: 10, digest: noncanonical.digest), .full(noncanonical))),
            try object("full-prefix-not-canonical", sign(statement(serial: 10, digest: notCanonical.digest), .full(notCanonical))),
            try object("full-signed-by-verify-only-epoch", sign(statement(serial: 10, epoch: 6, digest: content1.digest), .full(content1))),
            try object("full-signer-not-active-in-list", sign(statement(serial: 10, epoch: 7, digest: byVerifyOnly.digest), .full(byVerifyOnly))),
            try object("full-signed-by-retired-epoch", sign(statement(serial: 10, epoch: 5, digest: content1.digest), .full(content1))),
            try object("full-signed-by-unknown-epoch", sign(statement(serial: 10, epoch: 9, digest: content1.digest), .full(content1))),
            Object(name: "full-10-bad-magic", binary: badMagic, json: nil),
            Object(name: "full-10-bad-signature", binary: badSignature, json: nil),
            Object(name: "full-10-tampered-id", binary: tamperedID, json: nil),
            Object(name: "full-10-bad-state", binary: badState, json: nil),
            Object(name: "full-10-truncated", binary: Array(full1Binary.dropLast()), json: nil),
            Object(name: "full-10-trailing-byte", binary: full1Binary + [0], json: nil),
            Object(name: "full-10-header-only", binary: Array(full1Binary.prefix(137)), json: nil),
            Object(name: "json-bad-signature", binary: nil, json: freshness1),
            Object(name: "json-tampered-id", binary: nil, json: try json(full1) {
                var ids = $0["ids"] as! [Any]
                ids[0] = Fixtures.id(0x41).description
                $0["ids"] = ids
            }),
            Object(name: "json-unknown-member", binary: nil, json: try json(full1) { $0["extra"] = 1 }),
            Object(name: "json-serial-as-string", binary: nil, json: try json(full1) { $0["serial"] = "10" }),
            Object(name: "json-unsafe-integer", binary: nil, json: try json(full1) { $0["not_after"] = 9_007_199_254_740_993 }),
        ]
    }

    /// The JSON twin of `object`, changed by `edit`.
    static func json(_ object: BundleObject, _ edit: (inout [String: Any]) -> Void) throws -> Any {
        var parsed = try JSONSerialization.jsonObject(with: Data(object.json().utf8)) as! [String: Any]
        edit(&parsed)
        return parsed
    }
}
