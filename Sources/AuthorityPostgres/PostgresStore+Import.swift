import AuthorityCore
import AuthorityStore
import Foundation
import Logging
import NIOCore
import NIOPosix
import PostgresNIO

/// What `importSQLite` copied: rows per table, and the head the fleet starts from.
public struct ImportReport: Sendable {
    public let rows: [(table: String, count: Int)]
    public let serial: Int64
    public let head: String
    /// The database, without its password.
    public let location: String
}

/// Why a state could not be moved into PostgreSQL.
public enum ImportError: Error, CustomStringConvertible {
    /// The target database holds a state already: an import never merges.
    case notEmpty(location: String, rows: Int64)
    /// The target state directory records another store.
    case foreignHead(path: String)

    public var description: String {
        switch self {
        case .notEmpty(let location, let rows):
            "PostgreSQL \(location) already holds a state (\(rows) rows); importing needs an empty database: nothing was copied"
        case .foreignHead(let path):
            "\(path) records another store; import with a new --state-dir (or the source's own): nothing was copied"
        }
    }
}

extension PostgresStore {
    /// Moves a stopped daemon's SQLite state into an empty PostgreSQL database (fleet mode), row
    /// for row: the sealed keys, every MAC, the head and the store's id stay as they are, valid
    /// under the same master key. The SQLite store is opened as a daemon would open it (every MAC
    /// and the head checked first); the copy is one transaction; then the PostgreSQL store is
    /// opened as a fleet daemon would (every row checked again, `authority.head` written in
    /// `configuration`'s state directory) and closed.
    public static func importSQLite(
        from source: StoreConfiguration, into configuration: StoreConfiguration, location: PostgresLocation, now: Int64,
        logger: Logger
    ) async throws -> ImportReport {
        // Closed before anything else opens (its close writes authority.head, which may be the
        // target's too). The key that opened it seals the target: the same master key, the fleet's.
        let (tables, key) = try { () throws -> ([ExportedTable], IntegrityKey) in
            let sqlite = try SQLiteStore.open(source, now: now, logger: logger)
            defer { sqlite.close() }
            return (try sqlite.export(), sqlite.integrityKey)
        }()
        try refuseForeignHead(in: configuration.stateDirectory, tables: tables, key: key)
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        do {
            try await copy(tables, key: key, location: location, logger: logger, loop: group.next())
            try await group.shutdownGracefully()
        } catch {
            try? await group.shutdownGracefully()
            throw PostgresStoreError.wrap(error, location: location.description)
        }
        let store = try await PostgresStore.open(configuration, location: location, now: now, logger: logger)
        defer { store.close() }
        let report = try store.verifyIntegrity()
        if let problem = report.problem { throw StoreError.integrity(path: location.description, problem) }
        let counts = tables.filter { $0.name != "store_meta" }.map { (table: $0.name, count: $0.rows.count) }
        return ImportReport(rows: counts, serial: report.serial, head: report.head, location: location.description)
    }

    /// The target state directory's `authority.head` must be absent or the source's own (the same
    /// store): a fleet daemon would refuse any other at its next start, after the copy.
    private static func refuseForeignHead(in directory: String, tables: [ExportedTable], key: IntegrityKey) throws {
        guard case .blob(let storeID)? = tables.first(where: { $0.name == "store_meta" })?.rows.first?[1] else {
            throw StoreError.corruptRow("store_meta is missing")
        }
        switch try HeadFile.read(directory: directory, key: key) {
        case .absent: return
        case .head(let recorded, _) where recorded == storeID: return
        case .head, .damaged:
            throw ImportError.foreignHead(path: directory + "/" + HeadFile.name)
        }
    }

    private static func copy(
        _ tables: [ExportedTable], key: IntegrityKey, location: PostgresLocation, logger: Logger, loop: any EventLoop
    ) async throws {
        let connection: PostgresConnection
        do {
            connection = try await PostgresConnection.connect(on: loop, configuration: try location.configuration(), id: 0, logger: logger)
        } catch {
            throw PostgresStoreError.unavailable(location: location.description, why: "cannot connect: \(PostgresEngine.describe(error))")
        }
        do {
            try await connection.query("SELECT pg_advisory_lock(\(schemaLock))", logger: logger)
            try await migrate(connection, logger: logger)
            try await connection.query("BEGIN", logger: logger)
            // Under the schema lock and store_meta's table lock: no daemon initialises meanwhile.
            try await connection.query("LOCK TABLE store_meta, signing_key IN EXCLUSIVE MODE", logger: logger)
            let counts = tables.map { "(SELECT count(*) FROM \($0.name))" }.joined(separator: " + ")
            let rows = try await connection.query(PostgresQuery(unsafeSQL: "SELECT \(counts)"), logger: logger).collect()
            let held = try rows.first?.decode(Int64.self) ?? 0
            guard held == 0 else { throw ImportError.notEmpty(location: location.description, rows: held) }
            for table in tables { try await insert(table, connection, logger: logger) }
            // The serials a daemon compares to know what it must reload: all of it, at its first sync.
            try await connection.query(
                "UPDATE store_meta SET keys_serial = head_serial, rebuild_serial = head_serial WHERE only_row = 1", logger: logger)
            try await connection.query(
                "SELECT setval('audit_log_id_seq', greatest((SELECT max(id) FROM audit_log), 1))", logger: logger)
            // The next event serial follows the copied ones (SQLite numbers them itself).
            try await connection.query(
                """
                UPDATE store_meta SET next_event = greatest((SELECT max(serial) FROM link_event), events_collected) + 1
                WHERE only_row = 1
                """, logger: logger)
            // Every row and the head checked as a daemon checks them, before anything is committed.
            let report = try await integrityReport(connection, key: key, location: location.description, logger: logger)
            if let problem = report.problem { throw StoreError.integrity(path: location.description, problem) }
            try await connection.query("COMMIT", logger: logger)
            try await connection.query("SELECT pg_advisory_unlock(\(schemaLock))", logger: logger)
            try await connection.close()
        } catch {
            // Closing the session rolls back and releases the lock.
            try? await connection.close()
            throw error
        }
    }

    /// `table`'s rows, 500 to a statement.
    private static func insert(_ table: ExportedTable, _ connection: PostgresConnection, logger: Logger) async throws {
        let width = table.columns.count
        var start = 0
        while start < table.rows.count {
            let chunk = table.rows[start..<min(start + 500, table.rows.count)]
            var bindings = PostgresBindings(capacity: chunk.count * width)
            var groups: [String] = []
            for (number, row) in chunk.enumerated() {
                groups.append("(" + (1...width).map { "$\(number * width + $0)" }.joined(separator: ", ") + ")")
                for value in row {
                    switch value {
                    case .null: bindings.appendNull()
                    case .integer(let integer): bindings.append(integer)
                    case .text(let text): bindings.append(text)
                    case .blob(let bytes): bindings.append(ByteBuffer(bytes: bytes))
                    }
                }
            }
            let sql = "INSERT INTO \(table.name) (\(table.columns.joined(separator: ", "))) VALUES " + groups.joined(separator: ", ")
            try await connection.query(PostgresQuery(unsafeSQL: sql, binds: bindings), logger: logger)
            start += chunk.count
        }
    }
}
