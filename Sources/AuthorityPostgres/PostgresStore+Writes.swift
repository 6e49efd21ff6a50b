import AuthorityCore
import AuthorityStore
import Foundation
import NIOCore
import PostgresNIO

extension PostgresStore {
    /// Queues `work` as one write of the next transaction; `completion` runs once it is committed
    /// (and the in-memory state follows it), or with its error.
    func submitWrite<T: Sendable>(
        _ work: @escaping @Sendable (PostgresTransaction) async throws -> T,
        completion: @escaping @Sendable (Result<T, any Error>) -> Void
    ) {
        if let lost = lostChanges { return completion(.failure(lost)) }
        engine.submit(
            .write(
                { transaction in
                    let value = try await work(transaction)
                    return { completion(.success(value)) }
                }, fail: { completion(.failure($0)) }))
    }

    /// `submitWrite`, waiting for the commit (administration and maintenance, on a pool thread).
    func performWrite<T: Sendable>(_ work: @escaping @Sendable (PostgresTransaction) async throws -> T) throws -> T {
        try wait { completion in submitWrite(work, completion: completion) }
    }

    // MARK: Sealed rows

    func resealKey(_ transaction: PostgresTransaction, epoch: UInt64) async throws {
        let rows = try await transaction.rows(
            "SELECT \(unescaped: KeyRowValues.columns) FROM signing_key WHERE epoch = \(Int64(epoch))")
        guard let row = rows.first else { throw StoreError.corruptRow("signing_key epoch \(epoch) is missing") }
        let values = try KeyRowValues(row)
        let mac = key.mac(values.sealed)
        try await transaction.run("UPDATE signing_key SET mac = \(Data(mac)) WHERE epoch = \(Int64(epoch))")
        transaction.change(from: values.mac.isEmpty ? nil : values.mac, to: mac)
        transaction.keysChanged = true
    }

    func audit(
        _ transaction: PostgresTransaction, at: Int64, caller: Caller, action: String, linkID: String? = nil,
        epoch: UInt64? = nil, detail: String? = nil
    ) async throws {
        try await transaction.run(
            """
            INSERT INTO audit_log (at, actor_uid, actor_pid, action, link_id, epoch, detail)
            VALUES (\(at), \(caller.uid.map { Int64($0) }), \(caller.pid.map { Int64($0) }), \(action), \(linkID), \(epoch.map { Int64($0) }), \(detail))
            """)
    }

    // MARK: The hot path

    public func recordIssue(
        epoch: UInt64, expiresAt: Int64, linkID: LinkID, detail: String?, state: LinkState, now: Int64, caller: Caller,
        completion: @escaping @Sendable (Result<Void, any Error>) -> Void
    ) {
        submitWrite({ [self] transaction in
            try await raiseRetireMark(transaction, epoch: epoch, expiresAt: expiresAt)
            let id = Data(linkID.bytes)
            if let maxUses = state.maxUses {
                let mac = key.mac(useSeal(linkID: id, maxUses: maxUses, used: 0, expiresAt: expiresAt))
                try await transaction.run(
                    "INSERT INTO link_use (link_id, max_uses, expires_at, mac) VALUES (\(id), \(maxUses), \(expiresAt), \(Data(mac)))")
                transaction.change(from: nil, to: mac)
            }
            if let hash = state.passwordHash {
                try await transaction.run(
                    "INSERT INTO link_password (link_id, hash, expires_at) VALUES (\(id), \(hash), \(expiresAt))")
            }
            if let record = state.record {
                try await transaction.run(
                    """
                    INSERT INTO link_record (\(unescaped: LinkRecord.columnList))
                    VALUES (\(id), \(Int64(record.epoch)), \(record.issuedAt), \(record.notBefore), \(record.expiresAt),
                        \(record.resource), \(Int64(record.isPrefix ? 1 : 0)), \(record.host), \(record.methods), \(record.ip),
                        \(record.maxUses), \(Int64(record.password ? 1 : 0)), \(Int64(record.cookie ? 1 : 0)),
                        \(record.issuerUID.map { Int64($0) }), \(record.ref))
                    """)
                transaction.events.append(LinkEvent(.issued, of: record, at: record.issuedAt))
            }
            try await audit(transaction, at: now, caller: caller, action: "link.issue", linkID: linkID.description, epoch: epoch, detail: detail)
        }, completion: completion)
    }

    public func noteSigned(epoch: UInt64, expiresAt: Int64, completion: @escaping @Sendable (Result<Void, any Error>) -> Void) {
        if let record = keyRing.records[epoch], record.status != .retired, let mark = record.retireAfter, mark >= expiresAt {
            return completion(.success(()))
        }
        submitWrite({ [self] transaction in try await raiseRetireMark(transaction, epoch: epoch, expiresAt: expiresAt) }, completion: completion)
    }

