import AuthorityAPI
import AuthorityCore
import AuthorityTesting
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

extension EndToEnd {
    /// A caller with no rights (any member of the socket's group) must not be able to slow,
    /// exhaust or crash the daemon: the real daemon, real sockets, real other uids.
    @Suite(.serialized) struct ConnectionLimits {
        /// Seconds since `start`.
        static func since(_ start: Date) -> Double { Date().timeIntervalSince(start) }

        static func metrics(_ daemon: DaemonProcess) throws -> String { try daemon.client().get("/metrics").text }

        /// Pipelines `GET /v1/health` for a second without reading an answer; whether the daemon
        /// then closed the connection (within 3 s).
        static func floodIsClosed(_ daemon: DaemonProcess) throws -> Bool {
            let flood = daemon.client(timeout: 0.2)
            try flood.connect()
            let chunk = Array(String(repeating: "GET /v1/health HTTP/1.1\r\nHost: x\r\n\r\n", count: 100).utf8)
            let start = Date()
            while since(start) < 1 { try? flood.sendRaw(chunk) }
            return flood.waitForClose(seconds: 3)
        }

        /// A client pipelines `GET /v1/health` and never reads: the daemon stops reading from it
        /// once its unsent answers pass the watermark (the client's sends stall), its memory stays
        /// put, other callers are served, and the connection is closed after the idle timeout.
        @Test func aClientThatNeverReadsIsPausedThenClosed() async throws {
            try await DaemonProcess.with(arguments: ["--idle-timeout", "3"]) { daemon in
                let pid = try #require(daemon.pid)
                let before = try ProcessSample.of(pid)
                let flood = daemon.client(timeout: 0.2)
                let chunk = Array(String(repeating: "GET /v1/health HTTP/1.1\r\nHost: x\r\n\r\n", count: 100).utf8)
                var sent = 0
                var sentInTheFirstSecond = 0
                let start = Date()
                while Self.since(start) < 2 {
                    if sentInTheFirstSecond == 0, Self.since(start) >= 1 { sentInTheFirstSecond = max(sent, 1) }
                    do {
                        try flood.sendRaw(chunk)
                        sent += chunk.count
                    } catch UnixHTTPError.timedOut {
                        // Paused: the daemon reads nothing more from this connection.
                    }
                }
                let during = try ProcessSample.of(pid)
                #expect(try daemon.client().get("/v1/health").status == 200, "another caller is not served")
                // Once its answers backed up, the daemon read nothing more: no progress in the second
                // second. The old one kept reading and queueing answers for as long as the client sent.
                #expect(sent <= sentInTheFirstSecond, "the daemon kept reading: \(sentInTheFirstSecond) then \(sent) bytes")
                #expect(sent < 1 << 20, "the daemon read \(sent) bytes from a client that reads nothing")
                #expect(during.rssMiB - before.rssMiB < 24, "RSS grew from \(before.rssMiB) to \(during.rssMiB) MiB")
                // Still reading nothing: closed once the answers waited unread for the idle timeout
                // (3 s from the first stall). Reading now would let the daemon resume.
                usleep(UInt32(max(0, 4.5 - Self.since(start)) * 1_000_000))
                #expect(flood.waitForClose(seconds: 0.5), "a client that reads nothing kept its connection")
                #expect(try Self.metrics(daemon).contains(#"authority_connections_closed_total{reason="write_stalled"} 1"#))
            }
        }

        /// Past the hard limit of unsent bytes the connection is closed at once, before the idle
        /// timeout: with the hard limit at the watermark (4 KiB), pipelined `GET /v1/health`
        /// answers that back up pass both at once.
        @Test func unsentBytesPastTheHardLimitCloseTheConnection() async throws {
            let arguments = ["--write-buffer-limit", "4096", "--write-buffer-hard-limit", "4096", "--log-level", "debug"]
            try await DaemonProcess.with(arguments: arguments) { daemon in
                let closed = try Self.floodIsClosed(daemon)
                #expect(closed, "unsent answers past the hard limit kept the connection")
                // /metrics itself is larger than this hard limit: the log says why it closed.
                #expect(daemon.log.contains("reason=write_buffer_hard_limit"), "\(daemon.logTail(2_000))")
                #expect(try daemon.client().get("/v1/health").status == 200)
            }
        }

