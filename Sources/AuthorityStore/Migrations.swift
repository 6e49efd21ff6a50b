import GRDB

/// The schema: the top-level `Migrations/NNNN_name.sql` files, embedded at build time by the
/// EmbedMigrations plugin and applied in file-name order, each in its own transaction.
public enum SchemaMigrations {
    /// `(file name, SQL)` of every shipped migration, in order.
    public static var files: [(name: String, sql: String)] { EmbeddedMigrations.files }

    static func migrator() -> DatabaseMigrator {
        var migrator = DatabaseMigrator()
        for file in files {
            let identifier = String(file.name.dropLast(".sql".count))
            migrator.registerMigration(identifier) { db in try db.execute(sql: file.sql) }
        }
        return migrator
    }
}
