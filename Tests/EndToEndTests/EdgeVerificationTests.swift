import AuthorityAPI
import AuthorityCore
import AuthorityEdge
import AuthorityTesting
import Foundation
import Testing

extension EndToEnd {
    /// Issue #15's "done when": the real daemon issues 10^4 links and revokes a mix (ids,
    /// prefixes, an issued-before rule, a forced retirement); the Swift, JavaScript and Python
    /// verifiers, fed the daemon's JWK set and bundle, reach the daemon's verdict for every link;
    /// a stale, tampered, truncated or rolled-back bundle is refused by each.
    @Suite(.serialized) struct EdgeVerification {
        /// One link and how it is requested.
        struct Probe {
            var url: String
            var method = "GET"
            var host: String?
            var flagged = false
        }

        static let linkCount = 10_000

        @Test func everyVerifierReachesTheDaemonsVerdictForTenThousandLinks() async throws {
            try await DaemonProcess.with { daemon in
                let client = daemon.client(timeout: 120)
                let (probes, before) = try Self.issueAndRevoke(client)
                let jwks = try client.get("/v1/keys").body
                let bundle = try Self.get(client, "/v1/revocations/bundle")
                let json = try Self.get(client, "/v1/revocations/bundle?format=json")
                // The daemon's own verdict, without consuming any use (explain).
                var daemonReasons: [String] = []
                var nows: [Int64] = []
                for probe in probes {
                    let response = try client.post(
                        "/v1/links/explain", json: ExplainLinkRequest(url: probe.url, method: probe.method, host: probe.host))
                    guard response.status == 200 else { throw UnexpectedResponse(request: "explain", response: response) }
                    let explained = try response.decode(ExplainLinkResponse.self)
                    daemonReasons.append(explained.reason)
                    nows.append(explained.now)
                }
                let expected = zip(probes, daemonReasons).map { probe, reason in
                    probe.flagged && ["ok", "uses_exhausted", "password_required", "password_incorrect", "locked"].contains(reason)
                        ? "needs_daemon" : reason
                }
                let spread = Dictionary(grouping: expected, by: { $0 }).mapValues(\.count)
                print("EdgeVerification: daemon verdicts of \(probes.count) links: \(spread.sorted { $0.key < $1.key })")
                for reason in ["ok", "revoked", "retired_key", "needs_daemon", "resource_mismatch", "not_yet_valid", "method_not_allowed"] {
                    #expect((spread[reason] ?? 0) > 0, "no link ends \(reason): \(spread)")
                }
                let batch = EdgeBatch(
                    jwks: jwks, objects: [(nows[0], Array(bundle))],
                    checks: zip(probes, nows).map { EdgeBatch.Check(now: $1, url: $0.url, method: $0.method, host: $0.host) })
                let jsonBatch = EdgeBatch(jwks: jwks, objects: [(nows[0], Array(json))], checks: batch.checks)
                for verifier in EdgeBatch.Verifier.allCases {
                    for (form, run) in [("binary", batch), ("json", jsonBatch)] {
                        let output = try run.run(verifier)
                        #expect(output.accepted == ["ok"], "\(verifier) \(form): \(output.accepted)")
                        let wrong = zip(expected, output.reasons).enumerated().filter { $0.element.0 != $0.element.1 }
                        #expect(output.reasons.count == probes.count && wrong.isEmpty,
                                "\(verifier) \(form): \(wrong.count) of \(probes.count) differ, first: \(wrong.prefix(3).map { "\(probes[$0.offset].url) daemon \($0.element.0) edge \($0.element.1)" })")
                    }
                }
                try Self.refusals(jwks: jwks, current: Array(bundle), older: before, now: nows[0])
            }
        }

        /// Bad bundles, for every verifier: each answer is the one docs/revocation-bundle.md §6 gives.
        static func refusals(jwks: Data, current: [UInt8], older: [UInt8], now: Int64) throws {
            var flipped = current
            flipped[flipped.count - 3] ^= 0x10  // inside the last id: the digest no longer matches
            var badSignature = current
            badSignature[80] ^= 0x01
            let notAfter = try BundleObject(binary: current).statement.notAfter
            let cases: [(String, [(Int64, [UInt8])], [String])] = [
                ("tampered id", [(now, flipped)], ["digest_mismatch"]),
                ("tampered signature", [(now, badSignature)], ["bad_signature"]),
                ("truncated", [(now, Array(current.dropLast(7)))], ["bad_format"]),
                ("stale", [(notAfter, current)], ["stale"]),
                ("rolled back", [(now, current), (now, older)], ["ok", "rolled_back"]),
                ("older first, then the current", [(now, older), (now, current)], ["ok", "ok"]),
            ]
            for verifier in EdgeBatch.Verifier.allCases {
                for (name, objects, answers) in cases {
                    let output = try EdgeBatch(jwks: jwks, objects: objects, checks: []).run(verifier)
                    #expect(output.accepted == answers, "\(verifier), \(name): \(output.accepted)")
                }
            }
        }

        static func get(_ client: UnixHTTPClient, _ target: String) throws -> Data {
            let response = try client.get(target)
            guard response.status == 200 else { throw UnexpectedResponse(request: target, response: response) }
            return response.body
        }

