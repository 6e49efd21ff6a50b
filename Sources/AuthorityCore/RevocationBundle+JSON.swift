/// The JSON twin of docs/revocation-bundle.md §2.2, written by hand: every value is an integer,
/// `null`, a base64url string or a canonical path (ASCII without `"` or `\`), so nothing needs
/// escaping. Members in a fixed order; one object per line.
extension BundleObject {
    public func json() -> String { jsonHead() + jsonBody() }

    /// The members every kind has (format, kind, the statement, the signature), without the
    /// closing brace: `jsonHead() + jsonBody()` is the whole object.
    public func jsonHead() -> String {
        var out = "{\"format\":\"\(RevocationBundle.context)\",\"kind\":\"\(kindName)\""
        out += ",\"epoch\":\(statement.epoch),\"serial\":\(statement.serial)"
        out += ",\"issued_at\":\(statement.issuedAt),\"not_after\":\(statement.notAfter)"
        out += ",\"digest\":\"\(Base64URL.encode(statement.digest))\",\"signature\":\"\(Base64URL.encode(signature))\""
        return out
    }

    /// The rest: the body's members and the closing brace. For a full bundle it depends on the
    /// content alone (`BundleContent.jsonMembers`), so the daemon writes it once per serial.
    public func jsonBody() -> String {
        var out = ""
        switch body {
        case .full(let content):
            return content.jsonMembers
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

    static func json(_ epochs: [BundleEpoch]) -> String {
        "[" + epochs.map { "{\"epoch\":\($0.epoch),\"state\":\"\($0.status.rawValue)\"}" }.joined(separator: ",") + "]"
    }

    static func json(_ rules: [BundleRule]) -> String {
        "["
            + rules.map { rule in
                let cutoff = rule.cutoff == RevocationBundle.standingBlock ? "null" : String(rule.cutoff)
                return "{\"prefix\":\"\(rule.prefix)\",\"issued_before\":\(cutoff)}"
            }.joined(separator: ",") + "]"
    }

    static func json(_ ids: [LinkID]) -> String {
        var out = "["
        out.reserveCapacity(2 + ids.count * 25)
        for (index, id) in ids.enumerated() {
            if index > 0 { out += "," }
            out += "\"\(id.description)\""
        }
        return out + "]"
    }
}

extension BundleContent {
    /// A full bundle's JSON members after the statement, with the closing brace (see `jsonBody`).
    public var jsonMembers: String {
        ",\"epochs\":" + BundleObject.json(epochs) + ",\"rules\":" + BundleObject.json(rules) + ",\"ids\":"
            + BundleObject.json(ids) + "}\n"
    }
}
