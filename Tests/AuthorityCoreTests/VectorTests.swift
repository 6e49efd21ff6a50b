import AuthorityCore
import AuthorityTesting
import Foundation
import Testing

/// The published vectors: the file must equal the generator's output, and every entry must
/// verify the way it says, rebuilt from its own fields.
@Suite struct VectorTests {
    static let fileURL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Vectors/link-v1.json")

    static func load() throws -> [LinkVector] {
        try JSONDecoder().decode([LinkVector].self, from: Data(contentsOf: fileURL))
    }

    @Test func fileEqualsGeneratorOutput() throws {
        let generated = try LinkVectors.json()
        let stored = try Data(contentsOf: Self.fileURL)
        #expect(generated == stored, "regenerate with: swift run authority-vectors > Tests/Vectors/link-v1.json")
    }

    @Test func atLeastFortyVectorsCoveringEveryStatelessReason() throws {
        let vectors = try Self.load()
        #expect(vectors.count >= 40)
        let reasons = Set(vectors.map(\.reason))
        for reason in [
            "ok", "malformed", "unknown_key", "bad_signature", "expired", "not_yet_valid", "method_not_allowed",
            "resource_mismatch", "ip_mismatch",
        ] {
            #expect(reasons.contains(reason), "no vector for \(reason)")
        }
    }

    @Test func everyVectorVerifiesFromItsOwnFields() throws {
        for vector in try Self.load() {
            let keyBytes = try #require(Base64URL.decode(vector.publicKey))
            let key = try #require(PublicKey(bytes: keyBytes))
            let ring = try KeyRing(records: [
                KeyRecord(epoch: vector.epoch, publicKey: key, status: .active, createdAt: 0)
            ])
            let verdict = LinkVerifier(notBeforeLeeway: vector.notBeforeLeeway).check(
                vector.request, keys: ring, now: vector.now)
            #expect(verdict.reason.rawValue == vector.reason, "\(vector.name)")
            #expect(verdict.isValid == vector.valid, "\(vector.name)")
            if let link = verdict.link {
                #expect(Base64URL.encode(link.signedMessage) == vector.signedMessage, "\(vector.name)")
                #expect(Base64URL.encode(link.signature) == vector.signature, "\(vector.name)")
            } else {
                #expect(vector.signedMessage == nil && vector.signature == nil, "\(vector.name)")
            }
        }
    }

    @Test func workedExampleMessageIsTheDocumentedOne() throws {
        let vector = try #require(try Self.load().first { $0.name == "exact-basic" })
        let message = try #require(vector.signedMessage.flatMap { Base64URL.decode($0) })
        #expect(
            String(decoding: message, as: UTF8.self) == """
                authority-link-v1
                epoch=7
                id=AAECAwQFBgcICQoLDA0ODw
                issued_at=1790000000
                not_before=
                expires_at=1790000900
                methods=GET,HEAD
                scope=exact
                host=
                ip=
                flags=
                path=/files/report%202026.pdf
                query=download=1

                """)
    }
}

@Suite struct ExplainTests {
    /// `explain` must reach the very answer `check` gives, for every published vector.
    @Test func explainAgreesWithCheckOnEveryVector() throws {
        for vector in try VectorTests.load() {
            let keyBytes = try #require(Base64URL.decode(vector.publicKey))
            let key = try #require(PublicKey(bytes: keyBytes))
            let ring = try KeyRing(records: [KeyRecord(epoch: vector.epoch, publicKey: key, status: .active, createdAt: 0)])
            let verifier = LinkVerifier(notBeforeLeeway: vector.notBeforeLeeway)
            let (verdict, steps) = verifier.explain(vector.request, keys: ring, revocations: RevocationIndex(), now: vector.now)
            #expect(verdict.reason.rawValue == vector.reason, "\(vector.name)")
            #expect(steps.first { $0.outcome == .fail }?.reason.rawValue ?? "ok" == vector.reason, "\(vector.name)")
            #expect(steps.map(\.name) == ["format", "key", "signature", "expiry", "not_before", "method", "resource", "ip", "revocation"])
        }
    }

    @Test func explainReportsEveryFailureNotOnlyTheFirst() throws {
        let link = try LinkIssuer.issue(
            IssueRequest(resource: "/a", expiresAt: Fixtures.issuedAt + 10, methods: .get, network: IPNetwork(lenient: "10.0.0.0/8")),
            id: Fixtures.id(1), epoch: Fixtures.epoch, key: Fixtures.key, now: Fixtures.issuedAt)
        let (verdict, steps) = LinkVerifier().explain(
            LinkRequest(target: link.url, method: "PUT", clientAddress: IPAddress("192.0.2.1")), keys: Fixtures.keyRing(),
            revocations: RevocationIndex([.id(Fixtures.id(1))]), now: Fixtures.issuedAt + 20)
        #expect(verdict.reason == .expired)
        #expect(steps.filter { $0.outcome == .fail }.map(\.reason) == [.expired, .methodNotAllowed, .ipMismatch, .revoked])
    }
}
