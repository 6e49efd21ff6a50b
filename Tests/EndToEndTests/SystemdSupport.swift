import AuthorityTesting
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Where things are for the systemd tests, and whether they can run here.
enum SystemdTestEnvironment {
    /// The package root, from this file's path (`Tests/EndToEndTests/SystemdSupport.swift`).
    static let packageRoot: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()

    /// The release build the tests install (`swift build -c release --product authorityd`).
    static var releaseBinary: String { packageRoot + "/.build/release/authorityd" }

    static let tools = ["/usr/bin/systemd-socket-activate", "/usr/bin/setpriv", "/usr/bin/curl",
                        "/usr/bin/systemd-sysusers", "/usr/sbin/useradd", "/usr/sbin/groupadd"]

    /// Why the socket-activation test cannot run here, or nil when it can.
    static var unavailableReason: String? {
        if !FileManager.default.isExecutableFile(atPath: releaseBinary) {
            return "\(releaseBinary) is not built: run `swift build -c release --product authorityd` first"
        }
        if getuid() != 0 { return "needs root (it creates users and runs the daemon and clients as them)" }
        if let missing = tools.first(where: { !FileManager.default.isExecutableFile(atPath: $0) }) {
            return "\(missing) is missing (apt-get install systemd util-linux curl passwd)"
        }
        return nil
    }

    /// Why `scripts/check-units.sh` cannot run here, or nil when it can.
    static var analyzeUnavailableReason: String? {
        FileManager.default.isExecutableFile(atPath: "/usr/bin/systemd-analyze")
            ? nil : "systemd-analyze is missing (apt-get install systemd)"
    }
}

/// A datagram socket standing in for systemd's `NOTIFY_SOCKET`. A background thread reads every
/// datagram as it arrives and records it with its arrival time and the sender's pid (from
/// `SO_PASSCRED`, as systemd checks it for `NotifyAccess=main`).
final class SystemdNotifyListener: @unchecked Sendable {
    struct Message {
        var time: Date
        var senderPID: Int32?
        var assignments: [String]
    }

    let path: String
    private let descriptor: Int32
    private let lock = NSLock()
    private var messages: [Message] = []
    private var stopped = false
    private let finished = DispatchSemaphore(value: 0)

    /// Binds `path` (mode 0777, like /run/systemd/notify) and starts reading.
    init(path: String) throws {
        self.path = path
        descriptor = try bindDatagramSocket(path: path, passCredentials: true)
        let thread = Thread { [self] in readLoop() }
        thread.start()
    }

    /// Stops the reader and closes the socket (waits at most 2 s for the thread).
    func stop() {
        lock.withLock { stopped = true }
        _ = finished.wait(timeout: .now() + 2)
        close(descriptor)
        unlink(path)
    }

    var received: [Message] { lock.withLock { messages } }

    /// Every assignment received so far, in order (for failure messages).
    var transcript: [String] { received.flatMap(\.assignments) }

    /// The first message holding `assignment`, waiting at most `timeout` seconds for it.
    func waitFor(_ assignment: String, timeout: Double) -> Message? {
        let deadline = Date().addingTimeInterval(timeout)
        repeat {
            if let message = received.first(where: { $0.assignments.contains(assignment) }) { return message }
            usleep(20_000)
        } while Date() < deadline
        return nil
    }

    /// The arrival times of every message holding `assignment`.
    func times(of assignment: String) -> [Date] {
        received.filter { $0.assignments.contains(assignment) }.map(\.time)
    }

    private func readLoop() {
        defer { finished.signal() }
        var buffer = [UInt8](repeating: 0, count: 4_096)
        // struct cmsghdr (size_t len, int level, int type) + struct ucred (pid, uid, gid).
        let headerSize = MemoryLayout<Int>.size + 2 * MemoryLayout<Int32>.size
        var control = [UInt8](repeating: 0, count: 64)
        var controlLength = 0
        while !lock.withLock({ stopped }) {
            var entry = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            guard poll(&entry, 1, 100) > 0 else { continue }
            let count = buffer.withUnsafeMutableBytes { data in
                control.withUnsafeMutableBytes { controlBytes in
                    var vector = iovec(iov_base: data.baseAddress, iov_len: data.count)
                    return withUnsafeMutablePointer(to: &vector) { vectorPointer in
                        var header = msghdr()
                        header.msg_iov = vectorPointer
                        header.msg_iovlen = 1
                        header.msg_control = controlBytes.baseAddress
                        header.msg_controllen = controlBytes.count
                        let received = recvmsg(descriptor, &header, Int32(MSG_DONTWAIT))
                        controlLength = Int(header.msg_controllen)
                        return received
                    }
                }
            }
            let now = Date()
            guard count > 0 else { continue }
            var pid: Int32?
            if controlLength >= headerSize + 12 {
                let level = control.withUnsafeBytes { $0.load(fromByteOffset: MemoryLayout<Int>.size, as: Int32.self) }
                let type = control.withUnsafeBytes { $0.load(fromByteOffset: MemoryLayout<Int>.size + 4, as: Int32.self) }
                if level == SOL_SOCKET && type == 2 {  // SCM_CREDENTIALS
                    pid = control.withUnsafeBytes { $0.load(fromByteOffset: headerSize, as: Int32.self) }
                }
            }
            let text = String(decoding: buffer[0..<count], as: UTF8.self)
            let message = Message(time: now, senderPID: pid, assignments: text.split(separator: "\n").map(String.init))
            lock.withLock { messages.append(message) }
        }
    }
}