    /// The epoch's durable `retire_after` raised to cover `expiresAt` (in steps of
    /// `retireAfterStep`), read from the database under the transaction's lock: an epoch retired
    /// by another daemon is refused.
    private func raiseRetireMark(_ transaction: PostgresTransaction, epoch: UInt64, expiresAt: Int64) async throws {
        guard let number = Int64(exactly: epoch),
            let row = try await transaction.rows("SELECT status, retire_after FROM signing_key WHERE epoch = \(number)").first
        else { throw StoreError.keyRing(.unknownEpoch(epoch)) }
        let (status, retireAfter) = try row.decode((String, Int64?).self)
        guard status != KeyStatus.retired.rawValue else { throw StoreError.keyRing(.alreadyRetired(epoch)) }
        if (retireAfter ?? 0) >= expiresAt { return }
        let step = max(configuration.retireAfterStep, 1)
        let (quotient, overflow) = (expiresAt / step).addingReportingOverflow(1)
        let mark = overflow ? Int64.max : quotient.multipliedReportingOverflow(by: step).overflow ? Int64.max : quotient * step
        try await transaction.run(
            "UPDATE signing_key SET retire_after = GREATEST(coalesce(retire_after, 0), \(mark)) WHERE epoch = \(number)")
        try await resealKey(transaction, epoch: epoch)
    }

    public func revoke(
        _ revocation: Revocation, reason: String?, now: Int64, caller: Caller,
        completion: @escaping @Sendable (Result<RevocationRecord, any Error>) -> Void
    ) {
        let linkID: LinkID?, prefix: String?, issuedBefore: Int64?
        do {
            guard configuration.revocationsEnabled else { throw StoreError.revocationsDisabled }
            (linkID, prefix, issuedBefore) = try SQLiteStore.columns(of: revocation)
        } catch {
            return completion(.failure(error))
        }
        submitWrite({ [self] transaction in
            let liveUntil = try await liveUntil(of: revocation, now: now, transaction)
            let uid = caller.uid.map { Int64($0) }
            let linkBytes = linkID.map { Data($0.bytes) }
            let id = transaction.nextRevocation
            guard id > 0, id < Int64.max else { throw StoreError.invalidRevocation("the revocation serials are used up") }
            let mac = key.mac(
                SQLiteStore.revocationSeal(
                    id: id, linkID: linkBytes, prefix: prefix, issuedBefore: issuedBefore, reason: reason, createdAt: now,
                    liveUntil: liveUntil, actorUID: uid))
            try await transaction.run(
                """
                INSERT INTO revocation (id, link_id, prefix, issued_before, reason, created_at, live_until, actor_uid, mac)
                VALUES (\(id), \(linkBytes), \(prefix), \(issuedBefore), \(reason), \(now), \(liveUntil), \(uid), \(Data(mac)))
                """)
            transaction.nextRevocation = id + 1
            transaction.change(from: nil, to: mac)
            transaction.revoked = true
            try await Self.appendRevokedEvents(revocation, serial: id, now: now, transaction)
            try await audit(
                transaction, at: now, caller: caller, action: "revoke", linkID: linkID?.description,
                detail: prefix.map { p in issuedBefore.map { "prefix \(p) issued before \($0)" } ?? "prefix \(p)" })
            return RevocationRecord(
                id: id, revocation: revocation, reason: reason, createdAt: now, liveUntil: liveUntil, actorUID: caller.uid)
        }, completion: completion)
    }

    /// As `SQLiteStore.liveUntil(of:now:in:)`: from the unretired epochs' `retire_after` marks.
    func liveUntil(of revocation: Revocation, now: Int64, _ transaction: PostgresTransaction) async throws -> Int64? {
        switch revocation {
        case .prefix: return nil
        case .issuedBefore(let time, _) where time > now: return nil
        case .id, .issuedBefore:
            let rows = try await transaction.rows("SELECT max(retire_after) FROM signing_key WHERE status != 'retired'")
            return try rows.first?.decode(Int64?.self) ?? now
        }
    }

    public func consumeUse(_ id: LinkID, completion: @escaping @Sendable (Result<UseOutcome, any Error>) -> Void) {
        if let lost = lostChanges { return completion(.failure(lost)) }
        engine.submit(.use(id, completion: completion))
    }

