import AuthorityCore

/// A finished check: the verdict of steps 1–8, the final reason, and what the stateful steps added.
struct CheckOutcome: Sendable {
    var verdict: Verdict
    var reason: Reason
    var remainingUses: Int64?
    var cookie: UnlockCookie?
    var now: Int64
    /// A grant cookie to set: minted for a passing `c` link, or renewed (docs/link-format.md §12).
    var grantCookie: GrantCookie?
    /// Where the browser goes once the grant cookie is set: the request without the link.
    var location: String?
    /// The request passed on a grant cookie, not on a link.
    var byGrantCookie = false
}
