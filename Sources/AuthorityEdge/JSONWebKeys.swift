import AuthorityCore
import Foundation

/// A JWK set (`GET /v1/keys`, RFC 8037 `OKP`/`Ed25519` keys, `kid` = the epoch) as the keys of
/// an offline verifier. A key whose `status` is `retired` verifies nothing (`retired_key`).
public struct JSONWebKeys: VerificationKeys, Sendable {
    public private(set) var keys: [UInt64: (key: PublicKey, retired: Bool)]

    public init(_ keys: [UInt64: (key: PublicKey, retired: Bool)]) { self.keys = keys }

    /// Parses a JWK set; keys of another type are skipped, a malformed Ed25519 key is an error.
    public init(json data: Data) throws(EdgeError) {
        guard let object = try? JSONSerialization.jsonObject(with: data), let set = object as? [String: Any],
            let list = set["keys"] as? [Any]
        else { throw .badKeys("not a JWK set (an object with a \"keys\" array)") }
        var keys: [UInt64: (key: PublicKey, retired: Bool)] = [:]
        for case let (index, entry) in list.enumerated() {
            guard let jwk = entry as? [String: Any] else { throw .badKeys("key \(index) is not an object") }
            guard jwk["kty"] as? String == "OKP", jwk["crv"] as? String == "Ed25519" else { continue }
            guard let kid = jwk["kid"] as? String, let epoch = UInt64(kid), epoch >= 1, String(epoch) == kid else {
                throw .badKeys("key \(index): kid must be the epoch in decimal")
            }
            guard let x = jwk["x"] as? String, x.utf8.count == 43, let bytes = Base64URL.decode(x),
                let key = PublicKey(bytes: bytes)
            else { throw .badKeys("key \(index): x must be 32 bytes of base64url") }
            guard keys.updateValue((key, jwk["status"] as? String == "retired"), forKey: epoch) == nil else {
                throw .badKeys("epoch \(epoch) appears twice")
            }
        }
        self.keys = keys
    }

    public func verificationKey(epoch: UInt64) -> (key: PublicKey, retired: Bool)? { keys[epoch] }

    /// The key that may sign a bundle of `epoch`: nil when unknown or retired (§6 step 2).
    public func bundleKey(epoch: UInt64) -> PublicKey? {
        guard let entry = keys[epoch], !entry.retired else { return nil }
        return entry.key
    }
}

/// What an edge verifier refuses that is not a bundle's fault.
public enum EdgeError: Error, Equatable, Sendable, CustomStringConvertible {
    case badKeys(String)

    public var description: String {
        switch self {
        case .badKeys(let why): "bad JWK set: \(why)"
        }
    }
}
