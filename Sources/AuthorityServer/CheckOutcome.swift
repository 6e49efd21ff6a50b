import AuthorityCore

/// A finished check: the verdict of steps 1–8, the final reason, and what the stateful steps added.
struct CheckOutcome: Sendable {
    var verdict: Verdict
    var reason: Reason
    var remainingUses: Int64?
    var cookie: UnlockCookie?
    var now: Int64
}
