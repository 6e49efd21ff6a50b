/// The outcome of a check: a stable reason code, the first failing check in the documented order
/// (docs/link-format.md §6). Anything but `ok` refuses the request.
public enum Reason: String, Sendable, CaseIterable, Codable {
    case ok
    case malformed
    case unknownKey = "unknown_key"
    case retiredKey = "retired_key"
    case badSignature = "bad_signature"
    case expired
    case notYetValid = "not_yet_valid"
    case methodNotAllowed = "method_not_allowed"
    case resourceMismatch = "resource_mismatch"
    case ipMismatch = "ip_mismatch"
    case revoked
    case usesExhausted = "uses_exhausted"
    case passwordRequired = "password_required"
    case passwordIncorrect = "password_incorrect"
    case locked
}

/// What a check answers: the reason and, whenever the link parsed, the decoded link.
public struct Verdict: Sendable {
    public var reason: Reason
    public var link: ParsedLink?
    /// For `malformed`: which rule the link broke (safe to show: contains no signature).
    public var detail: String?

    public var isValid: Bool { reason == .ok }

    public init(reason: Reason, link: ParsedLink? = nil, detail: String? = nil) {
        self.reason = reason
        self.link = link
        self.detail = detail
    }
}
