import AuthorityAPI
import AuthorityTesting
import Foundation
import Testing

extension EndToEnd {
    /// Bad requests get the documented error, in the documented shape, and never stop the daemon.
    @Suite(.serialized) struct MalformedRequests {
        static let json = [("Content-Type", "application/json")]

        static func body(_ text: String) -> Data { Data(text.utf8) }

        /// The daemon still answers `GET /v1/health` on a new connection.
        static func expectStillServing(_ daemon: DaemonProcess, sourceLocation: SourceLocation = #_sourceLocation) throws {
            let health = try daemon.client().get("/v1/health")
            #expect(health.status == 200, "\(health.text)", sourceLocation: sourceLocation)
        }

        @Test func badBodiesAreRefusedWithTheirCodes() async throws {
            try await DaemonProcess.with { daemon in
                let client = daemon.client()
                let cases: [(String, String, Int, String)] = [
                    ("truncated JSON", #"{"resource": "/a", "ttl": "#, 400, "body.invalid_json"),
                    ("not JSON", "resource=/a&ttl=60", 400, "body.invalid_json"),
                    ("an array", #"[{"resource": "/a", "ttl": 60}]"#, 400, "body.invalid_json"),
                    ("resource a number", #"{"resource": 5, "ttl": 60}"#, 400, "body.invalid_json"),
                    ("ttl a string", #"{"resource": "/a", "ttl": "60"}"#, 400, "body.invalid_json"),
                    ("methods a string", #"{"resource": "/a", "ttl": 60, "methods": "GET"}"#, 400, "body.invalid_json"),
                    ("misspelt max_uses", #"{"resource": "/a", "ttl": 60, "max_use": 3}"#, 422, "request.unknown_field"),
                    ("unknown field", #"{"resource": "/a", "ttl": 60, "colour": "blue"}"#, 422, "request.unknown_field"),
                ]
                for (what, text, status, code) in cases {
                    let response = try client.request("POST", "/v1/links", body: Self.body(text), headers: Self.json)
                    expectError(response, status, code, what)
                }
                // A missing required member: the table does not say whether it is 400 or 422.
                let missing = try client.request("POST", "/v1/links", body: Self.body(#"{"ttl": 60}"#), headers: Self.json)
                #expect([400, 422].contains(missing.status), "resource missing: \(missing.text)")
                expectErrorShape(missing, "resource missing")
                let check = try client.request("POST", "/v1/links/check", body: Self.body(#"{"url": 1}"#), headers: Self.json)
                expectError(check, 400, "body.invalid_json", "check url a number")
                let unknownCheck = try client.request("POST", "/v1/links/check", body: Self.body(#"{"url": "/a", "ip": "1.2.3.4"}"#), headers: Self.json)
                expectError(unknownCheck, 422, "request.unknown_field", "check with ip")
                let retire = try client.request("POST", "/v1/keys/1/retire", body: Self.body(#"{"force": "yes"}"#), headers: Self.json)
                expectError(retire, 400, "body.invalid_json", "force a string")
                #expect(try client.health().status == "ok", "the same connection keeps serving")
                try Self.expectStillServing(daemon)
            }
        }

        @Test func mediaTypes() async throws {
            try await DaemonProcess.with { daemon in
                let client = daemon.client()
                let valid = Self.body(#"{"resource": "/m/a", "ttl": 60}"#)
                let text = try client.request("POST", "/v1/links", body: valid, headers: [("Content-Type", "text/plain")])
                expectError(text, 415, "body.unsupported_media_type", "text/plain")
                let form = try client.request(
                    "POST", "/v1/links", body: valid, headers: [("Content-Type", "application/x-www-form-urlencoded")])
                expectError(form, 415, "body.unsupported_media_type", "form")
                let missing = try client.request("POST", "/v1/links", body: valid)
                #expect(missing.status == 201, "a missing Content-Type is accepted as JSON: \(missing.text)")
                let charset = try client.request("POST", "/v1/links", body: valid, headers: [("Content-Type", "application/json; charset=utf-8")])
                #expect(charset.status == 201, "application/json with a charset: \(charset.text)")
                try Self.expectStillServing(daemon)
            }
        }

        @Test func oversizedBodyIs413AndClosesTheConnection() async throws {
            try await DaemonProcess.with { daemon in
                let client = daemon.client()
                let padding = String(repeating: "x", count: 70_000 - #"{"resource":"/a","ttl":60,"pad":""}"#.utf8.count)
                let body = Self.body(#"{"resource":"/a","ttl":60,"pad":"\#(padding)"}"#)
                #expect(body.count == 70_000)
                // The daemon may answer before it read the whole body: a failed send is fine.
                try? client.sendRaw(UnixHTTPClient.serialize("POST", "/v1/links", body: body, headers: Self.json))
                let response = try client.readResponse()
                expectError(response, 413, "body.too_large", "70,000 bytes")
                #expect(client.waitForClose(seconds: 5), "the connection stays open after 413")
                #expect(try daemon.client().health().status == "ok")

                let justUnder = body.prefix(65_536)
                let limit = try daemon.client().request("POST", "/v1/links", body: justUnder, headers: Self.json)
                #expect(limit.status == 400, "a 65,536-byte body is read (and is not JSON): \(limit.text)")
                try Self.expectStillServing(daemon)
            }
        }

        @Test func routesAndMethods() async throws {
            try await DaemonProcess.with { daemon in
                let client = daemon.client()
                expectError(try client.get("/v1/nope"), 404, "route.not_found", "GET /v1/nope")
                expectError(try client.get("/"), 404, "route.not_found", "GET /")
                expectError(try client.post("/v1/keys/rotate/now"), 404, "route.not_found", "rotate/now")
                let allowed: [(String, String, String)] = [
                    ("DELETE", "/v1/links", "POST"), ("GET", "/v1/links/check", "POST"), ("PUT", "/v1/revocations", "GET"),
                    ("GET", "/v1/keys/rotate", "POST"), ("POST", "/v1/health", "GET"), ("POST", "/v1/keys", "GET"),
                    ("GET", "/v1/keys/1/retire", "POST"), ("DELETE", "/v1/audit", "GET"),
                ]
                for (method, path, mustAllow) in allowed {
                    let response = try client.request(method, path)
                    expectError(response, 405, "route.method_not_allowed", "\(method) \(path)")
                    let allow = response.header("Allow")?.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
                    #expect(allow?.contains(mustAllow) == true, "\(method) \(path): Allow \(response.header("Allow") ?? "missing")")
                }
                #expect(try client.health().status == "ok")
                try Self.expectStillServing(daemon)
            }
        }

        @Test func garbageOnTheWireThenTheDaemonStillServes() async throws {
            try await DaemonProcess.with { daemon in
                let garbage = [
                    "THIS IS NOT HTTP\r\n\r\n",
                    "\u{1}\u{2}\u{3}\r\n\r\n",
                    "POST /v1/links HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n{}",
                ]
                for bytes in garbage {
                    let client = daemon.client(timeout: 10)
                    try client.sendRaw(bytes)
                    let response = try client.readResponse()
                    #expect((400..<500).contains(response.status), "\(bytes.debugDescription): \(response.status) \(response.text)")
                    if let code = response.errorCode {
                        #expect(code == "http.malformed", "\(bytes.debugDescription)")
                    }
                    #expect(client.waitForClose(seconds: 5), "\(bytes.debugDescription): the connection stays open")
                }
                // Silence then close: no answer is owed, the daemon must not mind.
                let quiet = daemon.client()
                try quiet.sendRaw("GET /v1/hea")
                quiet.close()
                try Self.expectStillServing(daemon)
            }
        }

        @Test func pipelinedRequestsAnswerInOrder() async throws {
            try await DaemonProcess.with { daemon in
                let client = daemon.client()
                var bytes: [UInt8] = []
                for n in 0..<20 {
                    let body = try JSONEncoder().encode(IssueLinkRequest(resource: "/pipe/\(n)", ttl: 60))
                    bytes += UnixHTTPClient.serialize("POST", "/v1/links", body: body, headers: Self.json)
                    bytes += UnixHTTPClient.serialize("GET", n % 2 == 0 ? "/v1/health" : "/v1/nope", body: nil, headers: [])
                }
                try client.sendRaw(bytes)
                for n in 0..<20 {
                    let issued = try client.readResponse()
                    #expect(issued.status == 201)
                    #expect(try issued.decode(IssueLinkResponse.self).url.hasPrefix("/pipe/\(n)?"))
                    #expect(try client.readResponse().status == (n % 2 == 0 ? 200 : 404))
                }
            }
        }
    }
}
