import AuthorityTesting
import Foundation
import Glibc

enum BenchError: Error, CustomStringConvertible {
    case daemon(String)
    case scenario(String)

    var description: String {
        switch self {
        case .daemon(let message), .scenario(let message): message
        }
    }
}

/// The running daemon's pid, for the SIGINT/SIGTERM handler: an interrupted benchmark must not
/// leave a daemon behind (it runs in its own process group, so the terminal's signal misses it).
nonisolated(unsafe) var runningDaemonPID: pid_t = 0
/// The same for the nginx reference.
nonisolated(unsafe) var runningNginxPID: pid_t = 0

/// Kills the daemon and exits when the benchmark is interrupted.
func stopDaemonOnInterrupt() {
    for signalNumber in [SIGINT, SIGTERM] {
        signal(signalNumber) { received in
            if runningDaemonPID > 0 { kill(runningDaemonPID, SIGKILL) }
            if runningNginxPID > 0 { kill(runningNginxPID, SIGTERM) }
            _exit(128 + received)
        }
    }
}

/// Polls `GET path` on `socket` every 2 ms until it answers 200; fails when `child` exits first
/// or after `seconds` (then the child is killed).
func waitUntilServing(_ child: ChildProcess, name: String, socket: String, path: String, seconds: Double, log: String) throws {
    let started = now()
    while Double(now() - started) / 1e9 < seconds {
        if let status = child.exitStatus { throw BenchError.daemon("\(name) exited (\(status)) while starting; see \(log)") }
        if let response = try? UnixHTTPClient(path: socket, timeout: 2).get(path), response.status == 200 { return }
        usleep(2_000)
    }
    child.signal(SIGKILL)
    throw BenchError.daemon("\(name) did not answer \(path) within \(Int(seconds)) s; see \(log)")
}

/// The daemon under test: the release `authorityd` on a state directory of the benchmark's own.
final class BenchDaemon {
    let executable: String
    let directory: String
    let extraArguments: [String]
    var socketPath: String { directory + "/authority.sock" }
    var stateDirectory: String { directory + "/state" }
    var databasePath: String { stateDirectory + "/authority.sqlite" }
    var logPath: String { directory + "/authorityd.log" }
    private(set) var child: ChildProcess?

    init(executable: String, directory: String, extraArguments: [String]) {
        self.executable = executable
        self.directory = directory
        self.extraArguments = extraArguments
    }

    var pid: pid_t {
        get throws {
            guard let child, child.exitStatus == nil else { throw BenchError.daemon("authorityd is not running; see \(logPath)") }
            return child.pid
        }
    }

    /// Starts the daemon and returns the seconds until `GET /v1/health` first answers 200.
    @discardableResult
    func start() throws -> Double {
        let started = now()
        // Mode 0666: the held-connections scenarios connect as uid 65534.
        let command = [executable, "--socket", socketPath, "--state-dir", stateDirectory, "--socket-mode", "0666"]
            + extraArguments
        var environment = ProcessInfo.processInfo.environment
        for name in ["NOTIFY_SOCKET", "LISTEN_FDS", "LISTEN_PID", "WATCHDOG_USEC"] { environment[name] = nil }
        let child = try ChildProcess(command, environment: environment, stdout: logPath, stderr: logPath)
        self.child = child
        runningDaemonPID = child.pid
        try waitUntilServing(child, name: "authorityd", socket: socketPath, path: "/v1/health", seconds: 60, log: logPath)
        return Double(now() - started) / 1e9
    }

    /// SIGTERM and wait for a clean exit.
    func stop() throws {
        guard let child else { return }
        child.signal(SIGTERM)
        guard let status = child.wait(timeout: 60) else {
            child.signal(SIGKILL)
            throw BenchError.daemon("authorityd did not stop within 60 s of SIGTERM")
        }
        self.child = nil
        runningDaemonPID = 0
        guard status == .exited(0) else { throw BenchError.daemon("authorityd stopped with \(status); see \(logPath)") }
    }
}

/// Debian's nginx serving one small static file over a Unix socket: the reference for the cost
/// of answering a request without any cryptography.
final class StaticNginx {
    static let executable = "/usr/sbin/nginx"
    let directory: String
    var socketPath: String { directory + "/nginx.sock" }
    private var master: ChildProcess?

    init?(directory: String) {
        guard FileManager.default.isExecutableFile(atPath: Self.executable) else { return nil }
        self.directory = directory
    }

    func start() throws {
        try FileManager.default.createDirectory(atPath: directory + "/www", withIntermediateDirectories: true)
        try String(repeating: "static file\n", count: 20).write(toFile: directory + "/www/file.txt", atomically: true, encoding: .utf8)
        // No access log: the comparison is with the cheapest static answer nginx gives.
        let configuration = """
            daemon off;
            master_process on;
            worker_processes auto;
            user root;
            pid \(directory)/nginx.pid;
            error_log \(directory)/nginx-error.log;
            events { worker_connections 1024; }
            http {
                access_log off;
                keepalive_requests 1000000000;
                keepalive_timeout 600s;
                client_body_temp_path \(directory)/tmp-body;
                proxy_temp_path \(directory)/tmp-proxy;
                fastcgi_temp_path \(directory)/tmp-fastcgi;
                uwsgi_temp_path \(directory)/tmp-uwsgi;
                scgi_temp_path \(directory)/tmp-scgi;
                server {
                    listen unix:\(socketPath);
                    root \(directory)/www;
                    location / { }
                }
            }
            """
        try configuration.write(toFile: directory + "/nginx.conf", atomically: true, encoding: .utf8)
        let log = directory + "/nginx-stderr.log"
        let child = try ChildProcess([Self.executable, "-c", directory + "/nginx.conf"], environment: [:], stdout: log, stderr: log)
        master = child
        runningNginxPID = child.pid
        try waitUntilServing(child, name: "nginx", socket: socketPath, path: "/file.txt", seconds: 10, log: log)
    }

    /// The master and its workers.
    var pids: [pid_t] {
        guard let master else { return [] }
        let children = ((try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []).compactMap { entry -> pid_t? in
            guard let pid = pid_t(entry), let fields = ProcessSample.statFields(pid), fields.count > 1 else { return nil }
            return pid_t(fields[1]) == master.pid ? pid : nil
        }
        return [master.pid] + children
    }

    func stop() {
        master?.signal(SIGQUIT)
        if master?.wait(timeout: 10) == nil { master?.signal(SIGKILL) }
        master = nil
        runningNginxPID = 0
    }
}
