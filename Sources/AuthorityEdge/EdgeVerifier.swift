import AuthorityCore
import Foundation

/// Verifies links the way the daemon does, without it: a JWK set, the revocation bundle it
/// accepted last and a clock (docs/edge.md). Value type: keep one per process and feed it each
/// object the origin answers (full bundles, deltas, freshness objects).
public struct EdgeVerifier: Sendable {
    public var keys: JSONWebKeys
    public private(set) var holder = BundleHolder()
    public var verifier: LinkVerifier

    public init(keys: JSONWebKeys, notBeforeLeeway: Int64 = 30) {
        self.keys = keys
        verifier = LinkVerifier(notBeforeLeeway: notBeforeLeeway)
    }

    /// The state held, if any (serial, digest, content, `not_after`).
    public var held: BundleHolder.Held? { holder.held }

    /// Reads an object in either form (JSON when its first byte is `{`), then accepts it
    /// (docs/revocation-bundle.md §6). On any refusal nothing changes.
    @discardableResult
    public mutating func accept(_ bytes: [UInt8], now: Int64) throws(BundleError) -> BundleHolder.Acceptance {
        try accept(try Self.object(bytes), now: now)
    }

    @discardableResult
    public mutating func accept(_ object: BundleObject, now: Int64) throws(BundleError) -> BundleHolder.Acceptance {
        try holder.accept(object, key: keys.bundleKey(epoch: object.statement.epoch), now: now)
    }

    /// The reason of docs/revocation-bundle.md §7.
    public func check(_ request: LinkRequest, now: Int64) -> EdgeVerdict {
        holder.check(request, keys: keys, now: now, verifier: verifier)
    }

    /// An object from its bytes: the JSON twin when the first byte is `{`, else the binary form.
    public static func object(_ bytes: [UInt8]) throws(BundleError) -> BundleObject {
        if bytes.first == UInt8(ascii: "{") { return try BundleObject(json: Data(bytes)) }
        return try BundleObject(binary: bytes)
    }
}
