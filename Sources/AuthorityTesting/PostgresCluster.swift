import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A throwaway PostgreSQL cluster of the test's own: `initdb` in a temporary directory, run as the
/// unprivileged user `nobody` (PostgreSQL refuses root), listening only on a Unix socket there,
/// with fsync on. Needs Debian's `postgresql` (scripts/test.sh installs it).
public final class PostgresCluster: @unchecked Sendable {
    /// The temporary directory: `data/`, `log`, and the socket.
    public let directory: String
    /// The port: of the socket file's name, and of the TCP listener once `enableTLS` ran.
    public let port: Int
    /// `listen_addresses`: none (Unix socket only) until `enableTLS`.
    private var listen = ""
    /// A `--database` URL for the database `authority` over the Unix socket.
    public var url: String {
        port == 5432 ? "postgresql://authority@/authority?host=\(directory)" : "postgresql://authority@localhost:\(port)/authority?host=\(directory)"
    }
    private var data: String { directory + "/data" }

    /// The newest installed PostgreSQL's `bin` directory, if any.
    public static var binaries: String? {
        let root = "/usr/lib/postgresql"
        let versions = (try? FileManager.default.contentsOfDirectory(atPath: root))?.sorted() ?? []
        return versions.last.map { "\(root)/\($0)/bin" }.flatMap { FileManager.default.fileExists(atPath: $0 + "/initdb") ? $0 : nil }
    }

    /// Creates, starts and fills the cluster: database `authority`, owner `authority`.
    public init(port: Int = 5432) throws {
        self.port = port
        guard let bin = Self.binaries else { throw ClusterError("PostgreSQL is not installed (scripts/deps.sh postgresql)") }
        var template = Array("/tmp/aupg-XXXXXX".utf8CString)
        guard let made = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else { throw ClusterError("mkdtemp") }
        directory = String(cString: made)
        chmod(directory, 0o755)
        try Self.asNobody(["/bin/chown", "-R", "nobody", directory], root: true)
        try Self.asNobody([bin + "/initdb", "-D", data, "-A", "trust", "-U", "authority", "--no-sync"])
        try start()
        try Self.asNobody([bin + "/createdb", "-h", directory, "-p", "\(port)", "-U", "authority", "authority"])
    }

    /// Starts the server (after `stop()`); waits until it accepts connections.
    public func start() throws {
        guard let bin = Self.binaries else { throw ClusterError("no PostgreSQL") }
        do {
            try Self.asNobody([
                bin + "/pg_ctl", "-D", data, "-l", directory + "/log", "-w", "-t", "60",
                "-o", "-c listen_addresses='\(listen)' -c port=\(port) -c unix_socket_directories=\(directory) -c fsync=on", "start",
            ])
        } catch {
            // pg_ctl says only "examine the log": the error carries the log's last lines.
            let log = (try? String(contentsOfFile: directory + "/log", encoding: .utf8)) ?? ""
            throw ClusterError("\(error)\nserver log: \(log.split(separator: "\n").suffix(5).joined(separator: "\n"))")
        }
    }

    /// Serves TLS on localhost (127.0.0.1 and ::1) with `certificate` and `key` (PEM files), and
    /// refuses every TCP connection without it; the Unix socket stays as it was. Restarts the server.
    public func enableTLS(certificate: String, key: String) throws {
        try stop()
        for (file, name) in [(certificate, "server.crt"), (key, "server.key")] {
            try? FileManager.default.removeItem(atPath: data + "/" + name)
            try FileManager.default.copyItem(atPath: file, toPath: data + "/" + name)
            chmod(data + "/" + name, 0o600)
            try Self.asNobody(["/bin/chown", "nobody", data + "/" + name], root: true)
        }
        let settings = "\nssl = on\nssl_cert_file = 'server.crt'\nssl_key_file = 'server.key'\n"
        let conf = try FileHandle(forWritingTo: URL(fileURLWithPath: data + "/postgresql.conf"))
        try conf.seekToEnd()
        try conf.write(contentsOf: Data(settings.utf8))
        try conf.close()
        try """
            local all all trust
            hostssl all all 127.0.0.1/32 trust
            hostssl all all ::1/128 trust
            hostnossl all all all reject

            """.write(toFile: data + "/pg_hba.conf", atomically: false, encoding: .utf8)
        listen = "localhost"
        try start()
    }

    /// Stops the server (fast shutdown: connections are cut, committed work is kept).
    public func stop() throws {
        guard let bin = Self.binaries else { throw ClusterError("no PostgreSQL") }
        try Self.asNobody([bin + "/pg_ctl", "-D", data, "-m", "fast", "-w", "stop"])
    }

    /// Stops the server and deletes the directory.
    public func remove() {
        try? stop()
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// Runs `psql -c SQL` on the database `authority`; returns its unaligned, tuples-only output.
    @discardableResult
    public func psql(_ sql: String) throws -> String {
        guard let bin = Self.binaries else { throw ClusterError("no PostgreSQL") }
        let result = try ChildProcess.run(
            Self.wrapped([bin + "/psql", "-h", directory, "-p", "\(port)", "-U", "authority", "-d", "authority", "-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-c", sql]),
            timeout: 60)
        guard result.status == 0 else { throw ClusterError("psql -c \(sql): \(result)") }
        return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    private static func wrapped(_ command: [String], root: Bool = false) -> [String] {
        root || getuid() != 0 ? command : ["/usr/sbin/runuser", "-u", "nobody", "--"] + command
    }

    private static func asNobody(_ command: [String], root: Bool = false) throws {
        let result = try ChildProcess.run(wrapped(command, root: root), timeout: 120)
        guard result.status == 0 else { throw ClusterError("\(command.joined(separator: " ")): \(result)") }
    }
}

/// A cluster command failed; the message names it and what it printed.
public struct ClusterError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
