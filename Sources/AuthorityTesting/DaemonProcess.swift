import AuthorityCore
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Why a `DaemonProcess` could not be started.
public enum DaemonError: Error, CustomStringConvertible {
    /// The process exited before it answered `GET /v1/health`; `log` is its stderr.
    case exitedDuringStart(ExitStatus, log: String)
    /// It did not answer `GET /v1/health` with 200 in time (it was then killed).
    case startTimedOut(seconds: Double, lastError: String, log: String)
    case alreadyRunning
    /// A system call failed (`mkdtemp`, `posix_spawn`).
    case system(String, errno: Int32)

    public var description: String {
        switch self {
        case .exitedDuringStart(let status, let log): "authorityd exited during start (\(status)); stderr:\n\(log)"
        case .startTimedOut(let seconds, let last, let log):
            "authorityd did not become healthy within \(seconds) s (last: \(last)); stderr:\n\(log)"
        case .alreadyRunning: "authorityd is already running"
        case .system(let call, let code): "\(call): \(String(cString: strerror(code)))"
        }
    }
}

/// The real `authorityd` binary (built beside the test binary) in a private temporary directory
/// `/tmp/au-XXXXXX` holding its state (`state/`), its socket (`s.sock`) and its stderr (`stderr.log`,
/// appended across restarts). Meant to be driven by one task at a time.
public final class DaemonProcess: @unchecked Sendable {
    public typealias ExitStatus = AuthorityTesting.ExitStatus

    /// The temporary directory (mode 0755, so other users can reach the socket).
    public let directory: String
    /// `--state-dir`: `directory/state`, created by the daemon on its first start.
    public let stateDirectory: String
    /// The socket the daemon serves (`directory/s.sock`, well under the 108-byte limit).
    public let socketPath: String
    /// The daemon's stdout and stderr, appended across restarts.
    public let stderrPath: String
    /// Extra command-line arguments, after `--socket` and `--state-dir`.
    public var arguments: [String]
    /// Extra environment variables (the test process's own are inherited, minus systemd's).
    public var environment: [String: String]
    /// A command that runs the daemon, e.g. `systemd-socket-activate -l PATH`; empty runs it directly.
    public var launcher: [String] = []
    /// The `--socket` argument; `socketPath` unless set (e.g. under socket activation).
    public var socketArgument: String?
    private var child: ChildProcess?
    private var starts = 0
    /// The harness asked the current process to stop (so its exit is no surprise).
    private var stopRequested = false

