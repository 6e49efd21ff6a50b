import AuthorityAPI
import NIOCore
import Testing

@testable import AuthorityServer

/// Answers written by hand must be byte for byte what `JSONEncoder` writes.
@Suite struct HandWrittenJSONTests {
    static let awkward = (0..<0x20).map { String(UnicodeScalar(UInt8($0))) }.joined()
        + "\"quoted\" back\\slash /path/ é ü 漢字 🙂 \u{2028}\u{2029} \u{7F}"

    static func same(_ value: some Encodable & HandWrittenJSON) throws {
        let response = APIResponse.json(value)
        let handWritten = Array(response.body.readableBytesView)
        let encoded = try #require(APIResponse.encodedJSON(value))
        #expect(handWritten == encoded, "\(String(decoding: handWritten, as: UTF8.self))")
        #expect(response.headers.first(name: "Content-Type") == "application/json")
    }

    static let checkAnswers = [
        CheckLinkResponse(valid: true, reason: "ok", id: "AAAAAAAAAAAAAAAAAAAAAA", epoch: 3, expiresAt: 1_900_000_000),
        CheckLinkResponse(valid: false, reason: "malformed", detail: awkward),
        CheckLinkResponse(valid: false, reason: "expired", id: "x", epoch: .max, expiresAt: .min, remainingUses: -1),
        CheckLinkResponse(
            valid: true, reason: "ok", id: "id", epoch: 0, expiresAt: 0, remainingUses: 0, detail: "",
            cookie: "v1.1.AAAA.1900000000.sig/+=", cookieExpiresAt: 1_900_000_000),
    ]

    @Test(arguments: checkAnswers)
    func checkAnswersAreJSONEncoders(_ answer: CheckLinkResponse) throws { try Self.same(answer) }

    static let revocations = [
        RevocationEntry(serial: 1, kind: "id", id: "AAAAAAAAAAAAAAAAAAAAAA", createdAt: 1_900_000_000, createdByUID: 0),
        RevocationEntry(serial: .max, kind: "prefix", prefix: "/a/b/", reason: awkward, createdAt: .min),
        RevocationEntry(
            serial: 7, kind: "issued_before", prefix: "/", issuedBefore: 1_800_000_000, reason: "", createdAt: 0,
            createdByUID: .max),
    ]

    @Test(arguments: revocations)
    func revocationEntriesAreJSONEncoders(_ entry: RevocationEntry) throws { try Self.same(entry) }

    static let issueAnswers = [
        IssueLinkResponse(url: "/a?au_v=1&au_sig=x", id: "AAAAAAAAAAAAAAAAAAAAAA", epoch: 1, expiresAt: 1_900_000_000,
                          notBefore: nil, methods: ["GET", "HEAD"]),
        IssueLinkResponse(url: "https://cdn.example/" + awkward, id: "", epoch: .max, expiresAt: .min, notBefore: -1, methods: []),
    ]

    @Test(arguments: issueAnswers)
    func issueAnswersAreJSONEncoders(_ answer: IssueLinkResponse) throws { try Self.same(answer) }

    @Test func everyControlCharacterIsEscaped() {
        for byte in UInt8(0)..<0x20 {
            var text: [UInt8] = []
            JSONText.append(String(UnicodeScalar(byte)), to: &text)
            #expect(text.allSatisfy { $0 >= 0x20 }, "byte \(byte) left raw")
        }
    }
}
