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
}

/// Why a state could not be moved into PostgreSQL.
public enum ImportError: Error, CustomStringConvertible {
    /// The target database holds a state already: an import never merges.
    case notEmpty(location: String, rows: Int64)

    public var description: String {
        switch self {
        case .notEmpty(let location, let rows):
            "PostgreSQL \(location) already holds a state (\(rows) key epochs); importing needs an empty database: nothing was copied"
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
        let sqlite = try SQLiteStore.open(source, now: now, logger: logger)
        let tables: [ExportedTable]
        do {
            tables = try sqlite.export()
            sqlite.close()
        } catch {
            sqlite.close()
            throw error
        }
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        do {
            try await copy(tables, location: location, logger: logger, loop: group.next())
            try await group.shutdownGracefully()
        } catch {
            try? await group.shutdownGracefully()
            throw PostgresStoreError.wrap(error, location: location.description)
        }
        let store = try await PostgresStore.open(configuration, location: location, now: now, logger: logger)
        let report = try store.verifyIntegrity()
        store.close()
        if let problem = report.problem { throw StoreError.integrity(path: location.description, problem) }
        let counts = tables.filter { $0.name != "store_meta" }.map { (table: $0.name, count: $0.rows.count) }
        return ImportReport(rows: counts, serial: report.serial, head: report.head)
    }

    private static func copy(_ tables: [ExportedTable], location: PostgresLocation, logger: Logger, loop: any EventLoop) async throws {
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
            let rows = try await connection.query("SELECT (SELECT count(*) FROM store_meta) + (SELECT count(*) FROM signing_key)", logger: logger)
                .collect()
            let held = try rows.first?.decode(Int64.self) ?? 0
            guard held == 0 else { throw ImportError.notEmpty(location: location.description, rows: held) }
            for table in tables { try await insert(table, connection, logger: logger) }
            // The serials a daemon compares to know what it must reload: all of it, at its first sync.
            try await connection.query(
                "UPDATE store_meta SET keys_serial = head_serial, rebuild_serial = head_serial WHERE only_row = 1", logger: logger)
            try await connection.query(
                "SELECT setval('audit_log_id_seq', greatest((SELECT max(id) FROM audit_log), 1))", logger: logger)
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
                    case .integer(let integer): try bindings.append(integer)
                    case .text(let text): try bindings.append(text)
                    case .blob(let bytes): try bindings.append(ByteBuffer(bytes: bytes))
                    }
                }
            }
            let sql = "INSERT INTO \(table.name) (\(table.columns.joined(separator: ", "))) VALUES " + groups.joined(separator: ", ")
            try await connection.query(PostgresQuery(unsafeSQL: sql, binds: bindings), logger: logger)
            start += chunk.count
        }
    }
}
