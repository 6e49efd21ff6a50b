import AuthorityAPI
import AuthorityTesting
import Foundation
import Testing

/// The forward-auth dialects over the real socket, with the exact headers each proxy's source or
/// documentation says it sends, plus the client's own headers it passes through.
@Suite(.serialized)
struct ForwardAuthDialectTests {
    /// Headers a client sends that a proxy copies into the auth request: every other dialect's.
    static func clientForgeries(_ link: String) -> [(String, String)] {
        [("User-Agent", "curl/7.88.1"), ("Accept", "*/*"), ("X-Original-URI", link), ("X-Original-Method", "GET"),
         ("X-Original-Host", "files.example"), ("X-Real-Ip", "192.0.2.7"), ("Forwarded", "for=192.0.2.7;host=files.example")]
    }

    /// Traefik ForwardAuth, `trustForwardHeader: false` (pkg/middlewares/auth/forward.go
    /// `writeHeader`): the client's headers, then X-Forwarded-For set to the connecting address,
    /// X-Forwarded-Method, -Proto, -Host and -Uri set from the request; sent as GET.
    static func traefik(uri: String, client: String = "127.0.0.1", forging link: String) -> [(String, String)] {
        clientForgeries(link) + [("X-Forwarded-For", client), ("X-Forwarded-Method", "GET"), ("X-Forwarded-Proto", "http"),
                                 ("X-Forwarded-Host", "files.example"), ("X-Forwarded-Uri", uri)]
    }

    @Test func traefikReadsOnlyWhatTraefikOverwrites() async throws {
        try await DaemonProcess.with { daemon in
            let client = daemon.client()
            let valid = originForm(try client.issue("/files/public.txt", ttl: 600).url)
            let secret = try client.request("GET", "/v1/auth/traefik", headers: Self.traefik(uri: "/files/secret/s.txt", forging: valid))
            #expect(secret.status == 401 && secret.header("X-Authority-Reason") == "malformed" && secret.body.isEmpty)
            let ok = try client.request("GET", "/v1/auth/traefik", headers: Self.traefik(uri: valid, forging: valid))
            #expect(ok.status == 204 && ok.header("X-Authority-Reason") == "ok")
            let bound = originForm(try client.issue("/files/public.txt", ttl: 600, ip: "192.0.2.0/24").url)
            let forgedAddress = try client.request("GET", "/v1/auth/traefik", headers: Self.traefik(uri: bound, forging: bound))
            #expect(forgedAddress.status == 403 && forgedAddress.header("X-Authority-Reason") == "ip_mismatch")
            let fromThere = try client.request("GET", "/v1/auth/traefik", headers: Self.traefik(uri: bound, client: "192.0.2.7", forging: bound))
            #expect(fromThere.status == 204)
        }
    }

    /// Envoy `ext_authz` HTTP service with `path_prefix: /v1/auth/envoy`: the original method, path
    /// and `:authority` (as Host), Content-Length, and of the client's headers only
    /// `allowed_headers` (here `x-forwarded-for`, to which `use_remote_address: true` appends the
    /// connecting address).
    @Test func envoyReadsThePathTheMethodHostAndTheLastForwardedFor() async throws {
        try await DaemonProcess.with { daemon in
            let client = daemon.client()
            let valid = originForm(try client.issue(IssueLinkRequest(resource: "/files/up.bin", methods: ["PUT"], ttl: 600, ip: "10.0.0.0/8")).url)
            func envoy(_ method: String, _ original: String, forwardedFor: String = "192.0.2.7,10.1.2.3",
                       extra: [(String, String)] = []) throws -> HTTPResponse {
                try client.request(method, "/v1/auth/envoy" + original, headers: [
                    ("Host", "files.example"), ("x-forwarded-for", forwardedFor), ("x-envoy-expected-rq-timeout-ms", "250"),
                ] + extra)
            }
            #expect(try envoy("PUT", valid).status == 204)
            #expect(try envoy("GET", valid).header("X-Authority-Reason") == "method_not_allowed")
            #expect(try envoy("PUT", valid, forwardedFor: "10.1.2.3,192.0.2.7").header("X-Authority-Reason") == "ip_mismatch")
            let forged = try envoy("PUT", "/files/secret/s.txt", extra: Self.clientForgeries(valid) + [("X-Forwarded-Uri", valid)])
            #expect(forged.status == 401 && forged.header("X-Authority-Reason") == "malformed")
            let twice = try envoy("PUT", valid, extra: [("X-Forwarded-For", "10.1.2.3")])
            #expect(twice.status == 401 && twice.header("X-Authority-Reason") == "malformed", "X-Forwarded-For on two lines")
            let twoHosts = try envoy("PUT", valid, extra: [("Host", "files.example")])
            #expect(twoHosts.status == 401 || twoHosts.status == 400, "two Host lines: \(twoHosts.status)")
            // An original path that looks like another endpoint is still Envoy's.
            #expect(try envoy("PUT", "/nginx").header("X-Authority-Reason") == "malformed")
        }
    }

