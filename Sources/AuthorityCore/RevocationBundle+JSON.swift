/// The JSON twin of docs/revocation-bundle.md §2.2, written by hand: every value is an integer,
/// `null`, a base64url string or a canonical path (ASCII without `"` or `\`), so nothing needs
/// escaping. Members in a fixed order; one object per line.
extension BundleObject {
    public func json() -> String {
        var out = "{\"format\":\"\(RevocationBundle.context)\",\"kind\":\"\(kindName)\""
        out += ",\"epoch\":\(statement.epoch),\"serial\":\(statement.serial)"
        out += ",\"issued_at\":\(statement.issuedAt),\"not_after\":\(statement.notAfter)"
        out += ",\"digest\":\"\(Base64URL.encode(statement.digest))\",\"signature\":\"\(Base64URL.encode(signature))\""
        switch body {
        case .full(let content):
            out += ",\"epochs\":" + Self.json(content.epochs)
            out += ",\"rules\":" + Self.json(content.rules)
            out += ",\"ids\":" + Self.json(content.ids)
        case .delta(let changes):
            out += ",\"base_serial\":\(changes.baseSerial),\"epochs\":" + Self.json(changes.epochs)
            out += ",\"removed_rules\":[" + changes.removedRules.map { "\"\($0)\"" }.joined(separator: ",") + "]"
            out += ",\"set_rules\":" + Self.json(changes.setRules)
            out += ",\"removed_ids\":" + Self.json(changes.removedIDs)
            out += ",\"added_ids\":" + Self.json(changes.addedIDs)
        case .freshness:
            break
        }
        return out + "}\n"
    }

    private static func json(_ epochs: [BundleEpoch]) -> String {
        "[" + epochs.map { "{\"epoch\":\($0.epoch),\"state\":\"\($0.status.rawValue)\"}" }.joined(separator: ",") + "]"
    }

    private static func json(_ rules: [BundleRule]) -> String {
        "["
            + rules.map { rule in
                let cutoff = rule.cutoff == RevocationBundle.standingBlock ? "null" : String(rule.cutoff)
                return "{\"prefix\":\"\(rule.prefix)\",\"issued_before\":\(cutoff)}"
            }.joined(separator: ",") + "]"
    }

    private static func json(_ ids: [LinkID]) -> String {
        var out = "["
        out.reserveCapacity(2 + ids.count * 25)
        for (index, id) in ids.enumerated() {
            if index > 0 { out += "," }
            out += "\"\(id.description)\""
        }
        return out + "]"
    }
}
