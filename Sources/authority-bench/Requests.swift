/// Pre-encoded HTTP/1.1 requests, so the load generator spends nothing on building them.
enum Requests {
    static func post(_ path: String, json: String) -> [UInt8] {
        let body = Array(json.utf8)
        return Array(
            "POST \(path) HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: \(body.count)\r\n\r\n"
                .utf8) + body
    }

    static func get(_ target: String, headers: [(String, String)] = []) -> [UInt8] {
        let lines = headers.map { "\($0.0): \($0.1)\r\n" }.joined()
        return Array("GET \(target) HTTP/1.1\r\nHost: localhost\r\n\(lines)\r\n".utf8)
    }

    static func issue(resource: String, maxUses: Int? = nil) -> [UInt8] {
        post("/v1/links", json: "{\"resource\":\"\(resource)\",\"ttl\":86400" + (maxUses.map { ",\"max_uses\":\($0)" } ?? "") + "}")
    }

    /// `url` as it appears in a JSON answer (no escapes in a link: it is ASCII without quotes or
    /// backslashes; the issue answer does not escape slashes).
    static func check(url: String) -> [UInt8] { post("/v1/links/check", json: "{\"url\":\"\(url)\"}") }

    /// What nginx `auth_request` sends (docs/examples/nginx.conf).
    static func forwardAuth(url: String) -> [UInt8] {
        get("/v1/auth/nginx", headers: [
            ("X-Original-URI", url), ("X-Original-Method", "GET"), ("X-Original-Host", "files.example"), ("X-Real-IP", "192.0.2.10"),
        ])
    }

    static func revoke(id: String) -> [UInt8] { post("/v1/revocations", json: "{\"id\":\"\(id)\",\"reason\":\"benchmark\"}") }
    static func revoke(prefix: String) -> [UInt8] {
        post("/v1/revocations", json: "{\"prefix\":\"\(prefix)\",\"reason\":\"benchmark\"}")
    }

    /// The string value of `"name":"…"` in a JSON answer, or nil.
    static func member(_ name: String, in text: String) -> String? {
        guard let start = text.range(of: "\"\(name)\":\"") else { return nil }
        let rest = text[start.upperBound...]
        guard let end = rest.firstIndex(of: "\"") else { return nil }
        let value = String(rest[..<end])
        return value.contains("\\") ? nil : value
    }
}