        /// Over a real socket, with the hard limit at 4 KiB: a revocation bundle more than twice
        /// that is answered whole in both forms, and the limit still holds for pipelined answers
        /// piling up (the flood of the test above closes as before). That the bundle's shared
        /// bytes pass the limit while the channel is not writable is shown by
        /// `ConnectionGuardTests.aSharedBundleBodyMayPassTheHardLimitAPlainAnswerMayNot` (here the
        /// kernel's socket buffer takes the whole answer at once).
        @Test func aBundleLargerThanTheHardLimitIsAnsweredWhole() async throws {
            let arguments = ["--write-buffer-limit", "4096", "--write-buffer-hard-limit", "4096"]
            try await DaemonProcess.with(arguments: arguments) { daemon in
                let client = daemon.client(timeout: 30)
                for _ in 0..<600 {
                    let response = try client.post("/v1/revocations", json: RevokeRequest(id: Base64URL.encode((0..<16).map { _ in UInt8.random(in: 0...255) })))
                    #expect(response.status == 201)
                }
                for target in ["/v1/revocations/bundle", "/v1/revocations/bundle?format=json"] {
                    let reader = daemon.client(timeout: 30)
                    let response = try reader.get(target)
                    #expect(response.status == 200, "\(target): \(response.status)")
                    #expect(response.body.count > 9_600, "\(target): \(response.body.count) bytes")
                    #expect(response.header("Content-Length") == String(response.body.count))
                }
                let bundle = try client.get("/v1/revocations/bundle").body
                #expect(bundle.count == 137 + 4 + 9 + 4 + 4 + 600 * 16)
                let closed = try Self.floodIsClosed(daemon)
                #expect(closed, "unsent answers past the hard limit kept the connection")
            }
        }

        /// A slowloris drips a header byte every 0.3 s: closed at the request timeout counted from
        /// its first byte, however often it sends.
        @Test func aSlowlorisIsClosedAtTheRequestTimeout() async throws {
            try await DaemonProcess.with(arguments: ["--request-timeout", "2"]) { daemon in
                let client = daemon.client(timeout: 5)
                try client.sendRaw("GET /v1/health HTTP/1.1\r\n")
                let start = Date()
                var closedAfter: Double?
                while Self.since(start) < 6, closedAfter == nil {
                    try? client.sendRaw("X")
                    if client.waitForClose(seconds: 0.3) { closedAfter = Self.since(start) }
                }
                let seconds = try #require(closedAfter, "a slowloris was still connected after 6 s")
                #expect(seconds > 1.7 && seconds < 3.5, "closed after \(seconds) s, not at the 2 s request timeout")
                #expect(try Self.metrics(daemon).contains(#"authority_connections_closed_total{reason="request_timeout"} 1"#))
            }
        }

        /// Keep-alive: a connection that keeps asking stays open; one left idle is closed after
        /// the idle timeout.
        @Test func anIdleKeepAliveConnectionIsClosedAfterTheIdleTimeout() async throws {
            try await DaemonProcess.with(arguments: ["--idle-timeout", "2"]) { daemon in
                let busy = daemon.client()
                let idle = daemon.client()
                #expect(try idle.get("/v1/health").status == 200)
                let start = Date()
                for _ in 0..<4 {
                    #expect(try busy.get("/v1/health").status == 200)
                    usleep(800_000)
                }
                #expect(idle.waitForClose(seconds: 3), "an idle connection outlived the idle timeout")
                let closedAfter = Self.since(start)
                #expect(closedAfter > 1.7 && closedAfter < 4, "idle connection closed after \(closedAfter) s")
                _ = try busy.get("/v1/health")
                #expect(busy.connectionsOpened == 1, "a connection in use was closed as idle")
            }
        }

        /// uid 65534 opens cap + 3 connections: the 3 extra are closed at once, counted and logged
        /// once; root (another uid) is still answered; past the total cap root is refused too.
        @Test func connectionsOverTheCapsAreClosedAtOnce() async throws {
            let arguments = ["--socket-mode", "0666", "--max-connections-per-uid", "5", "--max-connections", "7"]
            try await DaemonProcess.with(arguments: arguments) { daemon in
                let holder = try ConnectionHolder(socket: daemon.socketPath, count: 8, mode: .idle, directory: daemon.directory)
                defer { holder.stop() }
                let report = holder.wait(timeout: 5) { $0.closed >= 3 }
                #expect(report == ConnectionHolder.Report(open: 5, failed: 0, closed: 3), "\(String(describing: report))")
                let first = daemon.client()
                let second = daemon.client()
                #expect(try first.get("/v1/health").status == 200, "root is not served while uid 65534 is at its cap")
                #expect(try second.get("/v1/health").status == 200)
                let third = daemon.client()
                try third.connect()
                #expect(third.waitForClose(seconds: 2), "a connection over the total cap stayed open")
                second.close()
                usleep(100_000)
                let metrics = try first.get("/metrics").text
                #expect(metrics.contains(#"authority_connections_refused_total{limit="max_connections_per_uid"} 3"#), "\(metrics)")
                #expect(metrics.contains(#"authority_connections_refused_total{limit="max_connections"} 1"#))
                #expect(metrics.contains("authority_connections_open 6"))
                let lines = daemon.log.components(separatedBy: "\n").filter { $0.contains("connection cap reached") }
                #expect(lines.count == 1, "refusals are not logged at a bounded rate: \(lines)")
            }
        }

