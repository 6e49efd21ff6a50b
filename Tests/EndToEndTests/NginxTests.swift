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
    static let example = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("docs/examples/nginx.conf")
    static let secret = "the secret file\n"

    /// Starts nginx on a free loopback port in front of `daemon`; returns the base URL and prefix.
    func startNginx(for daemon: DaemonProcess) throws -> (process: Process, base: String, prefix: String) {
        let prefix = daemon.directory + "/nginx"
        let root = prefix + "/www"
        try FileManager.default.createDirectory(atPath: root + "/files", withIntermediateDirectories: true)
        try Self.secret.write(toFile: root + "/files/report.txt", atomically: true, encoding: .utf8)
        for path in [daemon.directory, prefix, root, root + "/files"] { chmod(path, 0o755) }
        chmod(root + "/files/report.txt", 0o644)
        let port = try freePort()
        let config = try String(contentsOf: Self.example, encoding: .utf8)
            .replacingOccurrences(of: "@PREFIX@", with: prefix).replacingOccurrences(of: "@ROOT@", with: root)
            .replacingOccurrences(of: "@SOCKET@", with: daemon.socketPath).replacingOccurrences(of: "@PORT@", with: String(port))
        try config.write(toFile: prefix + "/nginx.conf", atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try #require(Self.nginx, "nginx is not installed"))
        process.arguments = ["-p", prefix, "-c", prefix + "/nginx.conf", "-g", "daemon off;"]
        try process.run()
        let base = "http://127.0.0.1:\(port)"
        for _ in 0..<100 where (try? curl(base + "/").status) == nil { usleep(50_000) }
        return (process, base, prefix)
    }

    @Test func nginxServesOnlyWhatTheDaemonAllows() async throws {
        try await DaemonProcess.with(arguments: ["--socket-mode", "0666"]) { daemon in
            let (nginx, base, prefix) = try startNginx(for: daemon)
            defer { nginx.terminate(); nginx.waitUntilExit() }
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

/// One HTTP exchange through curl: status, lower-cased headers, body.
func curl(_ url: String, method: String = "GET") throws -> (status: Int, headers: [String: String], body: String) {
    let directory = FileManager.default.temporaryDirectory.path + "/curl-\(UUID().uuidString.prefix(8))"
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
    process.arguments = ["-s", "-g", "-X", method, "-m", "10", "-D", directory + "/h", "-o", directory + "/b", url]
    try process.run()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else { throw HarnessError("curl exited with \(process.terminationStatus)") }
    let head = (try? String(contentsOfFile: directory + "/h", encoding: .utf8)) ?? ""
    var headers: [String: String] = [:]
    for line in head.components(separatedBy: "\r\n").dropFirst() {
        let parts = line.split(separator: ":", maxSplits: 1)
        if parts.count == 2 { headers[parts[0].lowercased()] = parts[1].trimmingCharacters(in: .whitespaces) }
    }
    let status = Int(head.split(separator: " ").dropFirst().first ?? "") ?? 0
    return (status, headers, (try? String(contentsOfFile: directory + "/b", encoding: .utf8)) ?? "")
}

/// A loopback TCP port nobody listens on right now.
func freePort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
            bind(fd, pointer, length) == 0 && getsockname(fd, pointer, &length) == 0
        }
    }
    guard bound else { throw HarnessError("no free loopback port") }
    return Int(UInt16(bigEndian: address.sin_port))
}

struct HarnessError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
