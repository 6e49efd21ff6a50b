/// The state of one epoch's key.
public enum KeyStatus: String, Sendable, Codable, CaseIterable {
    /// Signs new links (exactly one epoch at a time) and verifies.
    case active
    /// Verifies links issued under it until `retireAfter` passes.
    case verifyOnly = "verify_only"
    /// Verifies nothing: its links answer `retired_key`.
    case retired
}

/// One epoch of the key ring: public half and state. Secret keys live in the store and in
/// `SigningKey`; the ring itself holds nothing secret.
public struct KeyRecord: Hashable, Sendable {
    public var epoch: UInt64
    public var publicKey: PublicKey
    public var status: KeyStatus
    public var createdAt: Int64
    /// At least the latest expiry ever issued under this epoch; nil before any link was issued.
    public var retireAfter: Int64?
    public var retiredAt: Int64?

    public init(
        epoch: UInt64, publicKey: PublicKey, status: KeyStatus, createdAt: Int64, retireAfter: Int64? = nil,
        retiredAt: Int64? = nil
    ) {
        self.epoch = epoch
        self.publicKey = publicKey
        self.status = status
        self.createdAt = createdAt
        self.retireAfter = retireAfter
        self.retiredAt = retiredAt
    }
}

public enum KeyRingError: Error, Equatable, Sendable {
    /// The ring has no active epoch; it must be initialised with a first key.
    case noActiveKey
    case unknownEpoch(UInt64)
    /// The active epoch cannot be retired: rotate first.
    case cannotRetireActive(UInt64)
    case alreadyRetired(UInt64)
    /// Links under the epoch may still be live until this time; retiring needs `force`.
    case liveLinks(epoch: UInt64, until: Int64)
    /// The ring's invariants do not hold (several active epochs, epochs out of order).
    case inconsistent(String)
}

/// The key ring state machine: integer epochs that only grow, exactly one `active` epoch that
/// signs, `verify_only` epochs until their `retireAfter` passes, then `retired`. Pure value type:
/// the store applies the same transition to SQLite and swaps the ring only after the commit.
public struct KeyRing: Sendable, VerificationKeys {
    public private(set) var records: [UInt64: KeyRecord]

    /// Builds a ring from stored records, refusing any that break the invariants.
    public init(records: [KeyRecord]) throws(KeyRingError) {
        var byEpoch: [UInt64: KeyRecord] = [:]
        for record in records {
            guard byEpoch.updateValue(record, forKey: record.epoch) == nil else {
                throw .inconsistent("epoch \(record.epoch) appears twice")
            }
        }
        let active = records.filter { $0.status == .active }
        guard active.count <= 1 else { throw .inconsistent("\(active.count) active epochs") }
        if let active = active.first, let newest = byEpoch.keys.max(), newest != active.epoch {
            throw .inconsistent("active epoch \(active.epoch) is not the newest (\(newest))")
        }
        self.records = byEpoch
    }

    public var activeEpoch: UInt64? { records.values.first { $0.status == .active }?.epoch }
    public var newestEpoch: UInt64 { records.keys.max() ?? 0 }
    public var sorted: [KeyRecord] { records.values.sorted { $0.epoch < $1.epoch } }

    public func verificationKey(epoch: UInt64) -> (key: PublicKey, retired: Bool)? {
        guard let record = records[epoch] else { return nil }
        return (record.publicKey, record.status == .retired)
    }

    /// Adds `publicKey` as the new active epoch (one above the newest); the previous active epoch
    /// becomes `verify_only`, keeping its `retireAfter`. Returns the new epoch.
    @discardableResult
    public mutating func rotate(to publicKey: PublicKey, now: Int64) -> UInt64 {
        let epoch = newestEpoch + 1
        if let previous = activeEpoch { records[previous]?.status = .verifyOnly }
        records[epoch] = KeyRecord(epoch: epoch, publicKey: publicKey, status: .active, createdAt: now)
        return epoch
    }

    /// Records that a link expiring at `expiresAt` was issued under `epoch` (active, or made
    /// `verify_only` by a rotation since the link was signed).
    public mutating func noteIssued(epoch: UInt64, expiresAt: Int64) throws(KeyRingError) {
        guard let record = records[epoch] else { throw .unknownEpoch(epoch) }
        guard record.status != .retired else { throw .alreadyRetired(epoch) }
        records[epoch]?.retireAfter = max(record.retireAfter ?? expiresAt, expiresAt)
    }

    /// Retires a `verify_only` epoch. Without `force`, refuses while links under it may be live.
    public mutating func retire(epoch: UInt64, force: Bool, now: Int64) throws(KeyRingError) {
        guard let record = records[epoch] else { throw .unknownEpoch(epoch) }
        switch record.status {
        case .active: throw .cannotRetireActive(epoch)
        case .retired: throw .alreadyRetired(epoch)
        case .verifyOnly:
            if let until = record.retireAfter, until > now, !force { throw .liveLinks(epoch: epoch, until: until) }
        }
        records[epoch]?.status = .retired
        records[epoch]?.retiredAt = now
    }

    /// The `verify_only` epochs whose `retireAfter` has passed at `now`: due for retirement.
    public func dueForRetirement(now: Int64) -> [UInt64] {
        records.values.filter { $0.status == .verifyOnly && ($0.retireAfter ?? 0) <= now }.map(\.epoch).sorted()
    }
}
