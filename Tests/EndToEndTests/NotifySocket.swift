import AuthorityTesting
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A bound `AF_UNIX` datagram socket standing in for systemd's `NOTIFY_SOCKET`.
final class NotifySocket {
    let path: String
    private let descriptor: Int32
    /// Every assignment received so far (`READY=1`, `STATUS=…`), in order.
    private(set) var received: [String] = []

    /// Binds a datagram socket at `path` (mode 0777 so a daemon under any uid may write to it).
    init(path: String) throws {
        self.path = path
        descriptor = try bindDatagramSocket(path: path)
    }

    deinit {
        close(descriptor)
        unlink(path)
    }

    /// Reads datagrams until one holds the line `assignment` (e.g. `READY=1`) or `timeout` seconds
    /// pass. Returns whether it arrived; everything read is appended to `received`.
    func waitFor(_ assignment: String, timeout: Double) -> Bool {
        if received.contains(assignment) { return true }
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            let remaining = Int32(max(1, deadline.timeIntervalSinceNow * 1_000))
            var entry = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            guard poll(&entry, 1, min(remaining, 200)) > 0 else { continue }
            var buffer = [UInt8](repeating: 0, count: 4_096)
            let count = recv(descriptor, &buffer, buffer.count, Int32(MSG_DONTWAIT))
            guard count > 0 else { continue }
            let lines = String(decoding: buffer[0..<count], as: UTF8.self).split(separator: "\n").map(String.init)
            received += lines
            if lines.contains(assignment) { return true }
        }
        return false
    }
}

/// A datagram Unix socket bound at `path`, mode 0777 so a daemon under any uid may write to it;
/// with `passCredentials`, each datagram carries its sender's pid/uid/gid (`SO_PASSCRED`).
func bindDatagramSocket(path: String, passCredentials: Bool = false) throws -> Int32 {
    let descriptor = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
    guard descriptor >= 0 else { throw POSIXError(.init(rawValue: errno) ?? .EIO) }
    if passCredentials {
        var on: Int32 = 1
        setsockopt(descriptor, SOL_SOCKET, SO_PASSCRED, &on, socklen_t(MemoryLayout<Int32>.size))
    }
    guard let bound = withUnixSocketAddress(path, { bind(descriptor, $0, $1) }) else {
        close(descriptor)
        preconditionFailure("notify socket path too long: \(path)")
    }
    guard bound == 0 else {
        let code = errno
        close(descriptor)
        throw POSIXError(.init(rawValue: code) ?? .EIO)
    }
    chmod(path, 0o777)
    return descriptor
}
