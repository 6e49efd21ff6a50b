import AuthorityCore
import AuthorityStore
import Foundation
import PostgresNIO

extension PostgresStore {
    /// Key-ring changes take this advisory lock (besides store_meta's row lock), so rotation and
    /// retirement are serialised across daemons even for a reader that does not write store_meta.
    static let keyRingLock: Int64 = 0x6175_7468_6b65_7973  // "authkeys"

    /// The key ring as the database holds it now, under the key-ring lock: never this daemon's
    /// copy, which may be a poll behind.
    private func lockedRing(_ transaction: PostgresTransaction) async throws -> KeyRing {
        try await transaction.run("SELECT pg_advisory_xact_lock(\(Self.keyRingLock))")
        let rows = try await KeyRowValues.fetchAll(transaction.connection, logger: logger, forUpdate: true)
        do {
            return try KeyRing(records: rows.map(\.record))
        } catch {
            throw StoreError.keyRing(error)
        }
    }

    @discardableResult
    public func rotate(now: Int64, caller: Caller) throws -> UInt64 {
        let key = SigningKey.generate()
        let sealed = key.withSeed { masterKey.seal($0) }
        let (epoch, previous) = try performWrite { [self] transaction -> (UInt64, UInt64?) in
            var ring = try await lockedRing(transaction)
            let previous = ring.activeEpoch
            guard ring.newestEpoch < UInt64(Int64.max) else {
                throw StoreError.keyRing(.inconsistent("epoch \(ring.newestEpoch) is the last one an epoch can be"))
            }
            let epoch = ring.rotate(to: key.publicKey, now: now)
            if let previous {
                try await transaction.run("UPDATE signing_key SET status = 'verify_only' WHERE epoch = \(Int64(previous))")
                try await resealKey(transaction, epoch: previous)
            }
            try await transaction.run(
                """
                INSERT INTO signing_key (epoch, public_key, nonce, sealed_seed, status, created_at)
                VALUES (\(Int64(epoch)), \(Data(key.publicKey.bytes)), \(Data(sealed.nonce)), \(Data(sealed.sealed)), 'active', \(now))
                """)
            try await resealKey(transaction, epoch: epoch)
            try await audit(
                transaction, at: now, caller: caller, action: "keys.rotate", epoch: epoch, detail: previous.map { "previous epoch \($0)" })
            return (epoch, previous)
        }
        shared.withLock { $0.openedKeys[epoch] = key }
        logger.notice(
            "key rotated",
            metadata: ["key.epoch": "\(epoch)", "key.previous": "\(previous.map(String.init) ?? "none")", "caller.uid": "\(caller.uid.map(String.init) ?? "-")"])
        return epoch
    }

    public func retire(epoch: UInt64, force: Bool, now: Int64, caller: Caller) throws {
        try performWrite { [self] transaction in
            var ring = try await lockedRing(transaction)
            do throws(KeyRingError) {
                try ring.retire(epoch: epoch, force: force, now: now)
            } catch {
                throw StoreError.keyRing(error)
            }
            try await transaction.run(
                "UPDATE signing_key SET status = 'retired', retired_at = \(now) WHERE epoch = \(Int64(epoch))")
            try await resealKey(transaction, epoch: epoch)
            try await audit(transaction, at: now, caller: caller, action: force ? "keys.retire.forced" : "keys.retire", epoch: epoch)
            try await Self.appendRetiredEvents(epoch: epoch, now: now, transaction)
        }
        logger.notice("key retired", metadata: ["key.epoch": "\(epoch)", "forced": "\(force)"])
    }

    public func liftRevocation(serial: Int64, reason: String?, now: Int64, caller: Caller) throws -> RevocationRecord? {
        guard configuration.revocationsEnabled else { throw StoreError.revocationsDisabled }
        let record = try performWrite { [self] transaction -> RevocationRecord? in
            guard let row = try await transaction.rows(
                "SELECT \(unescaped: RevocationRowValues.columns) FROM revocation WHERE id = \(serial)"
            ).first else { return nil }
            let values = try RevocationRowValues(row)
            try await transaction.run("DELETE FROM revocation WHERE id = \(serial)")
            transaction.change(from: values.mac.isEmpty ? nil : values.mac, to: nil)
            transaction.rebuilt = true
            try await audit(
                transaction, at: now, caller: caller, action: "revoke.lift", linkID: values.record.linkIDText,
                detail: "serial \(serial) (\(values.record.summary))" + (reason.map { ": \($0)" } ?? ""))
            return values.record
        }
        if record != nil {
            logger.notice("revocation lifted", metadata: ["revocation.id": "\(serial)", "caller.uid": "\(caller.uid.map(String.init) ?? "-")"])
        }
        return record
    }

