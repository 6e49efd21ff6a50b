import AuthorityAPI
import AuthorityTesting
import Foundation
import Testing

extension EndToEnd {
    /// Start-up, shutdown, systemd integration and command-line errors.
    @Suite(.serialized) struct Lifecycle {
        @Test func sigtermExitsZero() async throws {
            try await DaemonProcess.with { daemon in
                let health = try daemon.client().health()
                #expect(health.status == "ok")
                #expect(daemon.terminate() == .exited(0))
            }
        }

        @Test func sigtermWithAnIdleKeepAliveConnectionExitsZero() async throws {
            try await DaemonProcess.with { daemon in
                let client = daemon.client()
                _ = try client.issue("/l/a.txt")
                #expect(client.isConnected)
                #expect(daemon.terminate() == .exited(0))
                #expect(client.waitForClose(seconds: 1))
            }
        }

        @Test func firstStartCreatesTheStateDirectory() async throws {
            try await DaemonProcess.with { daemon in
                var isDirectory: ObjCBool = false
                #expect(FileManager.default.fileExists(atPath: daemon.stateDirectory, isDirectory: &isDirectory))
                #expect(isDirectory.boolValue)
                let contents = (try? FileManager.default.contentsOfDirectory(atPath: daemon.stateDirectory)) ?? []
                #expect(!contents.isEmpty, "state directory is empty")
            }
        }

        @Test func socketActivationAndNotify() async throws {
            try await DaemonProcess.with(start: false) { daemon in
                let notify = try NotifySocket(path: daemon.directory + "/n.sock")
                daemon.launcher = [
                    "/usr/bin/systemd-socket-activate", "-l", daemon.socketPath, "--fdname=authority",
                    "-E", "NOTIFY_SOCKET=\(notify.path)",
                ]
                // Under socket activation the daemon serves the inherited fd 3 and binds nothing.
                let unbound = daemon.directory + "/unbound.sock"
                daemon.socketArgument = unbound
                try daemon.start()
                #expect(notify.waitFor("READY=1", timeout: 20), "datagrams: \(notify.received)\n\(daemon.logTail())")
                let client = daemon.client()
                #expect(try client.health().status == "ok")
                let link = try client.issue("/sa/x.txt")
                #expect(try client.reason(link.url) == "ok")
                #expect(!FileManager.default.fileExists(atPath: unbound), "the daemon bound --socket under socket activation")
                #expect(daemon.terminate() == .exited(0))
                #expect(notify.waitFor("STOPPING=1", timeout: 5), "datagrams: \(notify.received)")
            }
        }

        @Test func notifyWithoutSocketActivation() async throws {
            try await DaemonProcess.with(start: false) { daemon in
                let notify = try NotifySocket(path: daemon.directory + "/n.sock")
                daemon.environment = ["NOTIFY_SOCKET": notify.path, "WATCHDOG_USEC": "1000000"]
                try daemon.start()
                #expect(notify.waitFor("READY=1", timeout: 20), "datagrams: \(notify.received)")
                #expect(notify.received.contains { $0.hasPrefix("STATUS=") }, "datagrams: \(notify.received)")
                #expect(notify.waitFor("WATCHDOG=1", timeout: 5), "datagrams: \(notify.received)")
                #expect(daemon.terminate() == .exited(0))
                #expect(notify.waitFor("STOPPING=1", timeout: 5), "datagrams: \(notify.received)")
            }
        }

        /// Each bad invocation exits non-zero with a one-line error on stderr.
        @Test(arguments: [
            ["--socket-mode", "999"],
            ["--max-ttl", "0"],
            ["--max-ttl", "soon"],
            ["--log-level", "loud"],
            ["--body-limit", "10"],
            ["--verify-cache-entries", "16777217"],
            ["--no-such-option"],
            ["--policy", "/nonexistent/policy.json"],
        ])
        func badOptionsFailWithOneLine(_ options: [String]) async throws {
            try await DaemonProcess.with(arguments: options, start: false) { daemon in
                try daemon.launch()
                let status = daemon.waitForExit(timeout: 20)
                #expect(status != nil && status != .exited(0), "\(options): \(String(describing: status))")
                let lines = daemon.log.split(separator: "\n").filter { !$0.hasPrefix("=== test harness") && !$0.isEmpty }
                #expect(lines.count == 1, "\(options): stderr was:\n\(lines.joined(separator: "\n"))")
            }
        }

        /// `--help` and `--version` print on stdout and exit 0; a usage error is one line ending in
        /// `(see authorityd --help)`, exit 2; a refused configuration one line, exit 1.
        @Test func exitStatusesOfTheCommandLine() throws {
            let directory = try TemporaryDirectory("au-usage")
            defer { directory.remove() }
            let (status, help, helpErrors) = try run(DaemonProcess.executable, ["--help"])
            #expect(status == 0 && helpErrors.isEmpty, "\(helpErrors)")
            for flag in ["--config <file>", "--max-ttl <seconds>", "--no-revocations", "--adopt-database", "--log-level <level>", "-h, --help"] {
                #expect(help.contains(flag), "\(flag) not in:\n\(help)")
            }
            let (versionStatus, version, _) = try run(DaemonProcess.executable, ["--version"])
            #expect(versionStatus == 0 && version.split(separator: "\n").count == 1, "\(version)")
            let cases: [([String], Int32)] = [
                (["--no-such-option"], 2), (["--max-ttl"], 2), (["--max-ttl", "soon"], 2), (["surplus"], 2),
                (["--forward-auth-headers", "auto"], 2), (["--max-ttl", "0"], 1), (["--config", directory.path + "/none.json"], 1),
            ]
            for (arguments, expected) in cases {
                let fenced = ["--state-dir", directory.path + "/state", "--socket", directory.path + "/s.sock"] + arguments
                let (code, output, errors) = try run(DaemonProcess.executable, fenced)
                let lines = errors.split(separator: "\n")
                #expect(code == expected && output.isEmpty && lines.count == 1, "\(arguments): exit \(code), stderr \(errors)")
                #expect(lines.first?.hasPrefix("authorityd: ") == true)
                #expect(lines.first?.hasSuffix("(see authorityd --help)") == (expected == 2), "\(arguments): \(errors)")
            }
            #expect(!FileManager.default.fileExists(atPath: directory.path + "/state"), "a refused start touched the state directory")
        }

        /// The harness's children get stdin, stdout and stderr only (a leaked descriptor would keep
        /// another test's pipe or socket open).
        @Test func harnessChildrenInheritNoOtherDescriptor() throws {
            let (status, output, _) = try run("/bin/ls", ["/proc/self/fd"])
            #expect(status == 0)
            // ls itself holds one more: the directory it lists.
            #expect(Set(output.split(separator: "\n").compactMap { Int($0) }).isSubset(of: [0, 1, 2, 3]), "\(output)")
        }

        @Test func unparsablePolicyStopsTheDaemon() async throws {
            try await DaemonProcess.with(start: false) { daemon in
                let path = daemon.directory + "/policy.json"
                try #"{"rules": [{"uid": 1, "rights": ["check"], "colour": "blue"}]}"#.write(toFile: path, atomically: true, encoding: .utf8)
                daemon.arguments = ["--policy", path]
                try daemon.launch()
                let status = daemon.waitForExit(timeout: 20)
                #expect(status != nil && status != .exited(0), "\(String(describing: status))")
            }
        }
    }
}
