import AuthorityAPI
import AuthorityTesting
import Foundation
import Testing

/// A real nginx (Debian's package) guarding a static file with `auth_request` to the real daemon,
/// configured with docs/examples/nginx.conf exactly as documented.
/// scripts/test.sh installs nginx (scripts/deps.sh nginx); a missing nginx fails the test.
@Suite(.serialized)
struct NginxTests {
    static let nginx = ["/usr/sbin/nginx", "/usr/bin/nginx"].first { FileManager.default.isExecutableFile(atPath: $0) }
    static let example = exampleFile("nginx.conf")
    static let secret = ServedFiles.report

    /// Starts nginx on a free loopback port in front of the daemon at `socket`, with its files in
    /// `directory/nginx`; returns the base URL and prefix.
    func startNginx(in directory: String, socket: String) throws -> (process: ChildProcess, base: String, prefix: String) {
        let prefix = directory + "/nginx"
        let root = prefix + "/www"
        try ServedFiles.create(root: root)
        for path in [directory, prefix] { chmod(path, 0o755) }
        let port = try freePort()
        let config = try fillPlaceholders(Self.example, ["PREFIX": prefix, "ROOT": root, "SOCKET": socket, "PORT": String(port)])
        try config.write(toFile: prefix + "/nginx.conf", atomically: true, encoding: .utf8)
        let executable = try #require(Self.nginx, "nginx is not installed")
        let process = try ChildProcess(
            [executable, "-p", prefix, "-c", prefix + "/nginx.conf", "-g", "daemon off;"],
            environment: ProcessInfo.processInfo.environment, stdout: prefix + "/nginx.log", stderr: prefix + "/nginx.log")
        let base = "http://127.0.0.1:\(port)"
        for _ in 0..<100 where (try? curl(base + "/").status) == nil { usleep(50_000) }
        return (process, base, prefix)
    }

    /// Forged headers, IP- and host-bound links, a one-time link to a directory and a HEAD, through
    /// nginx.conf as documented.
    @Test func clientHeadersNeverBeatNginxs() async throws {
        try await DaemonProcess.with(arguments: ["--socket-mode", "0666"]) { daemon in
            let (nginx, base, _) = try startNginx(in: daemon.directory, socket: daemon.socketPath)
            defer { nginx.terminate() }
            try ForgeryChecks(base: base, daemon: daemon.client()).all()
        }
    }

    /// What nginx really sends to the auth endpoint when the client forges every header: the
    /// four headers /v1/auth/nginx reads, each once, with nginx's values (the client's
    /// X-Forwarded-* and Forwarded pass through, which is why that endpoint never reads them).
    @Test func nginxOverwritesWhatTheDaemonReads() throws {
        let directory = try TemporaryDirectory("au-nginx-dump")
        defer { directory.remove() }
        let recorder = try HeaderRecorder(path: directory.path + "/auth.sock")
        defer { recorder.stop() }
        let (nginx, base, _) = try startNginx(in: directory.path, socket: recorder.path)
        defer { nginx.terminate() }
        try expectAuthRequest(through: base, to: recorder, endpoint: "/v1/auth/nginx", passedThrough: ["X-Forwarded-Uri": ["/forged", "/forged2"]]) {
            ["X-Original-URI": "/files/public.txt?a=1,2", "X-Original-Method": "GET", "X-Original-Host": $0, "X-Real-IP": "127.0.0.1"]
        }
    }

    @Test func nginxServesOnlyWhatTheDaemonAllows() async throws {
        try await DaemonProcess.with(arguments: ["--socket-mode", "0666"]) { daemon in
            let (nginx, base, prefix) = try startNginx(in: daemon.directory, socket: daemon.socketPath)
            defer { nginx.terminate() }
            let client = daemon.client()
            func issue(_ body: IssueLinkRequest) throws -> String {
                try client.post("/v1/links", json: body).decode(IssueLinkResponse.self).url
            }
            let resource = "/files/report.txt"
            let valid = try issue(IssueLinkRequest(resource: resource, ttl: 600))
            let served = try curl(base + valid)
            #expect(served.status == 200 && served.body == Self.secret)
            #expect(served.headers["referrer-policy"] == "no-referrer")

            var refused: [(String, String, String)] = []  // (what, url, method)
            refused.append(("tampered", valid.replacingOccurrences(of: "au_exp=", with: "au_exp=1"), "GET"))
            refused.append(("no link", resource, "GET"))
            let revoked = try issue(IssueLinkRequest(resource: resource, ttl: 600))
            let id = String(revoked[revoked.range(of: "au_id=")!.upperBound...].prefix(22))
            #expect(try client.post("/v1/revocations", json: RevokeRequest(id: id)).status == 201)
            refused.append(("revoked", revoked, "GET"))
            refused.append(("wrong method", try issue(IssueLinkRequest(resource: resource, ttl: 600)), "DELETE"))
            refused.append(("wrong client", try issue(IssueLinkRequest(resource: resource, ttl: 600, ip: "192.0.2.0/24")), "GET"))
            let expiring = try issue(IssueLinkRequest(resource: resource, expiresAt: Int64(Date().timeIntervalSince1970) + 2))
            try await Task.sleep(for: .seconds(3))
            refused.append(("expired", expiring, "GET"))
            let expected = ["tampered": (403, "bad_signature"), "no link": (401, "malformed"), "revoked": (403, "revoked"),
                            "wrong method": (403, "method_not_allowed"), "wrong client": (403, "ip_mismatch"),
                            "expired": (403, "expired")]
            for (what, url, method) in refused {
                let answer = try curl(base + url, method: method)
                #expect(answer.status == expected[what]!.0, "\(what): status \(answer.status)")
                #expect(answer.headers["x-authority-reason"] == expected[what]!.1, "\(what)")
                #expect(!answer.body.contains(Self.secret), "\(what): the file was served")
            }

            #expect(daemon.terminate() == .exited(0))
            let down = try curl(base + valid)
            #expect(down.status != 200 && !down.body.contains(Self.secret), "daemon down: \(down.status)")

            let log = try String(contentsOfFile: prefix + "/access.log", encoding: .utf8)
            #expect(log.contains("au_sig=REDACTED"))
            for url in [valid, revoked, expiring] {
                let signature = String(url[url.range(of: "au_sig=")!.upperBound...])
                #expect(!log.contains(signature), "a signature reached the access log")
            }
        }
    }
}
