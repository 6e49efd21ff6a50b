import Foundation
import NIOCore
import NIOHTTP1
import Testing

@testable import AuthorityAPI
@testable import AuthorityServer

/// The quick reader of check bodies must never disagree with `JSONDecoder`: whatever it accepts
/// decodes to the same request, and it gives up on everything it does not fully understand.
@Suite struct FlatJSONTests {
    /// What the quick reader and `T`'s field table make of `text`.
    static func reading<T: WireObject>(_ type: T.Type, _ text: [UInt8]) -> WireFields<T>.Reading {
        guard let flat = text.withUnsafeBufferPointer({ FlatJSONObject($0) }) else { return .undecided }
        return T.wireFields.read(flat.members, over: T.wireTemplate)
    }

    static func quick<T: WireObject>(_ type: T.Type, _ text: [UInt8]) -> T? {
        if case .value(let value) = reading(type, text) { value } else { nil }
    }

    static func quick(_ text: [UInt8]) -> CheckLinkRequest? { quick(CheckLinkRequest.self, text) }

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
        func quick(_ text: String) -> RevokeRequest? { Self.quick(RevokeRequest.self, Array(text.utf8)) }
        for body in [
            #"{"id":"AAAAAAAAAAAAAAAAAAAAAA"}"#, #"{"prefix":"/a/","reason":"leaked","issued_before":null}"#, #"{}"#,
            #"{"issued_before":1800000000,"prefix":"/"}"#,
        ] {
            let expected = try JSONDecoder().decode(RevokeRequest.self, from: Data(body.utf8))
            #expect(quick(body) == expected, "\(body)")
        }
        for body in [#"{"issued_before":"1"}"#, #"{"id":true}"#, #"{"id":"a","extra":"b"}"#, #"{"reason":"\n"}"#] {
            #expect(quick(body) == nil, "\(body)")
        }
    }

    static let issueBody = Array(
        #"{"resource":"https://cdn.example/v/a.mp4","methods":["GET","HEAD"],"ttl":3600,"not_before":-5,"max_uses":1000000000,"prefix":false,"bind_host":true,"ip":"2001:db8::/48","password":"pässwörd","expires_at":null}"#
            .utf8)

    static func quickIssue(_ body: [UInt8]) -> IssueLinkRequest? {
        quick(IssueLinkRequest.self, body)
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

    /// Every request body type, every member, every value its type takes: as `authorityctl` sends
    /// it (absent members left out) and with every absent member written as `null`.
    @Test func everyMemberOfEveryRequestAgreesWithJSONDecoder() throws {
        func check<T: WireObject & Equatable>(_ type: T.Type) throws -> Int {
            var answered = 0
            for value in WireSamples.variants(of: type) {
                let sent = try JSONEncoder().encode(value)
                var object = try #require(try JSONSerialization.jsonObject(with: sent) as? [String: Any])
                for field in T.wireFields.fields where object[field.name] == nil { object[field.name] = NSNull() }
                for body in [Array(sent), Array(try JSONSerialization.data(withJSONObject: object))] {
                    guard let quick = Self.quick(type, body) else { continue }
                    #expect(quick == (try JSONDecoder().decode(T.self, from: Data(body))), "\(String(decoding: body, as: UTF8.self))")
                    #expect(quick == value)
                    answered += 1
                }
            }
            return answered
        }
        for type in WireSamples.requests {
            let answered = try check(type)
            #expect(answered > type.wireFieldCount, "\(type): the quick reader answered \(answered) times")
        }
    }

    static func refusal<T: APIRequestBody>(_ type: T.Type, _ body: String) -> APIError? {
        let head = HTTPRequestHead(version: .http1_1, method: .POST, uri: "/")
        guard case .failure(let error) = APIRequest(head: head, body: ByteBuffer(string: body)).decode(type) else { return nil }
        return error
    }

    /// An unknown member gets one answer, whether the quick reader or `JSONDecoder` read the body.
    @Test func unknownMembersAreRefusedOneWay() throws {
        let quick = #"{"url":"/a","urll":"/b","colour":1,"b":null,"a":true}"#
        #expect(Self.reading(CheckLinkRequest.self, Array(quick.utf8)) == .unknown(["a", "b", "colour", "urll"]))
        let slow = #"{"url":"\/a","urll":"/b","colour":1,"b":null,"a":true}"#  // an escape: JSONDecoder reads it
        #expect(Self.reading(CheckLinkRequest.self, Array(slow.utf8)) == .undecided)
        let known = "client_ip, consume, cookie, host, issue_cookie, method, password, url"
        for body in [quick, slow] {
            let error = try #require(Self.refusal(CheckLinkRequest.self, body))
            #expect(error.code == .unknownField)
            #expect(error.message == #"unknown field "a", "b", "colour" and 1 more; known: "# + known, "\(body)")
        }
        let wrongTypeToo = try #require(Self.refusal(IssueLinkRequest.self, #"{"resource":5,"max_use":3}"#))
        #expect(wrongTypeToo.code == .unknownField && wrongTypeToo.message.hasPrefix(#"unknown field "max_use"; known: bind_host, "#))
    }
}

extension WireObject {
    static var wireFieldCount: Int { wireFields.fields.count }
}