    /// One round of upkeep, safe on every daemon at once (each step locks what it changes): due
    /// epochs retired, revocations and link state no live link needs collected, the time mark and
    /// `authority.head` written.
    public func maintain(now: Int64) throws -> MaintenanceReport {
        var report = MaintenanceReport()
        // Telling expiries must not hold up retirement and collection when it fails.
        do {
            report.eventsTold = try tellLifecycle(now: now)
        } catch {
            logger.error("maintenance could not tell the links' expiries; it goes on with the rest", metadata: ["error": "\(error)"])
        }
        for epoch in keyRing.dueForRetirement(now: now) {
            do {
                try retire(epoch: epoch, force: false, now: now, caller: .daemon)
                report.retired.append(epoch)
            } catch StoreError.keyRing(.alreadyRetired) {
                // Another daemon of the fleet retired it first.
            }
        }
        if configuration.revocationsEnabled { report.revocationsCollected = try collectRevocations(now: now) }
        report.linkStatesCollected = try performWrite { [self] transaction -> Int in
            let macs = try await transaction.rows("DELETE FROM link_use WHERE expires_at <= \(now) RETURNING mac")
            for row in macs { transaction.change(from: try row.decode(Data?.self).map { [UInt8]($0) }, to: nil) }
            let passwords = try await transaction.rows("DELETE FROM link_password WHERE expires_at <= \(now) RETURNING link_id")
            let before = now.subtractingReportingOverflow(configuration.eventRetention)
            let cutoff = before.overflow ? Int64.min : before.partialValue
            let records = try await transaction.rows("DELETE FROM link_record WHERE expires_at <= \(cutoff) RETURNING link_id")
            return try await macs.count + passwords.count + records.count + Self.collectEvents(before: cutoff, transaction)
        }
        try headFile.write(headNow(), storeID: storeID, key: key)
        return report
    }

    private func collectRevocations(now: Int64) throws -> Int {
        let collected = try performWrite { [self] transaction -> Int in
            let settle = try await transaction.rows(
                """
                SELECT \(unescaped: RevocationRowValues.columns) FROM revocation
                WHERE live_until IS NULL AND issued_before IS NOT NULL AND issued_before <= \(now)
                """)
            for row in settle {
                let values = try RevocationRowValues(row)
                let liveUntil = try await liveUntil(of: values.record.revocation, now: now, transaction)
                let record = values.record
                let mac = key.mac(
                    SQLiteStore.revocationSeal(
                        id: record.id, linkID: record.linkIDBytes, prefix: record.prefix, issuedBefore: record.issuedBefore,
                        reason: record.reason, createdAt: record.createdAt, liveUntil: liveUntil,
                        actorUID: record.actorUID.map { Int64($0) }))
                try await transaction.run(
                    "UPDATE revocation SET live_until = \(liveUntil), mac = \(Data(mac)) WHERE id = \(record.id)")
                transaction.change(from: values.mac, to: mac)
            }
            let macs = try await transaction.rows(
                "DELETE FROM revocation WHERE live_until IS NOT NULL AND live_until < \(now) RETURNING mac")
            for row in macs { transaction.change(from: try row.decode(Data?.self).map { [UInt8]($0) }, to: nil) }
            if !macs.isEmpty { transaction.rebuilt = true }
            return macs.count
        }
        if collected > 0 { logger.info("collected expired revocations", metadata: ["count": "\(collected)"]) }
        return collected
    }
}

extension RevocationRecord {
    var linkIDBytes: Data? {
        if case .id(let id) = revocation { return Data(id.bytes) }
        return nil
    }

    var prefix: String? {
        switch revocation {
        case .id: nil
        case .prefix(let prefix), .issuedBefore(_, let prefix): prefix
        }
    }

    var issuedBefore: Int64? {
        if case .issuedBefore(let time, _) = revocation { return time }
        return nil
    }
}
