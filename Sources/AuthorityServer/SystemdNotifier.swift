import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// sd_notify without libsystemd: datagrams to `$NOTIFY_SOCKET` (a path, or `@name` in the
/// abstract namespace). Does nothing when the variable is unset.
public struct SystemdNotifier: Sendable {
    public let socketPath: String?
    /// Half of `$WATCHDOG_USEC` when the watchdog is on for this process.
    public let watchdogInterval: Duration?

    public init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        socketPath = environment["NOTIFY_SOCKET"].flatMap { $0.isEmpty ? nil : $0 }
        var interval: Duration?
        if let text = environment["WATCHDOG_USEC"], let usec = Int64(text), usec > 0 {
            let pidMatches = environment["WATCHDOG_PID"].map { Int32($0) == getpid() } ?? true
            if pidMatches { interval = .microseconds(usec / 2) }
        }
        watchdogInterval = interval
    }

    public func ready(status: String) { send("READY=1\nSTATUS=\(status)") }
    public func status(_ status: String) { send("STATUS=\(status)") }
    public func watchdog() { send("WATCHDOG=1") }
    public func stopping() { send("STOPPING=1\nSTATUS=stopping") }

    /// Sends one datagram; failures are ignored (systemd may not be listening).
    public func send(_ message: String) {
        guard let socketPath else { return }
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return }
        defer { close(fd) }
        let bytes = Array(message.utf8)
        _ = withUnixSocketAddress(socketPath) { address, length in
            sendto(fd, bytes, bytes.count, Int32(MSG_NOSIGNAL), address, length)
        }
    }
}

/// The listening socket systemd passed (socket activation), if any: fd 3 when `$LISTEN_PID` is
/// this process and `$LISTEN_FDS` ≥ 1. The variables are removed so children do not inherit them.
public enum SocketActivation {
    public static func inheritedSocket(environment: [String: String] = ProcessInfo.processInfo.environment) -> CInt? {
        guard let pid = environment["LISTEN_PID"].flatMap({ Int32($0) }), pid == getpid(),
            let count = environment["LISTEN_FDS"].flatMap({ Int($0) }), count >= 1
        else { return nil }
        for name in ["LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES"] { unsetenv(name) }
        return 3
    }
}
