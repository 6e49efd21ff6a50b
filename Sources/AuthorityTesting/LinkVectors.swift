import AuthorityCore
import Foundation

/// One published test vector (docs/link-format.md §9).
public struct LinkVector: Codable, Equatable, Sendable {
    public var name: String
    public var publicKey: String
    public var epoch: UInt64
    public var now: Int64
    public var notBeforeLeeway: Int64
    public var url: String
    public var host: String?
    public var method: String
    public var clientIP: String?
    public var signedMessage: String?
    public var signature: String?
    public var valid: Bool
    public var reason: String

    enum CodingKeys: String, CodingKey {
        case name, epoch, now, url, host, method, valid, reason, signature
        case publicKey = "public_key", notBeforeLeeway = "not_before_leeway", clientIP = "client_ip"
        case signedMessage = "signed_message"
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(name, forKey: .name)
        try container.encode(publicKey, forKey: .publicKey)
        try container.encode(epoch, forKey: .epoch)
        try container.encode(now, forKey: .now)
        try container.encode(notBeforeLeeway, forKey: .notBeforeLeeway)
        try container.encode(url, forKey: .url)
        try container.encode(host, forKey: .host)  // explicit null
        try container.encode(method, forKey: .method)
        try container.encode(clientIP, forKey: .clientIP)
        try container.encode(signedMessage, forKey: .signedMessage)
        try container.encode(signature, forKey: .signature)
        try container.encode(valid, forKey: .valid)
        try container.encode(reason, forKey: .reason)
    }

    /// The request this vector describes.
    public var request: LinkRequest {
        LinkRequest(target: url, host: host, method: method, clientAddress: clientIP.flatMap { IPAddress($0) })
    }
}

public struct VectorGenerationError: Error, CustomStringConvertible {
    public let description: String
}

/// The generator of `Tests/Vectors/link-v1.json`. Every case states its expected reason by hand;
/// generation fails if the verifier disagrees, so the file never records a bug as the truth.
public enum LinkVectors {
    struct Case {
        var name: String
        var expected: Reason
        var issue: IssueRequest
        var epochKey: (UInt64, SigningKey) = (Fixtures.epoch, Fixtures.key)
        var idByte: UInt8
        /// Turns the issued URL into the request target.
        var target: (String) -> String = { $0 }
        var host: String? = nil
        var method = "GET"
        var clientIP: String? = nil
        var nowOffset: Int64 = 100
    }

    public static func generate() throws -> [LinkVector] {
        var seen = Set<String>()
        return try cases.enumerated().map { index, testCase in
            guard seen.insert(testCase.name).inserted else {
                throw VectorGenerationError(description: "duplicate vector name \(testCase.name)")
            }
            return try vector(for: testCase)
        }
    }

    public static func json() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        var data = try encoder.encode(try generate())
        data.append(UInt8(ascii: "\n"))
        return data
    }

    static func vector(for testCase: Case) throws -> LinkVector {
        let issued: IssuedLink
        do {
            issued = try LinkIssuer.issue(
                testCase.issue, id: Fixtures.id(testCase.idByte), epoch: testCase.epochKey.0, key: testCase.epochKey.1,
                now: Fixtures.issuedAt)
        } catch {
            throw VectorGenerationError(description: "\(testCase.name): cannot issue: \(error)")
        }
        let now = Fixtures.issuedAt + testCase.nowOffset
        let url = testCase.target(issued.url)
        var result = LinkVector(
            name: testCase.name, publicKey: Fixtures.key.publicKey.base64URL, epoch: Fixtures.epoch, now: now,
            notBeforeLeeway: 30, url: url, host: testCase.host, method: testCase.method, clientIP: testCase.clientIP,
            signedMessage: nil, signature: nil, valid: false, reason: "")
        let verdict = LinkVerifier(notBeforeLeeway: 30).check(result.request, keys: Fixtures.keyRing(), now: now)
        guard verdict.reason == testCase.expected else {
            throw VectorGenerationError(
                description: "\(testCase.name): expected \(testCase.expected.rawValue), verifier says "
                    + "\(verdict.reason.rawValue) \(verdict.detail ?? "")")
        }
        if let link = verdict.link {
            result.signedMessage = Base64URL.encode(link.signedMessage)
            result.signature = Base64URL.encode(link.signature)
        }
        result.valid = verdict.isValid
        result.reason = verdict.reason.rawValue
        return result
    }
}