        /// Under a descriptor limit of 64, connections exhaust it: the daemon backs off instead of
        /// spinning in its accept loop (its CPU time stays low), says so once, and serves again
        /// once the connections close. Both ways the daemon gets its socket: bound itself, and
        /// inherited under socket activation (NIO's `withBoundSocket`).
        @Test(arguments: [false, true])
        func descriptorExhaustionBacksOffAndRecovers(socketActivated: Bool) async throws {
            let daemon = try DaemonProcess()
            defer { daemon.remove() }
            daemon.launcher = ["/usr/bin/prlimit", "--nofile=64:64", "--"]
            if socketActivated {
                daemon.launcher += ["/usr/bin/systemd-socket-activate", "-l", daemon.socketPath, "--fdname=authority"]
                daemon.socketArgument = daemon.directory + "/unbound.sock"
            }
            try daemon.start()
            let pid = try #require(daemon.pid)
            var held: [UnixHTTPClient] = []
            for _ in 0..<100 {
                let client = daemon.client(timeout: 2)
                try client.connect()
                held.append(client)
            }
            usleep(500_000)
            let before = try ProcessSample.of(pid)
            usleep(2_000_000)
            let after = try ProcessSample.of(pid)
            let cpu = after.cpuSeconds - before.cpuSeconds
            #expect(cpu < 0.3, "the daemon burnt \(cpu) s of CPU in 2 s with its descriptors exhausted")
            let lines = daemon.log.components(separatedBy: "\n").filter { $0.contains("accepting connections failed") }
            #expect(lines.count == 1, "\(lines.count) accept-failure lines: \(daemon.logTail(2_000))")
            #expect(lines.first?.contains("EMFILE") == true)
            held.forEach { $0.close() }
            held.removeAll()
            let start = Date()
            var served = false
            while !served, Self.since(start) < 5 {
                served = (try? daemon.client(timeout: 1).get("/v1/health").status) == 200
            }
            #expect(served, "the daemon did not serve again after the connections closed")
        }

        /// `prctl(PR_SET_DUMPABLE, 0)`: run as uid 65534, the daemon's /proc/PID files belong to root
        /// (the kernel's sign of a non-dumpable process), so no core dump and no ptrace by its uid.
        @Test func theDaemonIsNotDumpable() async throws {
            let daemon = try DaemonProcess()
            defer { daemon.remove() }
            mkdir(daemon.stateDirectory, 0o700)
            for path in [daemon.directory, daemon.stateDirectory] { chown(path, 65534, 65534) }
            daemon.launcher = ["/usr/bin/setpriv", "--reuid", "65534", "--regid", "65534", "--clear-groups"]
            try daemon.start()
            let pid = try #require(daemon.pid)
            let status = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
            #expect(status.contains("Uid:\t65534\t65534\t65534\t65534"), "not running as 65534: \(status)")
            var info = stat()
            #expect(stat("/proc/\(pid)/status", &info) == 0)
            #expect(info.st_uid == 0, "/proc/\(pid)/status belongs to uid \(info.st_uid): the daemon is dumpable")
        }

        /// At `--log-level debug`, NIO's decoder errors (which carry the client's bytes) are logged
        /// by kind only. Garbage behind a request answered from the thread pool: the decoder fails
        /// on its start, and the next read of the same burst (past NIO's first 2,048-byte read)
        /// comes back as `dataReceivedInErrorState(_, bytes)`, which the old log printed in hex.
        @Test func debugLogsNeverCarryTheClientsBytes() async throws {
            try await DaemonProcess.with(arguments: ["--log-level", "debug"]) { daemon in
                let client = daemon.client(timeout: 5)
                let secret = "password=hunter2&au_sig=SECRETSIG;"
                let burst = "GET /v1/audit HTTP/1.1\r\nHost: x\r\n\r\n\u{1}\u{2} garbage\r\n"
                    + String(repeating: secret, count: 200)
                try? client.sendRaw(burst)
                _ = client.waitForClose(seconds: 3)
                usleep(200_000)
                let log = daemon.log
                let hex = "hunter2".utf8.map { String(format: "%02x", $0) }
                #expect(log.contains("connection error"), "the premise: the decoder's error was logged at debug")
                #expect(!log.contains("hunter2") && !log.contains("SECRETSIG"), "\(daemon.logTail(3_000))")
                #expect(!log.contains(hex.joined()) && !log.contains(hex.joined(separator: " ")), "\(daemon.logTail(3_000))")
            }
        }

        /// Forward auth answers only 204, 401 and 403 without a body: an oversized request there is
        /// malformed (401, closed); elsewhere it keeps its JSON 413.
        @Test func anOversizedForwardAuthRequestIsA401WithoutABody() async throws {
            try await DaemonProcess.with { daemon in
                let body = Data(repeating: UInt8(ascii: "x"), count: 70_000)
                let client = daemon.client()
                try? client.sendRaw(UnixHTTPClient.serialize("GET", "/v1/auth", body: body, headers: [("X-Original-URI", "/a")]))
                let answer = try client.readResponse()
                #expect(answer.status == 401, "\(answer.status) \(answer.text)")
                #expect(answer.header("X-Authority-Reason") == "malformed")
                #expect(answer.body.isEmpty && answer.header("Content-Type") == nil)
                #expect(client.waitForClose(seconds: 5))
                let other = daemon.client()
                try? other.sendRaw(UnixHTTPClient.serialize("POST", "/v1/links/check", body: body, headers: []))
                expectError(try other.readResponse(), 413, "body.too_large", "elsewhere")
            }
        }
    }
}
