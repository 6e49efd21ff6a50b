import AuthorityCore
import AuthorityStore
import Foundation
import Logging
import PostgresNIO

extension PostgresStore {
    /// Runs `work` on the engine's connection, waiting for its answer (on a pool thread).
    func performRead<T: Sendable>(_ work: @escaping @Sendable (PostgresConnection) async throws -> T) throws -> T {
        try wait { completion in
            engine.submit(.read({ connection in completion(.success(try await work(connection))) }, fail: { completion(.failure($0)) }))
        }
    }

    public func remainingUses(_ id: LinkID) throws -> Int64? {
        try performRead { [logger] connection in
            try await connection.query(
                "SELECT max_uses - used FROM link_use WHERE link_id = \(Data(id.bytes))", logger: logger
            ).collect().first?.decode(Int64.self)
        }
    }

    public func passwordRecord(_ id: LinkID) throws -> PasswordRecord? {
        try performRead { [logger] connection in
            guard let row = try await connection.query(
                "SELECT hash, failures, lockouts, locked_until FROM link_password WHERE link_id = \(Data(id.bytes))", logger: logger
            ).collect().first else { return nil }
            let (hash, failures, lockouts, lockedUntil) = try row.decode((String, Int64, Int64, Int64).self)
            return PasswordRecord(hash: hash, failures: failures, lockouts: lockouts, lockedUntil: lockedUntil)
        }
    }

    public func linkRecord(_ id: LinkID) throws -> LinkRecord? {
        try performRead { [logger] connection in
            try await connection.query(
                "SELECT \(unescaped: LinkRecord.columnList) FROM link_record WHERE link_id = \(Data(id.bytes))",
                logger: logger
            ).collect().first.map(Self.linkRecord(from:))
        }
    }

    public func revocations(ending record: LinkRecord) throws -> [RevocationRecord] {
        try performRead { [logger] connection in
            try await connection.query(
                """
                SELECT \(unescaped: RevocationRowValues.columns) FROM revocation
                WHERE link_id = \(Data(record.id.bytes)) OR (prefix IS NOT NULL AND starts_with(\(record.resource), prefix))
                ORDER BY id
                """,
                logger: logger
            ).collect().map { try RevocationRowValues($0).record }.filter { record.isEnded(by: $0.revocation) }
        }
    }

    public func listRevocations(after: Int64, limit: Int) throws -> [RevocationRecord] {
        try performRead { [logger] connection in
            try await connection.query(
                "SELECT \(unescaped: RevocationRowValues.columns) FROM revocation WHERE id > \(after) ORDER BY id LIMIT \(Int64(limit))",
                logger: logger
            ).collect().map { try RevocationRowValues($0).record }
        }
    }

    public func auditLog(limit: Int) throws -> [AuditEntry] {
        try performRead { [logger] connection in
            try await connection.query(
                "SELECT id, at, actor_uid, actor_pid, action, link_id, epoch, detail FROM audit_log ORDER BY id DESC LIMIT \(Int64(limit))",
                logger: logger
            ).collect().map { row in
                let (id, at, uid, pid, action, linkID, epoch, detail) = try row.decode(
                    (Int64, Int64, Int64?, Int64?, String, String?, Int64?, String?).self)
                return AuditEntry(
                    id: id, at: at, actorUID: uid.flatMap { UInt32(exactly: $0) }, actorPID: pid.flatMap { Int32(exactly: $0) },
                    action: action, linkID: linkID, epoch: epoch.flatMap { UInt64(exactly: $0) }, detail: detail)
            }
        }
    }

    public func verifyIntegrity() throws -> IntegrityReport {
        try performRead { [self] connection in
            try await connection.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", logger: logger)
            do {
                let report = try await Self.integrityReport(connection, key: key, location: locationDescription, logger: logger)
                try await connection.query("COMMIT", logger: logger)
                return report
            } catch {
                _ = try? await connection.query("ROLLBACK", logger: logger)
                throw error
            }
        }
    }

    /// Every sealed row against its MAC and the head against the rows (inside the caller's snapshot).
    static func integrityReport(_ connection: PostgresConnection, key: IntegrityKey, location: String, logger: Logger) async throws
        -> IntegrityReport
    {
        guard let meta = try await MetaRow.fetch(connection, logger: logger) else {
            return IntegrityReport(serial: 0, head: "", rows: 0, problem: "store_meta is missing")
        }
        var report = IntegrityReport(serial: meta.head.serial, head: Data(meta.mac).hex, rows: 0, problem: nil)
        var digest = zeroDigest
        func problem(_ text: String) -> IntegrityReport {
            report.problem = text
            return report
        }
        for row in try await connection.query(
            "SELECT \(unescaped: RevocationRowValues.columns) FROM revocation ORDER BY id", logger: logger
        ).collect() {
            let values = try RevocationRowValues(row)
            guard key.verify(values.mac, of: values.sealed) else {
                return problem("revocation serial \(values.record.id) does not match its MAC (changed or damaged)")
            }
            xorDigest(&digest, values.mac)
            report.rows += 1
        }
        for values in try await KeyRowValues.fetchAll(connection, logger: logger) {
            guard key.verify(values.mac, of: values.sealed) else {
                return problem("key epoch \(values.record.epoch) does not match its MAC (changed or damaged)")
            }
            xorDigest(&digest, values.mac)
            report.rows += 1
        }
        for row in try await connection.query(
            "SELECT link_id, max_uses, used, expires_at, mac FROM link_use ORDER BY link_id", logger: logger
        ).collect() {
            let (linkID, maxUses, used, expiresAt, mac) = try row.decode((Data, Int64, Int64, Int64, Data?).self)
            let bytes = mac.map { [UInt8]($0) } ?? []
            guard key.verify(bytes, of: useSeal(linkID: linkID, maxUses: maxUses, used: used, expiresAt: expiresAt)) else {
                return problem("the use counter of link \(LinkID(bytes: [UInt8](linkID))) does not match its MAC (changed or damaged)")
            }
            xorDigest(&digest, bytes)
            report.rows += 1
        }
        if !key.verify(meta.mac, of: meta.head.sealedBytes(storeID: meta.storeID)) {
            return problem("the recorded head does not match its MAC (changed, or sealed under another master key)")
        }
        if digest != meta.head.digest {
            return problem(
                "the sealed rows do not add up to the head at version \(meta.head.serial) (a row was removed, or restored from an older copy)")
        }
        return report
    }
}