    /// Creates the directory; nothing runs until `start()`.
    public init(arguments: [String] = [], environment: [String: String] = [:]) throws {
        var template = Array("/tmp/au-XXXXXX".utf8CString)
        guard let made = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
            throw DaemonError.system("mkdtemp", errno: errno)
        }
        directory = String(cString: made)
        chmod(directory, 0o755)
        stateDirectory = directory + "/state"
        socketPath = directory + "/s.sock"
        stderrPath = directory + "/stderr.log"
        _ = FileManager.default.createFile(atPath: stderrPath, contents: nil)
        self.arguments = arguments
        self.environment = environment
    }

    /// The path of the daemon binary.
    public static var executable: String { Fixtures.executable(named: "authorityd") }

    /// The full command line `start()` runs.
    public var commandLine: [String] {
        launcher + [Self.executable, "--socket", socketArgument ?? socketPath, "--state-dir", stateDirectory] + arguments
    }

    /// The pid of the running process, if any.
    public var pid: Int32? { isRunning ? child?.pid : nil }

    /// Whether the process is running.
    public var isRunning: Bool { child.map { $0.exitStatus == nil } ?? false }

    /// Everything the daemon wrote to stderr so far (all starts).
    public var log: String { (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? "" }

    /// The last `bytes` of the log, for failure messages.
    public func logTail(_ bytes: Int = 6_000) -> String { String(log.suffix(bytes)) }

    /// A new client for the daemon's socket.
    public func client(timeout: Double = 30) -> UnixHTTPClient { UnixHTTPClient(path: socketPath, timeout: timeout) }

    /// Launches the process without waiting for it to serve.
    public func launch() throws {
        guard !isRunning else { throw DaemonError.alreadyRunning }
        starts += 1
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: stderrPath))
        try handle.seekToEnd()
        handle.write(Data("=== test harness: start \(starts): \(commandLine.joined(separator: " "))\n".utf8))
        try handle.close()
        var inherited = ProcessInfo.processInfo.environment
        for name in ["NOTIFY_SOCKET", "LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES", "WATCHDOG_USEC", "WATCHDOG_PID"] {
            inherited[name] = nil
        }
        child = try ChildProcess(
            commandLine, environment: inherited.merging(environment) { $1 }, stdout: stderrPath, stderr: stderrPath)
        stopRequested = false
    }

    /// Launches the daemon and waits until `GET /v1/health` answers 200 on the socket.
    public func start(timeout: Double = 20) throws {
        try launch()
        try waitUntilHealthy(timeout: timeout)
    }

    /// Polls `GET /v1/health` until 200; fails early (with the log) when the process exits.
    public func waitUntilHealthy(timeout: Double = 20) throws {
        let deadline = Date().addingTimeInterval(timeout)
        var lastError = "no attempt"
        while Date() < deadline {
            if let status = child?.exitStatus { throw DaemonError.exitedDuringStart(status, log: logTail()) }
            do {
                let response = try client(timeout: 2).get("/v1/health")
                if response.status == 200 { return }
                lastError = "status \(response.status): \(response.text)"
            } catch {
                lastError = "\(error)"
            }
            usleep(20_000)
        }
        kill9()
        throw DaemonError.startTimedOut(seconds: timeout, lastError: lastError, log: logTail())
    }

    /// Sends `signal` to the process (no-op when it is not running).
    public func signal(_ signal: Int32) {
        if [SIGTERM, SIGINT, SIGKILL].contains(signal) { stopRequested = true }
        child?.signal(signal)
    }

    /// Waits up to `timeout` seconds for the process to exit; nil when it is still running or was never started.
    public func waitForExit(timeout: Double) -> ExitStatus? { child?.wait(timeout: timeout) }

    /// SIGTERM, then waits up to `timeout` seconds (SIGKILL after that). Returns how it ended;
    /// nil when it was never started.
    @discardableResult
    public func terminate(timeout: Double = 20) -> ExitStatus? {
        guard let child else { return nil }
        if let status = child.exitStatus { return status }
        stopRequested = true
        return child.terminate(timeout: timeout)
    }

    /// SIGKILL and wait (bounded). Returns how it ended; nil when it was never started.
    @discardableResult
    public func kill9() -> ExitStatus? {
        signal(SIGKILL)
        return waitForExit(timeout: 10)
    }

    /// `terminate()` then `start()` on the same state directory. Returns how the old process ended.
    @discardableResult
    public func restart(timeout: Double = 20) throws -> ExitStatus? {
        let status = terminate()
        try start(timeout: timeout)
        return status
    }

    /// Stops the process if needed and deletes the directory.
    public func remove() {
        kill9()
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// Runs `body` with a started daemon (unless `start` is false); always stops it and deletes its
    /// directory, even when `body` throws. Prints the daemon's log when `body` throws, when the
    /// daemon died without being asked to, or when `AUTHORITY_E2E_VERBOSE` is set.
    public static func with<R>(
        arguments: [String] = [], environment: [String: String] = [:], start: Bool = true,
        _ body: (DaemonProcess) async throws -> R
    ) async throws -> R {
        let daemon = try DaemonProcess(arguments: arguments, environment: environment)
        defer { daemon.remove() }
        do {
            if start { try daemon.start() }
            let result = try await body(daemon)
            let diedOnItsOwn = daemon.child != nil && !daemon.isRunning && !daemon.stopRequested
            if diedOnItsOwn || ProcessInfo.processInfo.environment["AUTHORITY_E2E_VERBOSE"] != nil {
                print("authorityd log (\(daemon.directory)):\n\(daemon.logTail())")
            }
            return result
        } catch {
            daemon.kill9()
            print("authorityd log (\(daemon.directory)) after \(error):\n\(daemon.logTail())")
            throw error
        }
    }
}

extension Fixtures {
    /// A fresh random link id in its 22-character base64url form.
    public static func randomLinkID() -> String { LinkID.random().description }
}
