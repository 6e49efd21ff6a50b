/// One check of docs/link-format.md §6 as `explain` reports it.
public struct CheckStep: Sendable, Equatable {
    public enum Outcome: String, Sendable { case pass, fail, skipped }
    /// `format`, `key`, `signature`, `expiry`, `not_before`, `method`, `resource`, `ip`, `revocation`.
    public var name: String
    public var outcome: Outcome
    /// The reason code this check gives when it fails.
    public var reason: Reason
    public var detail: String?

    public init(_ name: String, _ outcome: Outcome, _ reason: Reason, _ detail: String? = nil) {
        self.name = name
        self.outcome = outcome
        self.reason = reason
        self.detail = detail
    }
}

extension LinkVerifier {
    /// Runs every check that can run, in the documented order, instead of stopping at the first
    /// failure. The verdict's reason is the first failure, exactly as `check` answers.
    public func explain(
        _ request: LinkRequest, keys: some VerificationKeys, revocations: RevocationIndex?, now: Int64
    ) -> (verdict: Verdict, steps: [CheckStep]) {
        let link: ParsedLink
        do {
            link = try ParsedLink(target: request.target, host: request.host)
        } catch {
            let skipped = ["key", "signature", "expiry", "not_before", "method", "resource", "ip", "revocation"]
            return (Verdict(reason: .malformed, detail: error.description),
                    [CheckStep("format", .fail, .malformed, error.description)]
                        + skipped.map { CheckStep($0, .skipped, Self.reasons[$0]!, "the link did not parse") })
        }
        let steps = [CheckStep("format", .pass, .malformed)] + keySteps(link, keys: keys)
            + stateSteps(link, request: request, revocations: revocations, now: now)
        let reason = steps.first { $0.outcome == .fail }?.reason ?? .ok
        return (Verdict(reason: reason, link: link), steps)
    }

    private static let reasons: [String: Reason] = [
        "key": .unknownKey, "signature": .badSignature, "expiry": .expired, "not_before": .notYetValid,
        "method": .methodNotAllowed, "resource": .resourceMismatch, "ip": .ipMismatch, "revocation": .revoked,
    ]

    private func keySteps(_ link: ParsedLink, keys: some VerificationKeys) -> [CheckStep] {
        let epoch = link.grant.epoch
        guard let (key, retired) = keys.verificationKey(epoch: epoch) else {
            return [CheckStep("key", .fail, .unknownKey, "no key for epoch \(epoch)"),
                    CheckStep("signature", .skipped, .badSignature, "no key to verify with")]
        }
        let signature = key.isValidSignature(link.signature, for: link.signedMessage)
            ? CheckStep("signature", .pass, .badSignature)
            : CheckStep("signature", .fail, .badSignature, "the signature does not match the signed message")
        if retired { return [CheckStep("key", .fail, .retiredKey, "epoch \(epoch) is retired"), signature] }
        return [CheckStep("key", .pass, .unknownKey, "epoch \(epoch)"), signature]
    }

    private func stateSteps(_ link: ParsedLink, request: LinkRequest, revocations: RevocationIndex?, now: Int64)
        -> [CheckStep]
    {
        let grant = link.grant
        var steps: [CheckStep] = []
        steps.append(now >= grant.expiresAt
            ? CheckStep("expiry", .fail, .expired, "expired \(now - grant.expiresAt) s ago")
            : CheckStep("expiry", .pass, .expired, "expires in \(grant.expiresAt - now) s"))
        if let notBefore = grant.notBefore {
            steps.append(now < notBefore - notBeforeLeeway
                ? CheckStep("not_before", .fail, .notYetValid, "valid from \(notBefore) (leeway \(notBeforeLeeway) s)")
                : CheckStep("not_before", .pass, .notYetValid))
        } else {
            steps.append(CheckStep("not_before", .skipped, .notYetValid, "no not-before"))
        }
        let methodAllowed = HTTPMethods(method: request.method).map { grant.methods.contains($0) } ?? false
        steps.append(methodAllowed
            ? CheckStep("method", .pass, .methodNotAllowed, request.method)
            : CheckStep("method", .fail, .methodNotAllowed, "\(request.method.prefix(16)) is not one of \(grant.methods.canonicalText)"))
        if !grant.matches(host: link.host) {
            steps.append(CheckStep("resource", .fail, .resourceMismatch, "bound to host \(grant.host ?? ""), request host \(link.host ?? "none")"))
        } else if !grant.covers(path: link.path) {
            steps.append(CheckStep("resource", .fail, .resourceMismatch, "\(link.path) is not under \(grant.prefix ?? "")"))
        } else {
            steps.append(CheckStep("resource", .pass, .resourceMismatch, grant.prefix.map { "under \($0)" }))
        }
        if let network = grant.network {
            let inside = request.clientAddress.map { network.contains($0) } ?? false
            steps.append(inside
                ? CheckStep("ip", .pass, .ipMismatch, "inside \(network)")
                : CheckStep("ip", .fail, .ipMismatch, "client \(request.clientAddress?.description ?? "unknown") is outside \(network)"))
        } else {
            steps.append(CheckStep("ip", .skipped, .ipMismatch, "not bound to a network"))
        }
        if let revocations {
            steps.append(revocations.isRevoked(id: grant.id, path: link.path, issuedAt: grant.issuedAt)
                ? CheckStep("revocation", .fail, .revoked, "covered by the revocation list")
                : CheckStep("revocation", .pass, .revoked))
        } else {
            steps.append(CheckStep("revocation", .skipped, .revoked, "the revocation list is switched off"))
        }
        return steps
    }
}
