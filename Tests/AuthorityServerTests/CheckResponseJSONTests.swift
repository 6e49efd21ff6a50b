import AuthorityAPI
import NIOCore
import Testing

@testable import AuthorityServer

/// The hand-written check answer must be byte for byte what `JSONEncoder` writes.
@Suite struct CheckResponseJSONTests {
    static func bytes(_ response: APIResponse) -> [UInt8] { Array(response.body.readableBytesView) }

    static let answers: [CheckLinkResponse] = {
        let awkward = (0..<0x20).map { String(UnicodeScalar(UInt8($0))) }.joined()
            + "\"quoted\" back\\slash /path/ é ü 漢字 🙂 \u{2028}\u{2029} \u{7F}"
        return [
            CheckLinkResponse(valid: true, reason: "ok", id: "AAAAAAAAAAAAAAAAAAAAAA", epoch: 3, expiresAt: 1_900_000_000),
            CheckLinkResponse(valid: false, reason: "malformed", detail: awkward),
            CheckLinkResponse(valid: false, reason: "expired", id: "x", epoch: .max, expiresAt: .min, remainingUses: -1),
            CheckLinkResponse(
                valid: true, reason: "ok", id: "id", epoch: 0, expiresAt: 0, remainingUses: 0, detail: "",
                cookie: "v1.1.AAAA.1900000000.sig/+=", cookieExpiresAt: 1_900_000_000),
        ]
    }()

    @Test(arguments: answers)
    func sameBytesAsJSONEncoder(_ answer: CheckLinkResponse) throws {
        let handWritten = APIResponse.json(check: answer)
        let encoded = APIResponse.json(answer)
        #expect(Self.bytes(handWritten) == Self.bytes(encoded), "\(String(decoding: Self.bytes(handWritten), as: UTF8.self))")
        #expect(handWritten.status == encoded.status)
        #expect(handWritten.headers.first(name: "Content-Type") == "application/json")
    }

    @Test func everyControlCharacterIsEscaped() {
        for byte in UInt8(0)..<0x20 {
            var text: [UInt8] = []
            JSONText.append(String(UnicodeScalar(byte)), to: &text)
            #expect(text.allSatisfy { $0 >= 0x20 }, "byte \(byte) left raw")
        }
    }
}
