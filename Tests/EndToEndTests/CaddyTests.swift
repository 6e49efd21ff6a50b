import AuthorityAPI
import AuthorityTesting
import Foundation
import Testing

/// A real Caddy (Debian's package) guarding static files with `forward_auth` to the real daemon's
/// Unix socket, configured with docs/examples/Caddyfile exactly as documented.
/// scripts/test.sh installs caddy (scripts/deps.sh caddy); a missing caddy fails the test.
@Suite(.serialized)
struct CaddyTests {
    static let caddy = ["/usr/bin/caddy", "/usr/local/bin/caddy"].first { FileManager.default.isExecutableFile(atPath: $0) }

    /// Starts Caddy on a free loopback port in front of the daemon at `socket`, with its files,
    /// HOME and XDG directories in `directory/caddy` (no admin endpoint: a system Caddy on
    /// localhost:2019 is not in the way).
    func startCaddy(in directory: String, socket: String) throws -> (process: ChildProcess, base: String, prefix: String) {
        let prefix = directory + "/caddy"
        let root = prefix + "/www"
        try ServedFiles.create(root: root)
        let port = try freePort()
        let config = try fillPlaceholders(
            exampleFile("Caddyfile"), ["PREFIX": prefix, "ROOT": root, "SOCKET": socket, "PORT": String(port)])
        try config.write(toFile: prefix + "/Caddyfile", atomically: true, encoding: .utf8)
        let environment = ["HOME": prefix, "XDG_DATA_HOME": prefix + "/data", "XDG_CONFIG_HOME": prefix + "/config",
                           "PATH": "/usr/bin:/bin"]
        let executable = try #require(Self.caddy, "caddy is not installed")
        let process = try ChildProcess(
            [executable, "run", "--config", prefix + "/Caddyfile", "--adapter", "caddyfile"],
            environment: environment, stdout: prefix + "/caddy.log", stderr: prefix + "/caddy.log")
        let base = "http://127.0.0.1:\(port)"
        for _ in 0..<200 where process.exitStatus == nil && (try? curl(base + "/").status) == nil { usleep(50_000) }
        if let status = process.exitStatus {
            let log = (try? String(contentsOfFile: prefix + "/caddy.log", encoding: .utf8)) ?? ""
            throw HarnessError("caddy exited (\(status)):\n\(log.suffix(3_000))")
        }
        return (process, base, prefix)
    }

    func stop(_ process: ChildProcess) { process.terminate(timeout: 10) }

    /// What Caddy really sends to the auth endpoint when the client forges every header: the four
    /// headers /v1/auth/caddy reads, each on one line, with Caddy's values (the client's
    /// X-Original-*, X-Real-IP and Forwarded pass through, which is why that endpoint never reads them).
    @Test func caddyOverwritesWhatTheDaemonReads() throws {
        let directory = try TemporaryDirectory("au-caddy-dump")
        defer { directory.remove() }
        let recorder = try HeaderRecorder(path: directory.path + "/auth.sock")
        defer { recorder.stop() }
        let (caddy, base, _) = try startCaddy(in: directory.path, socket: recorder.path)
        defer { stop(caddy) }
        try expectAuthRequest(through: base, to: recorder, endpoint: "/v1/auth/caddy",
                              passedThrough: ["X-Original-URI": ["/forged"], "X-Real-IP": ["192.0.2.7"]]) {
            ["X-Forwarded-Uri": "/files/public.txt?a=1,2", "X-Forwarded-Method": "GET", "X-Forwarded-Host": $0, "X-Forwarded-For": "127.0.0.1"]
        }
    }

    /// The attack of issue #12: Caddy copies the client's headers to the auth request, so a forged
    /// X-Original-URI (or X-Real-IP) must never decide; also IP- and host-bound links, a one-time
    /// link to a directory and a HEAD through Caddy.
    @Test func clientHeadersNeverBeatCaddys() async throws {
        try await DaemonProcess.with { daemon in
            let (caddy, base, _) = try startCaddy(in: daemon.directory, socket: daemon.socketPath)
            defer { stop(caddy) }
            try ForgeryChecks(base: base, daemon: daemon.client()).all()
        }
    }

    @Test func caddyServesOnlyWhatTheDaemonAllowsAndRedactsTheLog() async throws {
        try await DaemonProcess.with { daemon in
            let (caddy, base, prefix) = try startCaddy(in: daemon.directory, socket: daemon.socketPath)
            defer { stop(caddy) }
            let client = daemon.client()
            let valid = originForm(try client.issue("/files/public.txt", ttl: 600).url)
            let served = try curl(base + valid)
            #expect(served.status == 200 && served.body == ServedFiles.publicText)
            #expect(served.headers["referrer-policy"] == "no-referrer")
            let tampered = try curl(base + valid.replacingOccurrences(of: "au_exp=", with: "au_exp=1"))
            #expect(tampered.status == 403 && tampered.headers["x-authority-reason"] == "bad_signature")
            #expect(!tampered.body.contains(ServedFiles.publicText))
            let none = try curl(base + "/files/public.txt")
            #expect(none.status == 401 && none.headers["x-authority-reason"] == "malformed")
            let wrongMethod = try curl(base + valid, method: "DELETE")
            #expect(wrongMethod.status == 403 && wrongMethod.headers["x-authority-reason"] == "method_not_allowed")

            #expect(daemon.terminate() == .exited(0))
            let down = try curl(base + valid)
            #expect(down.status != 200 && !down.body.contains(ServedFiles.publicText), "daemon down: \(down.status)")

            stop(caddy)  // flushes the access log
            let log = (try? String(contentsOfFile: prefix + "/access.log", encoding: .utf8)) ?? ""
            #expect(log.contains("au_sig=REDACTED"))
            #expect(!log.contains(try #require(queryValue(valid, "au_sig"))), "a signature reached the access log")
        }
    }
}
