import AuthorityCore

/// A right a caller may hold (docs/api.md, Authorisation).
public enum Right: String, Sendable, CaseIterable, Codable {
    case check, issue, revoke, admin
}

/// What one caller may do under the policy: its rights, and where it may issue. (Not to be
/// confused with `LinkGrant`, what a link allows.)
public struct CallerRights: Sendable, Equatable {
    public var rights: Set<Right>
    /// Canonical path prefixes `issue` is limited to; nil means anywhere.
    public var issuePrefixes: [String]?

    public static let none = CallerRights(rights: [], issuePrefixes: [])

    public func allows(_ right: Right) -> Bool { rights.contains(.admin) || rights.contains(right) }

    /// Whether this caller may issue a link for canonical resource `path`.
    public func mayIssue(path: String) -> Bool {
        guard allows(.issue) else { return false }
        if rights.contains(.admin) { return true }
        guard let prefixes = issuePrefixes else { return true }
        return prefixes.contains { LinkGrant.path(path, isUnder: $0) }
    }
}
