import AuthorityTesting
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A throwaway PostgreSQL cluster of the test's own: `initdb` in a temporary directory, run as the
/// unprivileged user `nobody` (PostgreSQL refuses root), listening only on a Unix socket there,
/// with fsync on. Needs Debian's `postgresql` (scripts/test.sh installs it).
final class PostgresCluster: @unchecked Sendable {
    let directory: String
    var url: String { "postgresql://authority@/authority?host=\(directory)" }
    private var data: String { directory + "/data" }

    static var binaries: String? {
        let root = "/usr/lib/postgresql"
        let versions = (try? FileManager.default.contentsOfDirectory(atPath: root))?.sorted() ?? []
        return versions.last.map { "\(root)/\($0)/bin" }.flatMap { FileManager.default.fileExists(atPath: $0 + "/initdb") ? $0 : nil }
    }

    init() throws {
        guard let bin = Self.binaries else { throw ClusterError("PostgreSQL is not installed (scripts/deps.sh postgresql)") }
        var template = Array("/tmp/aupg-XXXXXX".utf8CString)
        guard let made = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else { throw ClusterError("mkdtemp") }
        directory = String(cString: made)
        chmod(directory, 0o755)
        try Self.asNobody(["/bin/chown", "-R", "nobody", directory], root: true)
        try Self.asNobody([bin + "/initdb", "-D", data, "-A", "trust", "-U", "authority", "--no-sync"])
        try start()
        try Self.asNobody([bin + "/createdb", "-h", directory, "-U", "authority", "authority"])
    }

    func start() throws {
        guard let bin = Self.binaries else { throw ClusterError("no PostgreSQL") }
        try Self.asNobody([
            bin + "/pg_ctl", "-D", data, "-l", directory + "/log", "-w", "-t", "60",
            "-o", "-c listen_addresses='' -c unix_socket_directories=\(directory) -c fsync=on", "start",
        ])
    }

    func stop() throws {
        guard let bin = Self.binaries else { throw ClusterError("no PostgreSQL") }
        try Self.asNobody([bin + "/pg_ctl", "-D", data, "-m", "fast", "-w", "stop"])
    }

    func remove() {
        try? stop()
        try? FileManager.default.removeItem(atPath: directory)
    }

    private static func asNobody(_ command: [String], root: Bool = false) throws {
        let full = root || getuid() != 0 ? command : ["/usr/sbin/runuser", "-u", "nobody", "--"] + command
        let result = try ChildProcess.run(full, timeout: 120)
        guard result.status == 0 else { throw ClusterError("\(command.joined(separator: " ")): \(result)") }
    }
}

struct ClusterError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
