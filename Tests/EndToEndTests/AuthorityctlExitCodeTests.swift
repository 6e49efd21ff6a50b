import AuthorityAPI
import AuthorityTesting
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

extension EndToEnd {
    /// The documented exit codes: 2 usage, 3 daemon unreachable, 4 forbidden, 5 other API error
    /// (0 and 1 are covered with check and explain).
    @Suite(.serialized) struct AuthorityctlExitCodeTests {
        /// One of each kind reaches the real binary's exit status: a validate() error, a bad value,
        /// an unknown command, an unknown option. Every refused command line is in
        /// Tests/AuthorityctlTests/ParsingTests.
        @Test(arguments: [
            ["revoke"],
            ["issue", "/x", "--ttl", "5x"],
            ["frobnicate"],
            ["status", "--bogus"],
        ])
        func usageErrorsExit2(_ arguments: [String]) throws {
            // A socket that does not exist: usage errors are found before any connection.
            let result = Ctl.expect(try Ctl.run(["--socket", "/nonexistent/authority.sock"] + arguments), 2)
            #expect(result.stdout.isEmpty, "\(result)")
            #expect(!result.stderr.isEmpty && !result.stderr.contains("/nonexistent/"), "\(result)")
        }

        @Test func noSocketExits3WithWhatToCheck() throws {
            let path = "/nonexistent/authority.sock"
            for command in [
                ["status"], ["keys", "list"], ["issue", "/x"], ["check", "/x?au_v=1"], ["revocations", "list"],
            ] {
                let result = Ctl.expect(try Ctl.run(["--socket", path] + command), 3)
                #expect(result.stdout.isEmpty, "\(result)")
                #expect(
                    result.stderr
                        == "authorityctl: no daemon socket at \(path) (is authorityd running? see --socket or $AUTHORITY_SOCKET)\n",
                    "\(result)")
            }
            // $AUTHORITY_SOCKET is used when there is no --socket, and --socket wins over it.
            let fromEnvironment = Ctl.expect(
                try Ctl.run(["status"], environment: ["AUTHORITY_SOCKET": "/nonexistent/env.sock"]), 3)
            #expect(fromEnvironment.stderr.contains("no daemon socket at /nonexistent/env.sock "), "\(fromEnvironment)")
            let overridden = Ctl.expect(
                try Ctl.run(["--socket", path, "status"], environment: ["AUTHORITY_SOCKET": "/nonexistent/env.sock"]), 3
            )
            #expect(overridden.stderr.contains("no daemon socket at \(path) "), "\(overridden)")
            // Neither: the daemon's default.
            let fallback = try Ctl.run(["status"])
            if fallback.status == 3 {
                #expect(fallback.stderr.contains(" /run/authority/authority.sock "), "\(fallback)")
            }
        }

        @Test func staleSocketExits3() async throws {
            try await TemporaryDirectory.with { directory in
                let path = directory + "/stale.sock"
                try Self.bindWithoutListening(path)
                let result = Ctl.expect(try Ctl.run(["--socket", path, "keys", "list"]), 3)
                #expect(
                    result.stderr
                        == "authorityctl: nothing is listening on \(path) (stale socket? is authorityd running?)\n",
                    "\(result)")
            }
        }

        @Test func stoppedDaemonExits3AndEnvironmentSocketWorks() async throws {
            try await DaemonProcess.with { daemon in
                let viaEnvironment = Ctl.expect(
                    try Ctl.run(["status"], environment: ["AUTHORITY_SOCKET": daemon.socketPath]), 0)
                #expect(viaEnvironment.lines.contains("socket        \(daemon.socketPath)"), "\(viaEnvironment)")
                daemon.kill9()
                let down = Ctl.expect(try daemon.ctl("status"), 3)
                #expect(down.stderr.hasPrefix("authorityctl: ") && down.stderr.contains(daemon.socketPath), "\(down)")
                #expect(down.stderr.contains("is authorityd running?"), "\(down)")
            }
        }

        /// uid 65534 cannot open a 0660 root socket: exit 3 with the permission hint.
        @Test func inaccessibleSocketExits3() async throws {
            try await DaemonProcess.with { daemon in
                let result = Ctl.expect(try daemon.ctl("status", asNobody: true), 3)
                #expect(
                    result.stderr
                        == "authorityctl: permission denied on \(daemon.socketPath) (is your user in the socket's group?)\n",
                    "\(result)")
            }
        }

        /// A caller the policy gives only `check`: refused routes exit 4, allowed ones work.
        @Test func forbiddenExits4() async throws {
            try await DaemonProcess.with(start: false) { daemon in
                let policy = daemon.directory + "/policy.json"
                try #"{"default_rights": ["check"]}"#.write(toFile: policy, atomically: true, encoding: .utf8)
                daemon.arguments = ["--socket-mode", "0666", "--policy", policy]
                try daemon.start()
                let link = try daemon.ctlIssue("/f/a.txt")

                for command in [
                    ["keys", "rotate"], ["keys", "retire", "1", "--force"], ["issue", "/f/b.txt"],
                    ["revoke", "--prefix", "/f/"], ["revocations", "list"],
                ] {
                    let result = try Ctl.run(["--socket", daemon.socketPath] + command, asNobody: true)
                    Ctl.expectAPIError(result, 4, "forbidden")
                }
                let json = try Ctl.run(["--socket", daemon.socketPath, "--json", "keys", "rotate"], asNobody: true)
                Ctl.expectAPIError(json, 4, "forbidden")

                // `check` is granted: check, explain, keys and status work.
                Ctl.expect(try daemon.ctl("check", link, asNobody: true), 0)
                Ctl.expect(try daemon.ctl("explain", tampered(link), asNobody: true), 1)
                Ctl.expect(try daemon.ctl("keys", "list", asNobody: true), 0)
                let status = Ctl.expect(try daemon.ctl("status", asNobody: true), 0)
                #expect(status.lines.contains("active epoch  1") && status.stderr.isEmpty, "\(status)")
                #expect(try daemon.client().keys().keys.count == 1, "nothing rotated")
            }
        }

        @Test func otherAPIErrorsExit5() async throws {
            try await DaemonProcess.with { daemon in
                Ctl.expectAPIError(try daemon.ctl("keys", "retire", "1"), 5, "key.active")
                Ctl.expectAPIError(try daemon.ctl("keys", "retire", "1", "--force"), 5, "key.active")
                Ctl.expectAPIError(try daemon.ctl("issue", "/x", "--ip", "not-an-address"), 5, "request.invalid")
                Ctl.expectAPIError(try daemon.ctl("issue", "/x", "--ttl", "30d"), 5, "request.invalid")
                Ctl.expectAPIError(try daemon.ctl("issue", "relative/path"), 5, "request.invalid")
                Ctl.expectAPIError(try daemon.ctl("revoke", "--id", "not-an-id"), 5, "request.invalid")
                Ctl.expectAPIError(try daemon.ctl("check", "/x?au_v=1", "--ip", "999.1.1.1"), 5, "request.invalid")
                let message = try daemon.ctl("keys", "retire", "1")
                #expect(
                    message.stderr.hasPrefix("authorityctl: key.active: ") && message.stderr.count > 30, "\(message)")
            }
        }

        /// A Unix socket file that nobody listens on (what a crashed daemon leaves behind).
        static func bindWithoutListening(_ path: String) throws {
            let descriptor = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
            try #require(descriptor >= 0)
            defer { close(descriptor) }
            let bound = withUnixSocketAddress(path) { bind(descriptor, $0, $1) }
            try #require(bound == 0, "bind \(path): errno \(errno)")
        }
    }
}
