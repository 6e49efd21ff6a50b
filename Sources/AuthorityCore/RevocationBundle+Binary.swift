/// The binary form's fields (docs/revocation-bundle.md §2.1, §3, §4): written by `BundleWriter`,
/// read and checked by `BundleReader`.

/// Appends big-endian fields.
struct BundleWriter {
    var bytes: [UInt8] = []

    mutating func u64(_ value: UInt64) {
        withUnsafeBytes(of: value.bigEndian) { bytes.append(contentsOf: $0) }
    }

    mutating func count(_ value: Int) {
        let value = UInt32(value)
        for shift in stride(from: 24, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: value >> UInt32(shift))) }
    }

    mutating func epochs(_ epochs: [BundleEpoch]) {
        count(epochs.count)
        for epoch in epochs {
            u64(epoch.epoch)
            bytes.append(epoch.stateByte)
        }
    }

    mutating func prefix(_ prefix: String) {
        let length = prefix.utf8.count
        bytes.append(UInt8(length >> 8))
        bytes.append(UInt8(length & 0xFF))
        bytes += prefix.utf8
    }

    mutating func rule(_ rule: BundleRule) {
        prefix(rule.prefix)
        u64(UInt64(bitPattern: rule.cutoff))
    }

    mutating func ids(_ ids: [LinkID]) {
        count(ids.count)
        // 16 bytes per id written in place: 10^6 ids are 16 MB, appended byte by byte they
        // cost more than hashing them.
        let start = bytes.count
        bytes.append(contentsOf: repeatElement(0, count: 16 * ids.count))
        bytes.withUnsafeMutableBytes { buffer in
            var offset = start
            for id in ids {
                buffer.storeBytes(of: id.high.bigEndian, toByteOffset: offset, as: UInt64.self)
                buffer.storeBytes(of: id.low.bigEndian, toByteOffset: offset + 8, as: UInt64.self)
                offset += 16
            }
        }
    }
}

/// Reads big-endian fields, refusing anything short, unordered or repeated (`bad_format`).
struct BundleReader {
    let bytes: [UInt8]
    var offset = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    var atEnd: Bool { offset == bytes.count }
    var remaining: Int { bytes.count - offset }

    mutating func take(_ count: Int) throws(BundleError) -> [UInt8] {
        guard count <= remaining else { throw .badFormat("truncated at byte \(offset)") }
        defer { offset += count }
        return Array(bytes[offset..<offset + count])
    }

    mutating func u8() throws(BundleError) -> UInt8 { try take(1)[0] }

    mutating func u64() throws(BundleError) -> UInt64 {
        guard remaining >= 8 else { throw .badFormat("truncated at byte \(offset)") }
        var value: UInt64 = 0
        for index in offset..<offset + 8 { value = value << 8 | UInt64(bytes[index]) }
        offset += 8
        return value
    }

    /// A count whose items of at least `minimumSize` bytes each fit in what is left.
    mutating func count(minimumSize: Int) throws(BundleError) -> Int {
        let raw = try take(4)
        let count = raw.reduce(0) { $0 << 8 | Int($1) }
        guard count <= remaining / minimumSize else { throw .badFormat("a count of \(count) is longer than the object") }
        return count
    }

    mutating func epochs() throws(BundleError) -> [BundleEpoch] {
        let count = try count(minimumSize: 9)
        var epochs: [BundleEpoch] = []
        epochs.reserveCapacity(count)
        for _ in 0..<count {
            let epoch = try BundleEpoch(epoch: try u64(), stateByte: try u8())
            guard epoch.epoch >= 1, epoch.epoch <= UInt64(Int64.max) else { throw .badFormat("epoch \(epoch.epoch) out of range") }
            if let last = epochs.last, last.epoch >= epoch.epoch { throw .badFormat("epochs out of order") }
            epochs.append(epoch)
        }
        guard epochs.filter({ $0.status == .active }).count == 1 else { throw .badFormat("not exactly one active epoch") }
        return epochs
    }

    mutating func prefix() throws(BundleError) -> String {
        let raw = try take(2)
        let length = Int(raw[0]) << 8 | Int(raw[1])
        guard (1...Canonical.maximumPathBytes).contains(length) else { throw .badFormat("prefix length \(length)") }
        guard let text = String(validating: try take(length), as: UTF8.self) else { throw .badFormat("a prefix that is not UTF-8") }
        return try BundleRule.checkedPrefix(text)
    }

    mutating func rules(withCutoff: Bool) throws(BundleError) -> [BundleRule] {
        let count = try count(minimumSize: withCutoff ? 11 : 3)
        var rules: [BundleRule] = []
        for _ in 0..<count {
            let prefix = try prefix()
            let cutoff = withCutoff ? Int64(bitPattern: try u64()) : 0
            if let last = rules.last, !BundleRule.ordered(last.prefix, prefix) { throw .badFormat("rules out of order") }
            rules.append(BundleRule(prefix: prefix, cutoff: cutoff))
        }
        return rules
    }

    mutating func ids() throws(BundleError) -> [LinkID] {
        let count = try count(minimumSize: 16)
        var ids: [LinkID] = []
        ids.reserveCapacity(count)
        for _ in 0..<count {
            let id = LinkID(high: try u64(), low: try u64())
            if let last = ids.last, !(last < id) { throw .badFormat("ids out of order") }
            ids.append(id)
        }
        return ids
    }

    mutating func content() throws(BundleError) -> BundleContent {
        let epochs = try epochs()
        let rules = try rules(withCutoff: true)
        let ids = try ids()
        var content = BundleContent(epochs: [], rules: [], ids: [])
        (content.epochs, content.rules, content.ids) = (epochs, rules, ids)
        return content
    }

    mutating func changes() throws(BundleError) -> BundleChanges {
        let base = try u64()
        guard base <= UInt64(Int64.max) else { throw .badFormat("base serial out of range") }
        var changes = BundleChanges(baseSerial: Int64(base), epochs: [], removedRules: [], setRules: [], removedIDs: [], addedIDs: [])
        changes.epochs = try epochs()
        changes.removedRules = try rules(withCutoff: false).map(\.prefix)
        changes.setRules = try rules(withCutoff: true)
        changes.removedIDs = try ids()
        changes.addedIDs = try ids()
        return changes
    }
}
