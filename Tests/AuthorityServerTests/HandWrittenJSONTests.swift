import Foundation
import NIOCore
import Testing

@testable import AuthorityAPI
@testable import AuthorityServer

/// Answers written by hand must be byte for byte what `JSONEncoder` writes.
@Suite struct HandWrittenJSONTests {
    static let awkward = WireSamples.awkward

    static func same(_ value: some WireObject) throws {
        #expect(value.handWrittenJSON() != nil, "\(type(of: value)) is not written by hand")
        let response = APIResponse.json(value)
        let handWritten = Array(response.body.readableBytesView)
        let encoded = try #require(APIResponse.encodedJSON(value))
        #expect(handWritten == encoded, "\(String(decoding: handWritten, as: UTF8.self))")
        #expect(response.headers.first(name: "Content-Type") == "application/json")
    }

    /// Every member of every flat answer, each set to every value its type takes.
    @Test func everyMemberOfEveryAnswerIsJSONEncoders() throws {
        func check<T: WireObject>(_ type: T.Type) throws {
            for value in WireSamples.variants(of: type) { try Self.same(value) }
        }
        for type in WireSamples.answers { try check(type) }
    }

    /// Answers with nested members go through `JSONEncoder` whole.
    @Test func nestedAnswersAreEncodedByJSONEncoder() throws {
        let page = RevocationPage(revocations: [RevocationEntry(serial: 1, kind: "id", id: "a", createdAt: 2)], nextAfter: nil)
        #expect(page.handWrittenJSON() == nil)
        let text = String(decoding: Array(APIResponse.json(page).body.readableBytesView), as: UTF8.self)
        #expect(text.hasPrefix(#"{"next_after":null,"revocations":[{"created_at":2,"created_by_uid":null,"id":"a""#), "\(text)")
        #expect(WireSamples.nestedMembers(of: RevocationPage.self) == ["revocations"])
        #expect(WireSamples.nestedMembers(of: ExplainLinkResponse.self) == ["grant", "checks"])
        #expect(WireSamples.nestedMembers(of: LinkStateResponse.self) == ["revoked_by"])
        #expect(WireSamples.nestedMembers(of: EventPage.self) == ["events"])
    }

    /// Every table-declared type reads back what it writes, through `JSONEncoder` and `JSONDecoder`.
    @Test func everyTypeRoundTrips() throws {
        func check<T: WireObject & Equatable>(_ type: T.Type) throws {
            for value in WireSamples.variants(of: type) {
                #expect(try JSONDecoder().decode(T.self, from: JSONEncoder().encode(value)) == value, "\(value)")
            }
        }
        for type in WireSamples.answers + WireSamples.nestedAnswers + WireSamples.requests {
            try check(type)
        }
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