        /// 10^4 links under three epochs, then revocations of every kind; returns the probes and
        /// the bundle from before the revocations (for the rollback case).
        static func issueAndRevoke(_ client: UnixHTTPClient) throws -> ([Probe], [UInt8]) {
            var probes: [Probe] = []
            var ids: [String] = []
            var issuedAt: [Int64] = []
            for index in 0..<linkCount {
                if index == 4_000 || index == 7_000 {
                    guard try client.post("/v1/keys/rotate").status == 201 else { throw EdgeBatch.Failure("rotate") }
                }
                let group = index % 10
                var request = IssueLinkRequest(resource: "https://cdn.example.com/e/\(group)/f\(index).txt", ttl: 3_600)
                var probe = Probe(url: "")
                switch index % 23 {
                case 0: request.maxUses = 3; probe.flagged = true
                case 1: request.resource = "https://cdn.example.com/e/\(group)/"; request.prefix = true
                case 2: request.bindHost = true; probe.host = "other.example.com"
                case 3: request.notBefore = unixNow() + 7_200; request.ttl = 9_000
                case 4: probe.method = "PUT"
                default: break
                }
                let issued = try client.issue(request)
                probe.url = index % 23 == 1 ? issued.url.replacingOccurrences(of: "/e/\(group)/?", with: "/e/\(group)/deep/x.txt?") : issued.url
                if index % 23 == 2 { probe.url = originForm(issued.url) }
                probes.append(probe)
                ids.append(issued.id)
                issuedAt.append(Int64(queryValue(issued.url, "au_iat")!)!)
            }
            let before = Array(try get(client, "/v1/revocations/bundle"))
            for index in stride(from: 5, to: linkCount, by: 31) { _ = try client.revoke(RevokeRequest(id: ids[index])) }
            _ = try client.revoke(RevokeRequest(prefix: "/e/3/"))
            _ = try client.revoke(RevokeRequest(prefix: "/e/4"))
            // Links issued before the middle one, under /e/5.
            _ = try client.revoke(RevokeRequest(prefix: "/e/5", issuedBefore: issuedAt[linkCount / 2]))
            // Epoch 1 retired before its links expire: they answer retired_key.
            let retire = try client.post("/v1/keys/1/retire", json: RetireRequest(force: true))
            guard retire.status == 200 else { throw UnexpectedResponse(request: "retire", response: retire) }
            return (probes, before)
        }
    }
}

/// One run of an edge verifier over a JWK set, a sequence of bundle objects (each accepted at its
/// time) and link checks: the shape `clients/js/verify-batch.mjs` and `python3 -m authority_edge
/// batch` read, and `EdgeVerifier` in process.
struct EdgeBatch {
    struct Check {
        var now: Int64
        var url: String
        var method: String
        var host: String?
    }

    struct Output: Decodable {
        var accepted: [String]
        var reasons: [String]
    }

    struct Failure: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }

    enum Verifier: String, CaseIterable {
        case swift, javascript, python
    }

    var jwks: Data
    var objects: [(Int64, [UInt8])]
    var checks: [Check]

    func run(_ verifier: Verifier) throws -> Output {
        switch verifier {
        case .swift: return try inProcess()
        case .javascript: return try external(["/usr/bin/env", "node", SystemdTestEnvironment.packageRoot + "/clients/js/verify-batch.mjs"])
        case .python:
            var environment = ProcessInfo.processInfo.environment
            environment["PYTHONPATH"] = SystemdTestEnvironment.packageRoot + "/clients/python"
            return try external(["/usr/bin/env", "python3", "-m", "authority_edge", "batch"], environment: environment)
        }
    }

    private func inProcess() throws -> Output {
        var edge = EdgeVerifier(keys: try JSONWebKeys(json: jwks))
        var accepted: [String] = []
        for (now, bytes) in objects {
            do { accepted.append(try edge.accept(bytes, now: now).rawValue) } catch { accepted.append(error.code) }
        }
        let reasons = checks.map { edge.check(LinkRequest(target: $0.url, host: $0.host, method: $0.method), now: $0.now).reason.code }
        return Output(accepted: accepted, reasons: reasons)
    }

    private func external(_ command: [String], environment: [String: String] = ProcessInfo.processInfo.environment) throws -> Output {
        let directory = try TemporaryDirectory("au-edge")
        defer { directory.remove() }
        let input: [String: Any] = [
            "jwks": try JSONSerialization.jsonObject(with: jwks),
            "objects": objects.map { ["now": $0.0, "bytes": Base64URL.encode($0.1)] },
            "checks": checks.map { ["now": $0.now, "url": $0.url, "method": $0.method, "host": $0.host as Any? ?? NSNull(), "client_ip": NSNull()] },
        ]
        let path = directory.path + "/batch.json"
        try JSONSerialization.data(withJSONObject: input).write(to: URL(fileURLWithPath: path))
        let result = try ChildProcess.run(command + [path], environment: environment, timeout: 300)
        guard result.exit == .exited(0) else { throw Failure("\(command.joined(separator: " ")): \(result)") }
        return try JSONDecoder().decode(Output.self, from: Data(result.stdout.utf8))
    }
}
