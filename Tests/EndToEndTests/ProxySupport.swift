import AuthorityAPI
import AuthorityTesting
import Foundation
import Testing

/// One HTTP exchange through curl: status, lower-cased headers, body. `headers` are sent as
/// given (a `Host` replaces curl's own); `HEAD` asks for the head only.
func curl(_ url: String, method: String = "GET", headers: [(String, String)] = []) throws
    -> (status: Int, headers: [String: String], body: String)
{
    let directory = FileManager.default.temporaryDirectory.path + "/curl-\(UUID().uuidString.prefix(8))"
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
    let verb = method == "HEAD" ? ["-I"] : ["-X", method]
    process.arguments = ["-s", "-g"] + verb + ["-m", "10", "-D", directory + "/h", "-o", directory + "/b"]
        + headers.flatMap { ["-H", "\($0.0): \($0.1)"] } + [url]
    try process.run()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else { throw HarnessError("curl exited with \(process.terminationStatus)") }
    let head = (try? String(contentsOfFile: directory + "/h", encoding: .utf8)) ?? ""
    var fields: [String: String] = [:]
    for line in head.components(separatedBy: "\r\n").dropFirst() {
        let parts = line.split(separator: ":", maxSplits: 1)
        if parts.count == 2 { fields[parts[0].lowercased()] = parts[1].trimmingCharacters(in: .whitespaces) }
    }
    let status = Int(head.split(separator: " ").dropFirst().first ?? "") ?? 0
    return (status, fields, (try? String(contentsOfFile: directory + "/b", encoding: .utf8)) ?? "")
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

/// Fills in a docs/examples file's `@NAME@` placeholders.
func fillPlaceholders(_ file: URL, _ values: [String: String]) throws -> String {
    var text = try String(contentsOf: file, encoding: .utf8)
    for (name, value) in values { text = text.replacingOccurrences(of: "@\(name)@", with: value) }
    return text
}

/// The documented examples (docs/examples/…).
func exampleFile(_ name: String) -> URL {
    URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("docs/examples/" + name)
}

/// The files a proxy under test serves from `root`, world-readable (nginx's workers are not root).
enum ServedFiles {
    static let report = "the secret file\n"
    static let publicText = "the public file\n"
    static let secretText = "the secret file below /files/secret/\n"
    static let indexText = "<p>the directory index</p>\n"

    static func create(root: String) throws {
        let files = ["files/report.txt": report, "files/public.txt": publicText, "files/secret/s.txt": secretText,
                     "files/dir/index.html": indexText]
        for directory in ["", "/files", "/files/secret", "/files/dir"] {
            try FileManager.default.createDirectory(atPath: root + directory, withIntermediateDirectories: true)
            chmod(root + directory, 0o755)
        }
        for (path, text) in files {
            try text.write(toFile: root + "/" + path, atomically: true, encoding: .utf8)
            chmod(root + "/" + path, 0o644)
        }
    }
}

/// What a client can forge through a proxy in front of the daemon (docs/proxies.md): every
/// header any dialect reads, one at a time and all together. The proxy must overwrite whatever
/// its dialect reads, so no forged header ever wins.
struct ForgeryChecks {
    /// `http://127.0.0.1:PORT`.
    let base: String
    let daemon: UnixHTTPClient
    var hostPort: String { String(base.dropFirst("http://".count)) }

    func issue(_ body: IssueLinkRequest) throws -> String { originForm(try daemon.issue(body).url) }

    /// Each header a dialect reads, set to `value(name)`.
    static func forgeries(uri: String, method: String, host: String, address: String) -> [(String, String)] {
        [("X-Original-URI", uri), ("X-Original-Method", method), ("X-Original-Host", host),
         ("X-Forwarded-Uri", uri), ("X-Forwarded-Method", method), ("X-Forwarded-Host", host),
         ("X-Forwarded-For", address), ("X-Real-IP", address), ("Forwarded", "for=\(address);host=\(host);proto=http")]
    }

    static func oneAtATimeAndAll(_ headers: [(String, String)]) -> [[(String, String)]] { headers.map { [$0] } + [headers] }

    func expectRefused(_ path: String, _ headers: [(String, String)], not text: String, reason: String? = nil,
                       sourceLocation: SourceLocation = #_sourceLocation) throws {
        let answer = try curl(base + path, headers: headers)
        let what = "\(path.prefix(40)) with \(headers.map(\.0))"
        #expect([401, 403].contains(answer.status), "\(what): \(answer.status)", sourceLocation: sourceLocation)
        #expect(!answer.body.contains(text), "\(what): served", sourceLocation: sourceLocation)
        if let reason { #expect(answer.headers["x-authority-reason"] == reason, "\(what)", sourceLocation: sourceLocation) }
    }

    func expectServed(_ path: String, _ headers: [(String, String)] = [], _ text: String = ServedFiles.publicText,
                      sourceLocation: SourceLocation = #_sourceLocation) throws {
        let answer = try curl(base + path, headers: headers)
        #expect(answer.status == 200 && answer.body == text, "\(path.prefix(40)) with \(headers.map(\.0)): \(answer.status)",
                sourceLocation: sourceLocation)
    }

    /// A client holding a link for /files/public.txt asks for /files/secret/s.txt and forges the
    /// original request in every header: refused, and the secret never served.
    func secretStaysSecret() throws {
        let valid = try issue(IssueLinkRequest(resource: "/files/public.txt", ttl: 600))
        let query = String(valid[valid.firstIndex(of: "?")!...])
        try expectServed(valid)
        let forged = Self.forgeries(uri: valid, method: "GET", host: hostPort, address: "127.0.0.1")
        for path in ["/files/secret/s.txt", "/files/secret/s.txt" + query] {
            for headers in Self.oneAtATimeAndAll(forged) { try expectRefused(path, headers, not: ServedFiles.secretText) }
        }
        // The valid link still passes whatever the client claims about the request.
        let hostile = Self.forgeries(uri: "/files/secret/s.txt", method: "DELETE", host: "evil.example", address: "198.51.100.9")
        for headers in Self.oneAtATimeAndAll(hostile) { try expectServed(valid, headers) }
    }

    /// IP-bound links: the address is the one that connected to the proxy (127.0.0.1 here),
    /// whatever address headers the client sends.
    func addressesCannotBeForged() throws {
        let elsewhere = try issue(IssueLinkRequest(resource: "/files/public.txt", ttl: 600, ip: "192.0.2.0/24"))
        let forged = Self.forgeries(uri: elsewhere, method: "GET", host: hostPort, address: "192.0.2.7")
        try expectRefused(elsewhere, [], not: ServedFiles.publicText, reason: "ip_mismatch")
        for headers in Self.oneAtATimeAndAll(forged) {
            try expectRefused(elsewhere, headers, not: ServedFiles.publicText, reason: "ip_mismatch")
        }
        let loopback = try issue(IssueLinkRequest(resource: "/files/public.txt", ttl: 600, ip: "127.0.0.0/8"))
        try expectServed(loopback)
        let away = Self.forgeries(uri: loopback, method: "GET", host: hostPort, address: "198.51.100.9")
        for headers in Self.oneAtATimeAndAll(away) { try expectServed(loopback, headers) }
    }

    /// A host-bound link for `http://127.0.0.1:PORT/…` passes with that `Host` (port included) and
    /// is refused with another, whatever host the client claims in other headers.
    func hostBinding() throws {
        let bound = try issue(IssueLinkRequest(resource: base + "/files/public.txt", ttl: 600, bindHost: true))
        try expectServed(bound)
        let evil = [("Host", "evil.example:" + hostPort.split(separator: ":").last!)]
        try expectRefused(bound, evil, not: ServedFiles.publicText, reason: "resource_mismatch")
        let claims = Self.forgeries(uri: bound, method: "GET", host: hostPort, address: "127.0.0.1")
        for headers in Self.oneAtATimeAndAll(claims) {
            try expectRefused(bound, evil + headers, not: ServedFiles.publicText, reason: "resource_mismatch")
        }
    }

    /// A one-time link to a directory serves its index once; a HEAD uses a use like a GET, unless
    /// the link allows only GET (then the HEAD is refused and uses nothing).
    func useLimitedLinks() throws {
        let directory = try issue(IssueLinkRequest(resource: "/files/dir/", ttl: 600, maxUses: 1))
        try expectServed(directory, [], ServedFiles.indexText)
        try expectRefused(directory, [], not: ServedFiles.indexText, reason: "uses_exhausted")
        let once = try issue(IssueLinkRequest(resource: "/files/public.txt", ttl: 600, maxUses: 1))
        let head = try curl(base + once, method: "HEAD")
        #expect(head.status == 200, "HEAD of a one-time link: \(head.status)")
        try expectRefused(once, [], not: ServedFiles.publicText, reason: "uses_exhausted")
        let getOnly = try issue(IssueLinkRequest(resource: "/files/public.txt", methods: ["GET"], ttl: 600, maxUses: 1))
        let refusedHead = try curl(base + getOnly, method: "HEAD")
        #expect(refusedHead.status == 403 && refusedHead.headers["x-authority-reason"] == "method_not_allowed")
        try expectServed(getOnly)
    }

    func all() throws {
        try secretStaysSecret()
        try addressesCannotBeForged()
        try hostBinding()
        try useLimitedLinks()
    }
}
