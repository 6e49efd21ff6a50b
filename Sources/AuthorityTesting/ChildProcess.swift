import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// How a process ended.
public enum ExitStatus: Equatable, Sendable, CustomStringConvertible {
    /// Exited with this status.
    case exited(Int32)
    /// Killed by this signal.
    case signalled(Int32)

    public var description: String {
        switch self {
        case .exited(let code): "exit status \(code)"
        case .signalled(let signal): "signal \(signal)"
        }
    }
}

/// A child started with `posix_spawn` and reaped with `waitpid` by pid. Unlike Foundation's
/// `Process` (which learns of an exit only once every process that inherited its private socket
/// closed it), its exit is seen at once, and it inherits no descriptor above 2.
public final class ChildProcess: @unchecked Sendable {
    public let pid: pid_t
    private let lock = NSLock()
    private var status: ExitStatus?

    /// Starts `command` (an absolute path and its arguments) with exactly `environment`, stdin read
    /// from the file `stdin`, stdout and stderr appended to the given files (created when missing).
    public init(
        _ command: [String], environment: [String: String], stdin: String = "/dev/null", stdout: String, stderr: String
    ) throws {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, stdin, O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, stdout, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        if stderr == stdout {
            posix_spawn_file_actions_adddup2(&actions, 1, 2)
        } else {
            posix_spawn_file_actions_addopen(&actions, 2, stderr, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        }
        Self.closeDescriptorsFromThree(&actions)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // Its own process group, no blocked signals, default dispositions for what the test may ignore.
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        posix_spawnattr_setpgroup(&attributes, 0)
        var mask = sigset_t()
        sigemptyset(&mask)
        posix_spawnattr_setsigmask(&attributes, &mask)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGPIPE, SIGTERM, SIGINT, SIGHUP, SIGCHLD, SIGUSR1, SIGUSR2] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)

        let argv = command.map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { (argv + envp).forEach { free($0) } }
        var child: pid_t = 0
        let result = posix_spawn(&child, command[0], &actions, &attributes, argv, envp)
        guard result == 0 else { throw DaemonError.system("posix_spawn \(command[0])", errno: result) }
        pid = child
    }

    /// `posix_spawn_file_actions_addclosefrom_np(3)` (glibc 2.34+, not imported into Swift); else
    /// one close action per descriptor open now.
    private static func closeDescriptorsFromThree(_ actions: inout posix_spawn_file_actions_t) {
        typealias CloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
        if let symbol = dlsym(nil, "posix_spawn_file_actions_addclosefrom_np") {
            _ = unsafeBitCast(symbol, to: CloseFrom.self)(&actions, 3)
            return
        }
        let open = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
        for fd in open.compactMap({ Int32($0) }) where fd > 2 { posix_spawn_file_actions_addclose(&actions, fd) }
    }

    deinit { if exitStatus == nil { kill(pid, SIGKILL); _ = wait(timeout: 5) } }

    /// How it ended, or nil while it runs (reaps it once it has exited).
    public var exitStatus: ExitStatus? {
        lock.lock()
        defer { lock.unlock() }
        if status == nil {
            var raw: Int32 = 0
            if waitpid(pid, &raw, WNOHANG) == pid {
                status = raw & 0x7F == 0 ? .exited((raw >> 8) & 0xFF) : .signalled(raw & 0x7F)
            }
        }
        return status
    }

    /// Waits up to `timeout` seconds for the exit; nil when it is still running.
    public func wait(timeout: Double) -> ExitStatus? {
        let deadline = Date().addingTimeInterval(timeout)
        while exitStatus == nil {
            if Date() >= deadline { return nil }
            usleep(5_000)
        }
        return exitStatus
    }

    /// Sends `signal` unless it has already been reaped.
    public func signal(_ signal: Int32) { if exitStatus == nil { kill(pid, signal) } }

    /// SIGTERM, then waits up to `timeout` seconds; SIGKILL after that (and waits up to 10 s more).
    /// Returns how it ended, nil if it still has not.
    @discardableResult
    public func terminate(timeout: Double = 20) -> ExitStatus? {
        if let status = exitStatus { return status }
        signal(SIGTERM)
        if let status = wait(timeout: timeout) { return status }
        signal(SIGKILL)
        return wait(timeout: 10)
    }
}
