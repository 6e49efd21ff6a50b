import Foundation
import GRDB

/// One value of an exported row, as SQLite holds it (the tables are STRICT: no reals).
package enum ExportedValue: Sendable, Equatable {
    case null
    case integer(Int64)
    case text(String)
    case blob([UInt8])
}

/// One table's rows, every column, in primary-key order.
package struct ExportedTable: Sendable {
    package let name: String
    package let columns: [String]
    package let rows: [[ExportedValue]]
}

extension SQLiteStore {
    /// The tables a state is made of, with their columns: the same in every engine's schema
    /// (Migrations/ and Migrations/postgresql/), so a row moves as it is, MAC and all.
    package static let exportedTables: [(name: String, columns: [String])] = [
        ("signing_key", ["epoch", "public_key", "nonce", "sealed_seed", "status", "created_at", "retire_after", "retired_at", "mac"]),
        ("revocation", ["id", "link_id", "prefix", "issued_before", "reason", "created_at", "live_until", "actor_uid", "mac"]),
        ("link_use", ["link_id", "max_uses", "used", "expires_at", "mac"]),
        ("link_password", ["link_id", "hash", "failures", "lockouts", "locked_until", "expires_at"]),
        ("link_record", LinkRecord.columns + LinkUsage.columns),
        ("link_event", LinkEvent.columns),
        ("audit_log", ["id", "at", "actor_uid", "actor_pid", "action", "link_id", "epoch", "detail"]),
        ("store_meta", ["only_row", "store_id", "created_at", "clock_mark", "head_serial", "head_digest", "head_mac", "next_revocation", "events_collected"]),
    ]

    /// Where `table`'s rows are read: link_record's activity is a table of its own here (0008),
    /// joined back into the record's columns by a view.
    static func exportSource(of table: String) -> String { table == "link_record" ? "link_record_with_activity" : table }

    /// The key that seals this store's rows and head (from its master key): another engine's copy
    /// of the rows verifies under it.
    package var integrityKey: IntegrityKey { ledger.key }

    /// Every row of every table, from one read transaction (moving a state into PostgreSQL).
    package func export() throws -> [ExportedTable] {
        try database.read { db in
            try Self.exportedTables.map { table in
                let rows = try Row.fetchAll(db, sql: "SELECT \(table.columns.joined(separator: ", ")) FROM \(Self.exportSource(of: table.name)) ORDER BY 1")
                return ExportedTable(
                    name: table.name, columns: table.columns,
                    rows: try rows.map { row in
                        try (0..<table.columns.count).map { index in
                            switch (row[index] as DatabaseValue).storage {
                            case .null: .null
                            case .int64(let value): .integer(value)
                            case .string(let value): .text(value)
                            case .blob(let value): .blob([UInt8](value))
                            case .double: throw StoreError.corruptRow("\(table.name).\(table.columns[index]) holds a real")
                            }
                        }
                    })
            }
        }
    }
}
