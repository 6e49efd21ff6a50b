/// A short-lived signed grant that stands in for a link's password (docs/link-format.md §10):
/// bound to one link id and, for an IP-bound link, to the client address that unlocked it. It is
/// only ever accepted together with its link, so revoking, expiring or exhausting the link ends
/// its cookies too.
public struct UnlockCookie: Sendable, Equatable {
    public var epoch: UInt64
    public var linkID: LinkID
    public var expiresAt: Int64
    /// The client address it is bound to, if any.
    public var address: IPAddress?
    public var signature: [UInt8]

    public static let context = "authority-cookie-v1"
    /// The cookie name proxies pass on (`Cookie: authority_unlock=…`).
    public static let name = "authority_unlock"

    /// The exact bytes signed.
    public var signedMessage: [UInt8] {
        Array("\(Self.context)\nepoch=\(epoch)\nid=\(linkID)\nexpires_at=\(expiresAt)\nip=\(address?.description ?? "")\n".utf8)
    }

    /// Signs a new cookie.
    public static func issue(linkID: LinkID, expiresAt: Int64, address: IPAddress?, epoch: UInt64, key: SigningKey)
        -> UnlockCookie
    {
        var cookie = UnlockCookie(epoch: epoch, linkID: linkID, expiresAt: expiresAt, address: address, signature: [])
        cookie.signature = key.sign(cookie.signedMessage)
        return cookie
    }

    /// `1.<epoch>.<link id>.<expires_at>.<base64url(address) or empty>.<signature>`.
    public var value: String {
        "1.\(epoch).\(linkID).\(expiresAt).\(address.map { Base64URL.encode(Array($0.description.utf8)) } ?? "").\(Base64URL.encode(signature))"
    }

    /// Parses the strict form of `value`; nil for anything else.
    public init?(value: some StringProtocol) {
        let parts = value.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 6, parts[0].utf8.elementsEqual("1".utf8),
            let epoch = ReservedParameters.decimal(String(parts[1])), epoch >= 1,
            let id = LinkID(Array(parts[2].utf8)),
            let expiresAt = ReservedParameters.decimal(String(parts[3])),
            parts[5].utf8.count == 86, let signature = Base64URL.decode(Array(parts[5].utf8))
        else { return nil }
        var address: IPAddress?
        if !parts[4].isEmpty {
            guard let text = Base64URL.decode(Array(parts[4].utf8)), let parsed = IPAddress(canonical: String(decoding: text, as: UTF8.self))
            else { return nil }
            address = parsed
        }
        self.init(epoch: UInt64(epoch), linkID: id, expiresAt: expiresAt, address: address, signature: signature)
    }

    public init(epoch: UInt64, linkID: LinkID, expiresAt: Int64, address: IPAddress?, signature: [UInt8]) {
        self.epoch = epoch
        self.linkID = linkID
        self.expiresAt = expiresAt
        self.address = address
        self.signature = signature
    }

    /// Whether this cookie unlocks `link` for a client at `client` at time `now`.
    public func unlocks(_ link: LinkGrant, client: IPAddress?, keys: some VerificationKeys, now: Int64) -> Bool {
        guard linkID == link.id, now < expiresAt, expiresAt <= link.expiresAt else { return false }
        if let address { guard address == client else { return false } }
        if link.network != nil, address == nil { return false }
        guard let (key, retired) = keys.verificationKey(epoch: epoch), !retired else { return false }
        return key.isValidSignature(signature, for: signedMessage)
    }

    /// The value of the `authority_unlock` cookie in a `Cookie` header, if present.
    public static func find(inCookieHeader header: String) -> String? {
        for pair in header.split(separator: ";") {
            let trimmed = pair.drop { $0 == " " }
            let bytes = trimmed.utf8
            if bytes.starts(with: (name + "=").utf8) { return String(decoding: bytes.dropFirst(name.utf8.count + 1), as: UTF8.self) }
        }
        return nil
    }
}