    @Test func repeatedOrMissingHeadersAreMalformed() async throws {
        try await DaemonProcess.with { daemon in
            let client = daemon.client()
            let valid = originForm(try client.issue("/files/public.txt", ttl: 600).url)
            let nginx = [("X-Original-URI", valid), ("X-Original-Method", "GET"), ("X-Original-Host", "h"), ("X-Real-IP", "127.0.0.1")]
            #expect(try client.request("GET", "/v1/auth/nginx", headers: nginx).status == 204)
            let caddy = Self.traefik(uri: valid, forging: valid).filter { $0.0.hasPrefix("X-Forwarded") }
            #expect(try client.request("GET", "/v1/auth/caddy", headers: caddy).status == 204)
            for (path, headers) in [("/v1/auth/nginx", nginx), ("/v1/auth/caddy", caddy)] {
                for (index, header) in headers.enumerated() where header.0 != "X-Forwarded-Proto" {
                    var without = headers
                    without.remove(at: index)
                    for (what, sent) in [("missing", without), ("twice", headers + [header])] {
                        let answer = try client.request("GET", path, headers: sent)
                        #expect(answer.status == 401 && answer.header("X-Authority-Reason") == "malformed", "\(path) \(header.0) \(what)")
                    }
                }
            }
            let listed = nginx.map { $0.0 == "X-Real-IP" ? ($0.0, "192.0.2.7, 127.0.0.1") : $0 }
            #expect(try client.request("GET", "/v1/auth/nginx", headers: listed).status == 401)
        }
    }

    @Test func bareAuthWithoutADialectIsRefused() async throws {
        try await DaemonProcess.with { daemon in
            let client = daemon.client()
            let valid = originForm(try client.issue("/files/public.txt", ttl: 600).url)
            for path in ["/v1/auth", "/v1/auth/", "/v1/auth" + valid] {
                let answer = try client.request("GET", path, headers: Self.traefik(uri: valid, forging: valid))
                #expect(answer.status == 403 && answer.header("X-Authority-Reason") == "dialect_required", "\(path)")
                #expect(answer.body.isEmpty)
            }
        }
    }

    @Test func bareAuthSpeaksTheConfiguredDialect() async throws {
        try await DaemonProcess.with(arguments: ["--forward-auth-dialect", "traefik"]) { daemon in
            let client = daemon.client()
            let valid = originForm(try client.issue("/files/public.txt", ttl: 600).url)
            #expect(try client.request("GET", "/v1/auth", headers: Self.traefik(uri: valid, forging: valid)).status == 204)
            let secret = try client.request("GET", "/v1/auth", headers: Self.traefik(uri: "/files/secret/s.txt", forging: valid))
            #expect(secret.status == 401)
        }
        let directory = try TemporaryDirectory("au-dialect")
        defer { directory.remove() }
        try Data(#"{"forward_auth_dialect": "envoy"}"#.utf8).write(to: URL(fileURLWithPath: directory.path + "/c.json"))
        try await DaemonProcess.with(arguments: ["--config", directory.path + "/c.json"]) { daemon in
            let client = daemon.client()
            let valid = originForm(try client.issue("/files/public.txt", ttl: 600).url)
            #expect(try client.request("GET", "/v1/auth" + valid, headers: [("Host", "files.example")]).status == 204)
            #expect(try client.request("GET", "/v1/auth/envoy" + valid, headers: [("Host", "files.example")]).status == 204)
        }
    }

    /// The removed settings stop the daemon with one line that names what replaces them.
    @Test(arguments: [
        (["--forward-auth-headers", "auto"], "--forward-auth-dialect"),
        (["--forward-auth-client-ip", "x-real-ip"], "--forward-auth-dialect"),
        (["--config", "FILE", #"{"forward_auth_headers": "auto"}"#], "forward_auth_dialect"),
        (["--config", "FILE", #"{"forward_auth_client_ip": "auto"}"#], "forward_auth_dialect"),
    ])
    func removedSettingsNameTheirReplacement(_ arguments: [String], _ replacement: String) async throws {
        let directory = try TemporaryDirectory("au-removed")
        defer { directory.remove() }
        var options = arguments
        if options.first == "--config" {
            try Data(options.removeLast().utf8).write(to: URL(fileURLWithPath: directory.path + "/c.json"))
            options[1] = directory.path + "/c.json"
        }
        try await DaemonProcess.with(arguments: options, start: false) { daemon in
            try daemon.launch()
            let status = daemon.waitForExit(timeout: 20)
            #expect(status != nil && status != .exited(0), "\(options): \(String(describing: status))")
            let lines = daemon.log.split(separator: "\n").filter { !$0.hasPrefix("=== test harness") && !$0.isEmpty }
            #expect(lines.count == 1 && lines.first?.contains(replacement) == true, "\(options): \(lines)")
        }
    }
}
