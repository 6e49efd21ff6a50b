// Build-time generator: reads the SQL files named on the command line and writes a Swift file
// that holds them as an array of (identifier, sql) pairs, in file-name order.
// Usage: authority-embed-migrations OUTPUT.swift FILE.sql...
import Foundation

let arguments = CommandLine.arguments.dropFirst()
guard let output = arguments.first else {
    FileHandle.standardError.write(Data("usage: authority-embed-migrations OUTPUT.swift FILE.sql...\n".utf8))
    exit(2)
}
let inputs = arguments.dropFirst().sorted { ($0 as NSString).lastPathComponent < ($1 as NSString).lastPathComponent }

var swift = "// Generated at build time from Migrations/*.sql by authority-embed-migrations. Do not edit.\n"
swift += "enum EmbeddedMigrations {\n    static let files: [(name: String, sql: String)] = [\n"
for path in inputs {
    let name = (path as NSString).lastPathComponent
    guard let sql = FileManager.default.contents(atPath: path).flatMap({ String(data: $0, encoding: .utf8) }) else {
        FileHandle.standardError.write(Data("authority-embed-migrations: cannot read \(path) as UTF-8\n".utf8))
        exit(1)
    }
    // A raw string with enough #s that no sequence in the SQL can close it early.
    var hashes = "#"
    while sql.contains("\"" + hashes) { hashes += "#" }
    swift += "        (name: \"\(name)\", sql: \(hashes)\"\"\"\n\(sql)\n\"\"\"\(hashes)),\n"
}
swift += "    ]\n}\n"
do {
    try Data(swift.utf8).write(to: URL(fileURLWithPath: output), options: .atomic)
} catch {
    FileHandle.standardError.write(Data("authority-embed-migrations: cannot write \(output): \(error)\n".utf8))
    exit(1)
}
