import AuthorityAPI
import AuthorityTesting
import Foundation
import Testing

extension EndToEnd {
    /// Another uid, identified with `SO_PEERCRED`, gets only what the policy file grants.
    @Suite(.serialized) struct PeerPolicy {
        static let nobody = "65534"

        /// An answer as seen by curl running as uid/gid 65534.
        struct CurlAnswer {
            var status: Int
            var body: String
            var errorCode: String? {
                ((try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [String: Any])
                    .flatMap { $0["error"] as? [String: Any] }?["code"] as? String
            }
        }

        /// `curl` as uid 65534 through `setpriv`. The body goes to stdout followed by the status on
        /// its own line (a pipe created by root cannot be reopened as `/dev/stderr` by another uid).
        static func curlAsNobody(_ socket: String, _ method: String, _ path: String, body: String? = nil) throws -> CurlAnswer {
            var arguments = [
                "--reuid", nobody, "--regid", nobody, "--clear-groups", "/usr/bin/curl", "-s", "--max-time", "10",
                "-w", "\n%{http_code}", "--unix-socket", socket, "-X", method,
            ]
            if let body { arguments += ["-H", "Content-Type: application/json", "-d", body] }
            arguments.append("http://localhost" + path)
            let (status, output, errors) = try run("/usr/bin/setpriv", arguments)
            #expect(status == 0, "setpriv curl exited \(status): \(errors)")
            let lines = output.split(separator: "\n", omittingEmptySubsequences: false)
            return CurlAnswer(status: Int(lines.last ?? "") ?? -1, body: lines.dropLast().joined(separator: "\n"))
        }

        static func writePolicy(in directory: String) throws -> String {
            let path = directory + "/policy.json"
            let policy = """
                {"default_rights": ["check"],
                 "rules": [{"uid": 65534, "rights": ["check", "issue"], "issue_prefixes": ["/public/"]}]}
                """
            try policy.write(toFile: path, atomically: true, encoding: .utf8)
            return path
        }

        @Test func anotherUIDGetsOnlyItsRights() async throws {
            try await DaemonProcess.with(start: false) { daemon in
                daemon.arguments = ["--socket-mode", "0666", "--policy", try Self.writePolicy(in: daemon.directory)]
                try daemon.start()
                #expect(Fixtures.mode(of: daemon.socketPath) == 0o666)
                let socket = daemon.socketPath

                let health = try Self.curlAsNobody(socket, "GET", "/v1/health")
                #expect(health.status == 200, "\(health.body)")

                let rotate = try Self.curlAsNobody(socket, "POST", "/v1/keys/rotate")
                #expect(rotate.status == 403, "\(rotate.body)")
                #expect(rotate.errorCode == "forbidden", "\(rotate.body)")

                let privateIssue = try Self.curlAsNobody(socket, "POST", "/v1/links", body: #"{"resource":"/private/x","ttl":60}"#)
                #expect(privateIssue.status == 403, "\(privateIssue.body)")
                #expect(privateIssue.errorCode == "forbidden", "\(privateIssue.body)")

                let publicIssue = try Self.curlAsNobody(socket, "POST", "/v1/links", body: #"{"resource":"/public/x","ttl":60}"#)
                #expect(publicIssue.status == 201, "\(publicIssue.body)")
                let link = try JSONDecoder().decode(IssueLinkResponse.self, from: Data(publicIssue.body.utf8))
                #expect(link.url.hasPrefix("/public/x?au_v=1"))

                let check = try Self.curlAsNobody(socket, "POST", "/v1/links/check", body: #"{"url":"\#(link.url)"}"#)
                #expect(check.status == 200, "\(check.body)")
                #expect(check.body.contains(#""reason":"ok""#), "\(check.body)")

                for (method, path) in [("GET", "/v1/audit"), ("GET", "/v1/revocations")] {
                    let refused = try Self.curlAsNobody(socket, method, path)
                    #expect(refused.status == 403 && refused.errorCode == "forbidden", "\(method) \(path): \(refused.status) \(refused.body)")
                }
                let revoke = try Self.curlAsNobody(socket, "POST", "/v1/revocations", body: #"{"id":"\#(link.id)"}"#)
                #expect(revoke.status == 403 && revoke.errorCode == "forbidden", "\(revoke.body)")

                // Root is always admin.
                let client = daemon.client()
                let rotated = try client.post("/v1/keys/rotate")
                #expect(rotated.status == 201, "\(rotated.text)")
                let audit = try client.audit()
                let issue = try #require(audit.first { $0.action == "link.issue" })
                #expect(issue.actorUID == 65_534)
                #expect(issue.linkID == link.id)
            }
        }

        @Test func defaultSocketModeIs0660() async throws {
            try await DaemonProcess.with { daemon in
                #expect(Fixtures.mode(of: daemon.socketPath) == 0o660)
                // uid 65534 is neither the owner nor in the group: connecting is refused.
                let (_, output, _) = try run(
                    "/usr/bin/setpriv",
                    ["--reuid", Self.nobody, "--regid", Self.nobody, "--clear-groups", "/usr/bin/curl", "-s", "--max-time", "10",
                     "-w", "%{http_code}", "--unix-socket", daemon.socketPath, "http://localhost/v1/health"])
                #expect(output == "000", "curl as 65534 got \(output)")
            }
        }
    }
}
