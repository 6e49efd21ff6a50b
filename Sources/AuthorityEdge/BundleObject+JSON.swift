import AuthorityCore
import Foundation

extension BundleObject {
    /// Reads the JSON twin (docs/revocation-bundle.md §2.2), checking every rule of §2–§4
    /// (`bad_format`): the members of its kind and no other, exact integers, sorted lists.
    public init(json data: Data) throws(BundleError) {
        guard let parsed = try? JSONSerialization.jsonObject(with: data), let object = parsed as? [String: Any] else {
            throw .badFormat("not a JSON object")
        }
        try self.init(jsonObject: object)
    }

    public init(jsonObject object: [String: Any]) throws(BundleError) {
        var reader = JSONMembers(object)
        guard try reader.string("format") == RevocationBundle.context else { throw .badFormat("format is not \(RevocationBundle.context)") }
        let kind = try reader.string("kind")
        let epoch = try reader.integer("epoch", minimum: 1)
        let serial = try reader.integer("serial", minimum: 1)
        let issuedAt = try reader.integer("issued_at", minimum: 0)
        let notAfter = try reader.integer("not_after", minimum: 0)
        let digest = try reader.bytes("digest", count: 32)
        let signature = try reader.bytes("signature", count: 64)
        let statement = BundleStatement(epoch: UInt64(epoch), serial: serial, issuedAt: issuedAt, notAfter: notAfter, digest: digest)
        let body: Body
        switch kind {
        case "full":
            let content = BundleContent(
                checkedEpochs: try reader.epochs("epochs"), rules: try reader.rules("rules"), ids: try reader.ids("ids"))
            body = .full(content)
        case "delta":
            let base = try reader.integer("base_serial", minimum: 0)
            let epochs = try reader.epochs("epochs")
            let removedRules = try reader.array("removed_rules").map { item throws(BundleError) in
                guard let prefix = item as? String else { throw BundleError.badFormat("removed_rules holds a non-string") }
                return try BundleRule.checkedPrefix(prefix)
            }
            try JSONMembers.checkOrder(removedRules, by: { $0 }, "removed_rules")
            var changes = BundleChanges(baseSerial: base, epochs: [], removedRules: [], setRules: [], removedIDs: [], addedIDs: [])
            changes.epochs = epochs
            changes.removedRules = removedRules
            changes.setRules = try reader.rules("set_rules")
            changes.removedIDs = try reader.ids("removed_ids")
            changes.addedIDs = try reader.ids("added_ids")
            body = .delta(changes)
        case "freshness":
            body = .freshness
        default:
            throw .badFormat("kind \(kind.prefix(20))")
        }
        try reader.finish()
        self.init(statement: statement, signature: signature, body: body)
    }
}

extension BundleContent {
    /// Content whose lists are already checked for order (kept as given, not sorted again).
    init(checkedEpochs epochs: [BundleEpoch], rules: [BundleRule], ids: [LinkID]) {
        self.init(epochs: [], rules: [], ids: [])
        self.epochs = epochs
        self.rules = rules
        self.ids = ids
    }
}

/// The members of one JSON object, each read once; `finish` refuses any left over.
private struct JSONMembers {
    var object: [String: Any]

    init(_ object: [String: Any]) { self.object = object }

    mutating func take(_ name: String) throws(BundleError) -> Any {
        guard let value = object.removeValue(forKey: name) else { throw .badFormat("no member \(name)") }
        return value
    }

    func finish() throws(BundleError) {
        if let extra = object.keys.sorted().first { throw .badFormat("unknown member \(extra.prefix(40))") }
    }

    mutating func string(_ name: String) throws(BundleError) -> String {
        guard let value = try take(name) as? String else { throw .badFormat("\(name) is not a string") }
        return value
    }

    /// The largest integer of the JSON twin (§2.2): what every JSON reader holds exactly.
    static let largestInteger: Int64 = 9_007_199_254_740_991

