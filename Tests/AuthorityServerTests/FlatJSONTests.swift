import AuthorityAPI
import Foundation
import Testing

@testable import AuthorityServer

/// The quick reader of check bodies must never disagree with `JSONDecoder`: whatever it accepts
/// decodes to the same request, and it gives up on everything it does not fully understand.
@Suite struct FlatJSONTests {
    static func quick(_ text: [UInt8]) -> CheckLinkRequest? {
        text.withUnsafeBufferPointer { FlatJSONObject($0) }.flatMap(CheckLinkRequest.init(flat:))
    }

    static func decoded(_ text: [UInt8]) -> CheckLinkRequest? {
        try? JSONDecoder().decode(CheckLinkRequest.self, from: Data(text))
    }

    static let typical = Array(
        #"{"url":"/v/a.mp4?au_v=1&au_sig=abc","method":"GET","client_ip":"192.0.2.1","host":"cdn.example","consume":false,"issue_cookie":true,"password":"pässwörd","cookie":null}"#
            .utf8)

    @Test func typicalBodiesTakeTheQuickPath() throws {
        for body in [
            Self.typical, Array(#"{"url":"/a?b"}"#.utf8), Array(" {\n\t\"url\" : \"/a\" , \"consume\" : null }\r\n".utf8),
        ] {
            let quick = try #require(Self.quick(body), "\(String(decoding: body, as: UTF8.self))")
            #expect(quick == Self.decoded(body))
        }
    }

    @Test(arguments: [
        #"{"url":"/a\/b"}"#, #"{"url":"\u0041"}"#, #"{"url":1}"#, #"{"url":"/a","consume":"yes"}"#,
        #"{"url":"/a","url":"/b"}"#, #"{"url":"/a","extra":true}"#, #"{"url":null}"#, #"{}"#, #"[]"#, #""/a""#,
        #"{"url":"/a",}"#, #"{"url":"/a"} x"#, #"{"url":"/a"#, #"{"url":["/a"]}"#, #"{"url":"/a","consume":tru}"#,
        "{\"url\":\"/a\u{1}\"}", "",
    ])
    func everythingElseGoesToJSONDecoder(_ body: String) {
        #expect(Self.quick(Array(body.utf8)) == nil)
    }

    @Test func manyMembersGoToJSONDecoder() {
        let many = "{" + (0..<5_000).map { "\"m\($0)\":null" }.joined(separator: ",") + "}"
        #expect(Array(many.utf8).withUnsafeBufferPointer { FlatJSONObject($0) } == nil)
        let sixteen = "{" + (0..<FlatJSONObject.maximumMembers).map { "\"m\($0)\":null" }.joined(separator: ",") + "}"
        #expect(Array(sixteen.utf8).withUnsafeBufferPointer { FlatJSONObject($0) }?.members.count == FlatJSONObject.maximumMembers)
    }

    @Test func invalidUTF8GoesToJSONDecoder() {
        #expect(Self.quick(Array(#"{"url":""#.utf8) + [0xC3, 0x28] + Array(#""}"#.utf8)) == nil)
    }

    /// 20,000 random edits (one to three bytes replaced, inserted or removed) of `body`; for each,
    /// the quick reader may give up, but when it answers it must agree with `JSONDecoder`.
    static func mutations<T: Decodable & Equatable>(of body: [UInt8], quick: ([UInt8]) -> T?) -> Int {
        var generator = SystemRandomNumberGenerator()
        let alphabet = Array(#"{}[]":,\ tfnul0123456789-+.eE/aéü"#.utf8) + [0x00, 0x0A, 0x1F, 0x7F, 0xC3, 0xFF]
        var agreed = 0
        for _ in 0..<20_000 {
            var edited = body
            for _ in 0..<Int.random(in: 1...3, using: &generator) {
                let at = Int.random(in: 0..<edited.count, using: &generator)
                switch Int.random(in: 0..<3, using: &generator) {
                case 0: edited[at] = alphabet.randomElement(using: &generator)!
                case 1: edited.insert(alphabet.randomElement(using: &generator)!, at: at)
                default: edited.remove(at: at)
                }
            }
            guard let answer = quick(edited) else { continue }
            #expect(answer == (try? JSONDecoder().decode(T.self, from: Data(edited))), "\(String(decoding: edited, as: UTF8.self))")
            agreed += 1
        }
        return agreed
    }

    @Test func mutationsNeverDisagree() {
        #expect(Self.mutations(of: Self.typical, quick: Self.quick) > 100)  // it did answer for many harmless edits
    }

    @Test func revocationBodiesAgreeWithJSONDecoder() throws {
        func quick(_ text: String) -> RevokeRequest? {
            Array(text.utf8).withUnsafeBufferPointer { FlatJSONObject($0) }.flatMap(RevokeRequest.init(flat:))
        }
        for body in [#"{"id":"AAAAAAAAAAAAAAAAAAAAAA"}"#, #"{"prefix":"/a/","reason":"leaked","issued_before":null}"#, #"{}"#] {
            let expected = try JSONDecoder().decode(RevokeRequest.self, from: Data(body.utf8))
            #expect(quick(body) == expected, "\(body)")
        }
        for body in [#"{"issued_before":1800000000}"#, #"{"id":true}"#, #"{"id":"a","extra":"b"}"#, #"{"reason":"\n"}"#] {
            #expect(quick(body) == nil, "\(body)")
        }
    }

    static let issueBody = Array(
        #"{"resource":"https://cdn.example/v/a.mp4","methods":["GET","HEAD"],"ttl":3600,"not_before":-5,"max_uses":1000000000,"prefix":false,"bind_host":true,"ip":"2001:db8::/48","password":"pässwörd","expires_at":null}"#
            .utf8)

    static func quickIssue(_ body: [UInt8]) -> IssueLinkRequest? {
        body.withUnsafeBufferPointer { FlatJSONObject($0) }.flatMap(IssueLinkRequest.init(flat:))
    }

    @Test func issueBodiesAgreeWithJSONDecoder() throws {
        for body in [Self.issueBody, Array(#"{"resource":"/a","methods":[],"ttl":0}"#.utf8)] {
            let quick = try #require(Self.quickIssue(body), "\(String(decoding: body, as: UTF8.self))")
            #expect(quick == (try JSONDecoder().decode(IssueLinkRequest.self, from: Data(body))))
        }
        for body in [
            #"{"resource":"/a","ttl":1.0}"#, #"{"resource":"/a","ttl":1e3}"#, #"{"resource":"/a","ttl":-0}"#,
            #"{"resource":"/a","ttl":01}"#, #"{"resource":"/a","ttl":1234567890123456789}"#, #"{"resource":"/a","ttl":"1"}"#,
            #"{"resource":"/a","methods":["GET",1]}"#, #"{"resource":"/a","methods":[["GET"]]}"#, #"{"resource":"/a","methods":"GET"}"#,
            #"{"resource":"/a","methods":["GET",]}"#, #"{"resource":null}"#, #"{"ttl":1}"#, #"{"resource":"/a","prefix":1}"#,
        ] {
            #expect(Self.quickIssue(Array(body.utf8)) == nil, "\(body)")
        }
    }

    /// The same random edits on an issue body (numbers, lists, flags).
    @Test func issueMutationsNeverDisagree() {
        #expect(Self.mutations(of: Self.issueBody, quick: Self.quickIssue) > 100)
    }
}
