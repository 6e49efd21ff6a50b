import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A helper process that opens many connections to a Unix socket and holds them, optionally as
/// another uid (through `setpriv`, so the daemon's `SO_PEERCRED` sees that uid): idle, or as a
/// slowloris that drips one byte of a request head per connection every `dripInterval`. It is
/// Python (stdlib only, epoll through `selectors`), so thousands of connections cost one process.
/// Its report is one line in `directory/holder-XXXXXXXX/report`, rewritten whenever it changes:
/// `open O failed F closed C reconnected R`.
public final class ConnectionHolder {
    public enum Mode: String, Sendable {
        /// Connects and sends nothing.
        case idle
        /// Sends a request line, then one byte every `dripInterval`, never finishing the head.
        case slowloris
    }

    /// What the helper last reported.
    public struct Report: Equatable, Sendable {
        /// Connections open now (as far as the helper knows).
        public var open = 0
        /// Connections that could not be made at all.
        public var failed = 0
        /// Connections the server closed.
        public var closed = 0
        /// Replacements opened for closed connections (with `reconnect`).
        public var reconnected = 0

        public init(open: Int = 0, failed: Int = 0, closed: Int = 0, reconnected: Int = 0) {
            self.open = open
            self.failed = failed
            self.closed = closed
            self.reconnected = reconnected
        }
    }

    private let child: ChildProcess
    private let outputPath: String

    /// Starts the helper. `uid` nil runs it as the current user; `reconnect` replaces every
    /// connection the server closes (an attacker would); `seconds` bounds its life.
    public init(
        socket: String, count: Int, mode: Mode, uid: String? = "65534", dripInterval: Double = 1,
        reconnect: Bool = false, seconds: Double = 600, directory: String
    ) throws {
        // A directory of its own, owned by the helper's uid: it rewrites its report file there.
        let own = directory + "/holder-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: own, withIntermediateDirectories: false)
        outputPath = own + "/report"
        let scriptPath = own + "/holder.py"
        try Self.script.write(toFile: scriptPath, atomically: true, encoding: .utf8)
        chmod(own, 0o755)
        chmod(scriptPath, 0o644)
        var command = ["/usr/bin/python3", scriptPath, socket, String(count), mode.rawValue, String(dripInterval),
                       reconnect ? "1" : "0", String(seconds), outputPath]
        if let uid {
            command = ["/usr/bin/setpriv", "--reuid", uid, "--regid", uid, "--clear-groups"] + command
            chown(own, uid_t(uid) ?? 65534, gid_t(uid) ?? 65534)
        }
        child = try ChildProcess(
            command, environment: ["PATH": "/usr/bin:/bin"], stdout: own + "/log", stderr: own + "/log")
    }

    deinit { stop() }

    /// The last report, nil before the first.
    public var report: Report? {
        guard let text = try? String(contentsOfFile: outputPath, encoding: .utf8) else { return nil }
        let numbers = text.split(whereSeparator: { $0 == " " || $0 == "\n" }).compactMap { Int($0) }
        guard numbers.count == 4 else { return nil }
        return Report(open: numbers[0], failed: numbers[1], closed: numbers[2], reconnected: numbers[3])
    }

    /// Waits until a report satisfies `condition` (at most `timeout` seconds); returns the last report.
    @discardableResult
    public func wait(timeout: Double, until condition: (Report) -> Bool) -> Report? {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let report, condition(report) { return report }
            if child.exitStatus != nil { break }
            usleep(20_000)
        }
        return report
    }

    /// Whether the helper is still running.
    public var isRunning: Bool { child.exitStatus == nil }

    /// Stops the helper (its connections close with it).
    public func stop() {
        child.signal(SIGKILL)
        _ = child.wait(timeout: 5)
    }

    static let script = #"""
    import os, selectors, socket, sys, time

    path, count, mode, drip, reconnect, seconds, out = sys.argv[1:8]
    count, drip, reconnect, seconds = int(count), float(drip), reconnect == "1", float(seconds)
    sel = selectors.DefaultSelector()
    state = {"failed": 0, "closed": 0, "reconnected": 0}
    last_report = None

    def report():
        global last_report
        line = "open %d failed %d closed %d reconnected %d\n" % (
            len(sel.get_map()), state["failed"], state["closed"], state["reconnected"])
        if line != last_report:
            with open(out + ".tmp", "w") as f:
                f.write(line)
            os.replace(out + ".tmp", out)
            last_report = line

    def connect():
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            s.connect(path)
        except OSError:
            state["failed"] += 1
            s.close()
            return
        if mode == "slowloris":
            s.send(b"GET /v1/health HTTP/1.1\r\n")
        s.setblocking(False)
        sel.register(s, selectors.EVENT_READ)

    for _ in range(count):
        connect()
    report()
    end = time.monotonic() + seconds
    next_drip = time.monotonic() + drip
    while time.monotonic() < end:
        for key, _ in sel.select(timeout=min(0.1, drip)):
            s = key.fileobj
            try:
                data = s.recv(65536)
            except BlockingIOError:
                continue
            except OSError:
                data = b""
            if data == b"":
                sel.unregister(s)
                s.close()
                state["closed"] += 1
                if reconnect:
                    state["reconnected"] += 1
                    connect()
        if mode == "slowloris" and time.monotonic() >= next_drip:
            next_drip += drip
            for key in list(sel.get_map().values()):
                try:
                    key.fileobj.send(b"X")
                except OSError:
                    pass
        report()
    """#
}