    /// An integer JSON number (not a boolean, not a fraction) from `minimum` to 2^53 − 1.
    static func integer(_ value: Any, _ name: String, minimum: Int64) throws(BundleError) -> Int64 {
        // Foundation reads JSON integers as NSNumber of an integer type ("q", "i", …), booleans as
        // "c" and anything with a fraction, an exponent or out of range as "d" or a decimal.
        guard let number = value as? NSNumber, !(value is NSDecimalNumber),
            ["q", "i", "s", "l", "Q", "I", "S", "L"].contains(String(cString: number.objCType)),
            let integer = Int64(number.stringValue), integer >= minimum, integer <= largestInteger
        else { throw .badFormat("\(name) is not an integer from \(minimum) to 2^53 - 1") }
        return integer
    }

    mutating func integer(_ name: String, minimum: Int64) throws(BundleError) -> Int64 {
        try Self.integer(try take(name), name, minimum: minimum)
    }

    mutating func bytes(_ name: String, count: Int) throws(BundleError) -> [UInt8] {
        let text = try string(name)
        guard let bytes = Base64URL.decode(text), bytes.count == count else { throw .badFormat("\(name) is not \(count) bytes of base64url") }
        return bytes
    }

    mutating func array(_ name: String) throws(BundleError) -> [Any] {
        guard let value = try take(name) as? [Any] else { throw .badFormat("\(name) is not an array") }
        return value
    }

    mutating func epochs(_ name: String) throws(BundleError) -> [BundleEpoch] {
        let epochs = try array(name).map { item throws(BundleError) -> BundleEpoch in
            guard let entry = item as? [String: Any] else { throw .badFormat("\(name) holds a non-object") }
            var members = JSONMembers(entry)
            let epoch = try members.integer("epoch", minimum: 1)
            guard let status = KeyStatus(rawValue: try members.string("state")) else { throw .badFormat("an epoch state is unknown") }
            try members.finish()
            return BundleEpoch(epoch: UInt64(epoch), status: status)
        }
        try Self.checkOrder(epochs, by: { $0.epoch }, name)
        guard epochs.filter({ $0.status == .active }).count == 1 else { throw .badFormat("not exactly one active epoch") }
        return epochs
    }

    mutating func rules(_ name: String) throws(BundleError) -> [BundleRule] {
        let rules = try array(name).map { item throws(BundleError) -> BundleRule in
            guard let entry = item as? [String: Any] else { throw .badFormat("\(name) holds a non-object") }
            var members = JSONMembers(entry)
            let prefix = try BundleRule.checkedPrefix(try members.string("prefix"))
            let cutoff = try members.take("issued_before")
            try members.finish()
            if cutoff is NSNull { return BundleRule(prefix: prefix, cutoff: RevocationBundle.standingBlock) }
            let time = try Self.integer(cutoff, "issued_before", minimum: -Self.largestInteger)
            guard time != RevocationBundle.standingBlock else { throw .badFormat("a standing block is written null") }
            return BundleRule(prefix: prefix, cutoff: time)
        }
        try Self.checkOrder(rules.map(\.prefix), by: { $0 }, name)
        return rules
    }

    mutating func ids(_ name: String) throws(BundleError) -> [LinkID] {
        let ids = try array(name).map { item throws(BundleError) -> LinkID in
            guard let text = item as? String, let id = LinkID(text) else { throw .badFormat("\(name) holds something not a link id") }
            return id
        }
        try Self.checkOrder(ids, by: { $0 }, name)
        return ids
    }

    /// Strictly ascending (bytewise for strings): sorted and unique.
    static func checkOrder<T, K>(_ items: [T], by key: (T) -> K, _ name: String) throws(BundleError) where K: Comparable {
        for index in items.indices.dropFirst() where !(key(items[index - 1]) < key(items[index])) {
            throw .badFormat("\(name) out of order")
        }
    }

    static func checkOrder(_ items: [String], by key: (String) -> String, _ name: String) throws(BundleError) {
        for index in items.indices.dropFirst() where !items[index - 1].utf8.lexicographicallyPrecedes(items[index].utf8) {
            throw .badFormat("\(name) out of order")
        }
    }
}
