import Foundation
import PackagePlugin

/// Embeds the top-level `Migrations/*.sql` files (`Migrations/postgresql/*.sql` for AuthorityPostgres) into the target that uses this plugin, so the
/// installed daemon carries its schema and `Migrations/` stays the one source of the SQL.
@main
struct EmbedMigrations: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        // Each engine's schema: Migrations/ for SQLite, Migrations/postgresql/ for fleet mode.
        let engine = target.name == "AuthorityPostgres" ? "Migrations/postgresql" : "Migrations"
        let directory = context.package.directoryURL.appending(path: engine)
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path)
            .filter { $0.hasSuffix(".sql") }
            .sorted()
        let inputs = names.map { directory.appending(path: $0) }
        let output = context.pluginWorkDirectoryURL.appending(path: "EmbeddedMigrations.swift")
        return [
            .buildCommand(
                displayName: "Embedding \(inputs.count) migrations",
                executable: try context.tool(named: "authority-embed-migrations").url,
                arguments: [output.path] + inputs.map(\.path),
                inputFiles: inputs,
                outputFiles: [output]
            )
        ]
    }
}