    /// Counts a batch's uses in two statements: the counters read under row locks taken in link id
    /// order (the same in every daemon, so two batches never wait on each other) and checked
    /// against their MACs, then written back with their new MACs. A link asked for k times gets at
    /// most its uses left, in queue order; a counter failing its MAC refuses its uses (and counts none).
    static func consume(_ transaction: PostgresTransaction, ids: [LinkID], store: PostgresStore) async throws
        -> [Result<UseOutcome, any Error>]
    {
        var wanted: [LinkID: Int64] = [:]
        for id in ids { wanted[id, default: 0] += 1 }
        let keys = wanted.keys.map { ByteBuffer(bytes: $0.bytes) }
        let rows = try await transaction.rows(
            "SELECT link_id, max_uses, used, expires_at, mac FROM link_use WHERE link_id = ANY(\(keys)) ORDER BY link_id FOR UPDATE")
        struct Counter { var maxUses: Int64, used: Int64, expiresAt: Int64, mac: [UInt8], valid: Bool }
        var counters: [LinkID: Counter] = [:]
        for row in rows {
            let (linkID, maxUses, used, expiresAt, mac) = try row.decode((Data, Int64, Int64, Int64, Data?).self)
            let old = mac.map { [UInt8]($0) } ?? []
            let valid = store.key.verify(old, of: useSeal(linkID: linkID, maxUses: maxUses, used: used, expiresAt: expiresAt))
            counters[LinkID(bytes: [UInt8](linkID))] = Counter(maxUses: maxUses, used: used, expiresAt: expiresAt, mac: old, valid: valid)
        }
        var outcomes: [Result<UseOutcome, any Error>] = []
        var running = counters
        for id in ids {
            guard let counter = running[id] else {
                outcomes.append(.success(.exhausted))
                continue
            }
            guard counter.valid else {
                store.logger.critical(
                    "a use counter does not match its MAC: refusing its uses (restore from a backup: docs/operations.md)",
                    metadata: ["link.id": "\(id)"])
                outcomes.append(.failure(StoreError.integrity(path: store.locationDescription, "the use counter of link \(id) does not match its MAC")))
                continue
            }
            guard counter.used < counter.maxUses else {
                outcomes.append(.success(.exhausted))
                continue
            }
            running[id]?.used += 1
            outcomes.append(.success(.used(remaining: counter.maxUses - counter.used - 1)))
        }
        try await appendUseEvents(ids: ids, outcomes: outcomes, counters: counters.mapValues(\.maxUses), store: store, transaction)
        var updatedIDs: [ByteBuffer] = [], updatedUses: [Int64] = [], updatedMACs: [ByteBuffer] = []
        for (id, counter) in running {
            guard let before = counters[id], counter.used != before.used else { continue }
            let bytes = Data(id.bytes)
            let mac = store.key.mac(useSeal(linkID: bytes, maxUses: counter.maxUses, used: counter.used, expiresAt: counter.expiresAt))
            transaction.change(from: before.mac, to: mac)
            transaction.head.serial += counter.used - before.used - 1
            updatedIDs.append(ByteBuffer(bytes: id.bytes))
            updatedUses.append(counter.used)
            updatedMACs.append(ByteBuffer(bytes: mac))
        }
        if !updatedIDs.isEmpty {
            try await transaction.run(
                """
                UPDATE link_use AS l SET used = v.used, mac = v.mac
                FROM unnest(\(updatedIDs)::bytea[], \(updatedUses)::bigint[], \(updatedMACs)::bytea[]) AS v(link_id, used, mac)
                WHERE l.link_id = v.link_id
                """)
        }
        return outcomes
    }

    public func recordPasswordAttempt(
        _ id: LinkID, success: Bool, now: Int64, maxFailures: Int64, baseLockout: Int64,
        completion: @escaping @Sendable (Result<(record: PasswordRecord, locked: Bool)?, any Error>) -> Void
    ) {
        submitWrite({ transaction -> PasswordAttempt? in
            let key = Data(id.bytes)
            guard let row = try await transaction.rows(
                "SELECT hash, failures, lockouts, locked_until FROM link_password WHERE link_id = \(key) FOR UPDATE"
            ).first else { return nil }
            let (hash, failures, lockouts, lockedUntil) = try row.decode((String, Int64, Int64, Int64).self)
            var record = PasswordRecord(hash: hash, failures: failures, lockouts: lockouts, lockedUntil: lockedUntil)
            if record.lockedUntil > now { return PasswordAttempt(record: record, locked: true) }
            record.count(success: success, now: now, maxFailures: maxFailures, baseLockout: baseLockout)
            try await transaction.run(
                """
                UPDATE link_password SET failures = \(record.failures), lockouts = \(record.lockouts),
                locked_until = \(record.lockedUntil) WHERE link_id = \(key)
                """)
            if record.lockedUntil > now, let link = try await Self.records([id], transaction)[id] {
                transaction.events.append(LinkEvent(.passwordLocked, of: link, at: now))
            }
            return PasswordAttempt(record: record, locked: false)
        }, completion: { completion($0.map { $0.map { ($0.record, $0.locked) } }) })
    }
}

/// A password attempt's outcome, Sendable for the engine.
struct PasswordAttempt: Sendable {
    var record: PasswordRecord
    var locked: Bool
}
