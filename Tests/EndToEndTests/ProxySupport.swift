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
    let verb = method == "HEAD" ? ["-I"] : ["-X", method]
    let arguments = ["-s", "-g"] + verb + ["-m", "10", "-D", directory + "/h", "-o", directory + "/b"]
        + headers.flatMap { ["-H", "\($0.0): \($0.1)"] } + [url]
    let result = try ChildProcess.run(["/usr/bin/curl"] + arguments, timeout: 30)
    guard result.status == 0 else { throw HarnessError("curl exited with \(result.status)") }
    let head = (try? Data(contentsOf: URL(fileURLWithPath: directory + "/h"))).map { Array($0) } ?? []
    let parsed = try? HTTPResponseHead.parse(head)
    var fields: [String: String] = [:]
    for (name, value) in parsed?.headers ?? [] { fields[name.lowercased()] = value }
    let status = parsed?.status ?? 0
    return (status, fields, (try? String(contentsOfFile: directory + "/b", encoding: .utf8)) ?? "")
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

/// A Unix-socket HTTP server that answers every request 204 and keeps its request heads: put in
/// the daemon's place, it shows exactly which headers a real proxy sends to the auth endpoint.
final class HeaderRecorder: @unchecked Sendable {  // `heads` is behind `lock`; `fd` is set once
    let path: String
    private let fd: Int32
    private let lock = NSLock()
    private var heads: [String] = []

    init(path: String) throws {
        self.path = path
        fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        let bound = withUnixSocketAddress(path) { bind(fd, $0, $1) }
        guard bound == 0, listen(fd, 16) == 0 else { throw HarnessError("cannot listen on \(path)") }
        chmod(path, 0o666)
        Thread { [self] in serve() }.start()
    }

    private func serve() {
        while true {
            let connection = accept(fd, nil, nil)
            guard connection >= 0 else { return }  // closed by stop()
            var head = [UInt8]()
            var buffer = [UInt8](repeating: 0, count: 4_096)
            while !head.ends(with: Array("\r\n\r\n".utf8)) {
                let count = read(connection, &buffer, buffer.count)
                if count <= 0 { break }
                head += buffer[..<count]
            }
            lock.withLock { heads.append(String(decoding: head, as: UTF8.self)) }
            let answer = Array("HTTP/1.1 204 No Content\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".utf8)
            _ = answer.withUnsafeBytes { write(connection, $0.baseAddress, $0.count) }
            close(connection)
        }
    }

    /// The request line and header lines (name, value) of every request so far.
    var requests: [(line: String, headers: [(String, String)])] {
        lock.withLock { heads }.map { head in
            let lines = head.components(separatedBy: "\r\n").filter { !$0.isEmpty }
            let headers = lines.dropFirst().compactMap { line -> (String, String)? in
                guard let colon = line.firstIndex(of: ":") else { return nil }
                return (String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
            }
            return (lines.first ?? "", headers)
        }
    }

    func stop() {
        shutdown(fd, Int32(SHUT_RDWR))
        close(fd)
    }
}

extension Array where Element == UInt8 {
    func ends(with suffix: [UInt8]) -> Bool { count >= suffix.count && Array(self[(count - suffix.count)...]) == suffix }
}

/// The values of header `name` (any case) in a recorded request, one per line.
func values(_ name: String, in headers: [(String, String)]) -> [String] {
    headers.filter { $0.0.lowercased() == name.lowercased() }.map(\.1)
}

/// What a client forges to a proxy in the header dump tests: every header any dialect reads,
/// some on two lines.
let forgedToTheProxy: [(String, String)] = [
    ("X-Original-URI", "/forged"), ("X-Original-Method", "DELETE"), ("X-Original-Host", "evil.example"),
    ("X-Real-IP", "192.0.2.7"), ("X-Forwarded-For", "192.0.2.7"), ("X-Forwarded-For", "192.0.2.8"),
    ("X-Forwarded-Uri", "/forged"), ("X-Forwarded-Uri", "/forged2"), ("X-Forwarded-Method", "DELETE"),
    ("X-Forwarded-Host", "evil.example"), ("Forwarded", "for=192.0.2.7;host=evil.example"),
]

/// Requests /files/public.txt through the proxy at `base` forging every header, and checks the
/// auth request the proxy sent to `recorder`: to `endpoint`, each header of `expected(host:port)`
/// on exactly one line with that value, and the client's `passedThrough` headers untouched.
func expectAuthRequest(
    through base: String, to recorder: HeaderRecorder, endpoint: String, passedThrough: [String: [String]],
    sourceLocation: SourceLocation = #_sourceLocation, expected: (String) -> [String: String]
) throws {
    let served = try curl(base + "/files/public.txt?a=1,2", headers: forgedToTheProxy)
    #expect(served.status == 200, sourceLocation: sourceLocation)
    let request = try #require(recorder.requests.last, sourceLocation: sourceLocation)
    #expect(request.line.hasPrefix("GET " + endpoint), "\(request.line)", sourceLocation: sourceLocation)
    for (name, value) in expected(String(base.dropFirst("http://".count))) {
        #expect(values(name, in: request.headers) == [value], "\(name): \(request.headers)", sourceLocation: sourceLocation)
    }
    for (name, sent) in passedThrough {
        #expect(values(name, in: request.headers) == sent, "\(name), the client's", sourceLocation: sourceLocation)
    }
}
