import AuthorityCore
import AuthorityEdge
import AuthorityTesting
import Foundation
import Testing

/// The published bundle vectors, read the way a verifier in another language reads them: the
/// file's own JSON, not the generator's structures, so a case written wrongly into the file fails
/// here even when the generator agrees with itself.
@Suite struct BundleVectorTests {
    static let vectors = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Vectors")

    @Test func fileEqualsGeneratorOutput() throws {
        let stored = try Data(contentsOf: Self.vectors.appendingPathComponent("bundle-v1.json"))
        #expect(try BundleVectors.json() == stored, "regenerate with: swift run authority-vectors bundle > Tests/Vectors/bundle-v1.json")
    }

    @Test func everyAcceptanceCaseGivesItsAnswer() throws {
        let file = try VectorFile.load()
        for vector in file.accept {
            let name = try vector.string("name")
            var edge = try file.verifier(holding: vector["held"] as? String)
            let bytes = try file.bytes(try vector.string("object"), form: try vector.string("form"))
            let now = try vector.integer("now")
            let got: String
            do { got = try edge.accept(bytes, now: now).rawValue } catch { got = error.code }
            #expect(got == (try vector.string("answer")), "\(name)")
        }
    }

    /// The file must exercise every answer of §6 in both forms, or "every case passes" says little.
    @Test func acceptanceCasesCoverEveryAnswerInBothForms() throws {
        let file = try VectorFile.load()
        let answers = Set(try file.accept.map { try $0.string("answer") })
        #expect(answers == [
            "ok", "newer", "bad_format", "unknown_key", "bad_signature", "inactive_signer", "rolled_back",
            "base_mismatch", "digest_mismatch", "stale",
        ])
        #expect(Set(try file.accept.map { try $0.string("form") }) == ["binary", "json"])
    }

    @Test func everyLinkCheckGivesItsReason() throws {
        let file = try VectorFile.load()
        var reasons: Set<String> = []
        for vector in file.checks {
            let name = try vector.string("name")
            let edge = try file.verifier(holding: vector["bundle"] as? String)
            let request = LinkRequest(
                target: try vector.string("url"), host: vector["host"] as? String, method: try vector.string("method"),
                clientAddress: (vector["client_ip"] as? String).flatMap { IPAddress($0) })
            let (now, reason) = (try vector.integer("now"), try vector.string("reason"))
            #expect(edge.check(request, now: now).reason.code == reason, "\(name)")
            reasons.insert(reason)
        }
        #expect(reasons.isSuperset(of: ["ok", "revoked", "stale_bundle", "needs_daemon", "retired_key", "unknown_key"]))
    }

    /// With a fresh bundle that revokes nothing, the edge gives the link format's reason for every
    /// link vector: steps 1–7 are the same check. A valid link that counts uses or has a password
    /// is the daemon's to decide (`needs_daemon`).
    @Test func everyLinkVectorGivesItsReasonWithAnEmptyBundle() throws {
        let vectors = try JSONDecoder().decode(
            [LinkVector].self, from: Data(contentsOf: Self.vectors.appendingPathComponent("link-v1.json")))
        #expect(vectors.count >= 40)
        var needsDaemon = 0
        for vector in vectors {
            let key = try #require([Fixtures.key, Fixtures.otherKey].first { $0.publicKey.base64URL == vector.publicKey })
            let jwks = try JSONSerialization.data(withJSONObject: [
                "keys": [["kty": "OKP", "crv": "Ed25519", "kid": String(vector.epoch), "x": vector.publicKey, "status": "active"]]
            ])
            var edge = EdgeVerifier(keys: try JSONWebKeys(json: jwks), notBeforeLeeway: vector.notBeforeLeeway)
            let content = BundleContent(epochs: [BundleEpoch(epoch: vector.epoch, status: .active)], rules: [], ids: [])
            let statement = BundleStatement(
                epoch: vector.epoch, serial: 1, issuedAt: vector.now, notAfter: vector.now + 300, digest: content.digest)
            try edge.accept(BundleObject.signed(statement, body: .full(content), key: key).binary(), now: vector.now)
            let daemonOnly = vector.reason == "ok" && Self.flags(vector.url).contains { $0 == "u" || $0 == "p" }
            if daemonOnly { needsDaemon += 1 }
            #expect(edge.check(vector.request, now: vector.now).reason.code == (daemonOnly ? "needs_daemon" : vector.reason), "\(vector.name)")
        }
        #expect(needsDaemon > 0, "no valid use-limited or password link among the vectors")
    }

    /// The value of `au_f` in a link's query, read from the text (not by the parser under test).
    static func flags(_ url: String) -> String {
        let query = url.split(separator: "?", maxSplits: 1).dropFirst().first ?? ""
        return query.split(separator: "&").first { $0.hasPrefix("au_f=") }.map { String($0.dropFirst(5)) } ?? ""
    }
}

/// Tests/Vectors/bundle-v1.json as JSON values.
struct VectorFile {
    var document: [String: Any]
    var accept: [[String: Any]]
    var checks: [[String: Any]]
    var objects: [String: [String: Any]]

    static func load() throws -> VectorFile {
        let data = try Data(contentsOf: BundleVectorTests.vectors.appendingPathComponent("bundle-v1.json"))
        let document = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let objects = try #require(document["objects"] as? [[String: Any]])
        return VectorFile(
            document: document, accept: try #require(document["accept"] as? [[String: Any]]),
            checks: try #require(document["checks"] as? [[String: Any]]),
            objects: Dictionary(uniqueKeysWithValues: try objects.map { (try $0.string("name"), $0) }))
    }

    /// A verifier with the file's JWK set and leeway, holding the object `held` (binary form),
    /// accepted at its own `issued_at` as §9 says, or nothing.
    func verifier(holding held: String?) throws -> EdgeVerifier {
        let keys = try JSONSerialization.data(withJSONObject: try #require(document["keys"]))
        var edge = EdgeVerifier(keys: try JSONWebKeys(json: keys), notBeforeLeeway: try document.integer("not_before_leeway"))
        if let held {
            let bytes = try self.bytes(held, form: "binary")
            #expect(try edge.accept(bytes, now: try Self.issuedAt(bytes)) == .ok, "held \(held)")
        }
        return edge
    }

    /// `issued_at` of a binary object, read from its header (§2.1: 8 bytes at offset 25).
    static func issuedAt(_ bytes: [UInt8]) throws -> Int64 {
        try #require(bytes.count >= 33)
        return Int64(bitPattern: bytes[25..<33].reduce(0) { $0 << 8 | UInt64($1) })
    }

    /// An object's bytes in `form`: the binary from base64url, the JSON twin serialised again.
    func bytes(_ name: String, form: String) throws -> [UInt8] {
        let object = try #require(objects[name], "no object \(name)")
        switch form {
        case "binary": return try #require(Base64URL.decode(try object.string("binary")), "\(name): binary")
        case "json": return Array(try JSONSerialization.data(withJSONObject: try #require(object["json"] as? [String: Any])))
        default: throw VectorFileError(description: "\(name): form \(form)")
        }
    }
}

struct VectorFileError: Error, CustomStringConvertible {
    var description: String
}

extension Dictionary where Key == String, Value == Any {
    func string(_ name: String) throws -> String {
        guard let value = self[name] as? String else { throw VectorFileError(description: "\(name) is not a string") }
        return value
    }

    func integer(_ name: String) throws -> Int64 {
        guard let value = self[name] as? NSNumber else { throw VectorFileError(description: "\(name) is not a number") }
        return value.int64Value
    }
}