/// Users and groups for the test: the daemon's user (from the installed sysusers file), a group
/// of socket clients, a user in it and a user outside it. Created when missing, kept afterwards.
enum SystemdTestAccounts {
    static let daemonUser = "authority"
    static let clientGroup = "authority-test-clients"
    static let insider = "authority-test-in"
    static let outsider = "authority-test-out"

    static func uid(_ name: String) -> UInt32? { getpwnam(name).map { $0.pointee.pw_uid } }
    static func gid(_ name: String) -> UInt32? { getgrnam(name).map { $0.pointee.gr_gid } }

    /// Creates what is missing; returns a description of the first failure.
    static func ensure(sysusersFile: String) throws -> String? {
        if uid(daemonUser) == nil {
            let result = try ChildProcess.run(["/usr/bin/systemd-sysusers", sysusersFile], timeout: 60)
            if result.status != 0 || uid(daemonUser) == nil { return "systemd-sysusers \(sysusersFile): \(result)" }
        }
        if gid(clientGroup) == nil {
            let result = try ChildProcess.run(["/usr/sbin/groupadd", "--system", clientGroup], timeout: 60)
            if result.status != 0 { return "groupadd \(clientGroup): \(result)" }
        }
        for (user, groups) in [(insider, [clientGroup]), (outsider, [])] where uid(user) == nil {
            var arguments = ["--system", "--no-create-home", "--home-dir", "/nonexistent", "--shell", "/usr/sbin/nologin",
                             "--user-group"]
            if !groups.isEmpty { arguments += ["--groups", groups.joined(separator: ",")] }
            let result = try ChildProcess.run(["/usr/sbin/useradd"] + arguments + [user], timeout: 60)
            if result.status != 0 { return "useradd \(user): \(result)" }
        }
        return nil
    }
}

/// A `curl --unix-socket` request run as `user` (with that user's groups), returning curl's exit
/// status, the HTTP status and the body.
func systemdCurl(as user: String, socket: String, _ method: String, _ target: String, json: String? = nil)
    throws -> (curl: Int32, status: Int?, body: String, errors: String)
{
    var arguments = ["--reuid", user, "--regid", user, "--init-groups", "--", "/usr/bin/curl", "-sS", "--max-time", "10",
                     "--unix-socket", socket, "-X", method, "-w", "\n%{http_code}"]
    if let json { arguments += ["-H", "Content-Type: application/json", "--data-binary", json] }
    arguments.append("http://localhost" + target)
    let result = try ChildProcess.run(["/usr/bin/setpriv"] + arguments, timeout: 20)
    var lines = result.stdout.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    let status = lines.popLast().flatMap { Int($0) }.flatMap { $0 == 0 ? nil : $0 }
    return (result.status, status, lines.joined(separator: "\n"), result.stderr)
}

/// `stat` of a path: mode bits, owner and group.
func systemdStat(_ path: String) -> (mode: UInt32, uid: UInt32, gid: UInt32)? {
    var info = stat()
    guard stat(path, &info) == 0 else { return nil }
    return (UInt32(info.st_mode) & 0o7777, info.st_uid, info.st_gid)
}

/// A new directory `/tmp/au-sd-XXXXXX` of mode 0755 (other users must traverse it).
func systemdTemporaryDirectory() throws -> String {
    var template = Array("/tmp/au-sd-XXXXXX".utf8CString)
    guard let made = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
        throw POSIXError(.init(rawValue: errno) ?? .EIO)
    }
    let path = String(cString: made)
    chmod(path, 0o755)
    return path
}

/// 32 random bytes as 64 lower-case hex characters and a newline (the master key file format).
func systemdRandomMasterKey() -> String {
    var generator = SystemRandomNumberGenerator()
    return (0..<32).map { _ in String(format: "%02x", UInt8.random(in: .min ... .max, using: &generator)) }.joined() + "\n"
}
