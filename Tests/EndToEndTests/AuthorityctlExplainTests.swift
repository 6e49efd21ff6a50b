import AuthorityAPI
import AuthorityTesting
import Foundation
import Testing

extension EndToEnd {
    /// `authorityctl explain`: the grant, the signed message and every check, the first failure marked.
    @Suite(.serialized) struct AuthorityctlExplainTests {
        /// The `✗` line of the decisive check, and that it is the only one marked.
        static func firstFailure(_ result: CtlResult, sourceLocation: SourceLocation = #_sourceLocation) -> [String]? {
            let marked = result.lines.filter { $0.hasSuffix("← first failure") }
            #expect(marked.count == 1, "\(result)", sourceLocation: sourceLocation)
            return marked.first.map(columns)
        }

        /// Nothing secret: never the signature.
        static func expectNoSignature(
            _ result: CtlResult, _ link: String, sourceLocation: SourceLocation = #_sourceLocation
        ) {
            let signature = queryValue(link, "au_sig") ?? "?"
            #expect(
                !result.stdout.contains(signature) && !result.stdout.contains("au_sig"), "\(result)",
                sourceLocation: sourceLocation)
        }

        @Test func validLinkShowsGrantMessageAndChecks() async throws {
            try await DaemonProcess.with { daemon in
                let link = try daemon.ctlIssue("/files/a.pdf?download=1", "--ttl", "15m")
                let result = Ctl.expect(try daemon.ctl("explain", link), 0)
                let id = try #require(queryValue(link, "au_id"))
                let iat = try #require(queryValue(link, "au_iat").flatMap { Int64($0) })
                let lines = result.lines
                #expect(lines.first == "verdict     valid", "\(result)")
                #expect(lines.contains("resource    /files/a.pdf?download=1"), "\(result)")
                #expect(lines.contains("methods     GET, HEAD"), "\(result)")
                #expect(lines.contains("epoch       1"), "\(result)")
                #expect(lines.contains("link id     \(id)"), "\(result)")
                #expect(lines.contains { $0.hasPrefix("issued      \(ctlTime(iat)) (") }, "\(result)")
                #expect(lines.contains { $0.hasPrefix("expires     \(ctlTime(iat + 900)) (in 1") }, "\(result)")
                #expect(lines.contains("not before  -") && lines.contains("host        any"), "\(result)")
                #expect(lines.contains("client ip   any") && lines.contains("flags       none"), "\(result)")
                // The signed message, indented, line by line (13 lines).
                let start = try #require(lines.firstIndex(of: "signed message:"), "\(result)")
                #expect(lines[start + 1] == "    authority-link-v1")
                #expect(lines[start + 3] == "    id=\(id)")
                #expect(lines[start + 12] == "    path=/files/a.pdf")
                #expect(lines[start + 13] == "    query=download=1")
                // Every check, in the order of docs/link-format.md §6, none failed.
                let checks = try #require(lines.firstIndex(of: "checks:"), "\(result)")
                let names = lines[(checks + 1)...].map { columns($0)[1] }
                #expect(
                    names == [
                        "format", "key", "signature", "expiry", "not_before", "method", "resource", "ip",
                        "revocation", "uses", "password",
                    ], "\(result)")
                #expect(!result.stdout.contains("✗") && !result.stdout.contains("first failure"), "\(result)")
                #expect(lines.contains("  ✓ signature   pass"), "\(result)")
                #expect(
                    lines.contains("  - ip          skipped  not bound to a network")
                        || lines.contains { $0.hasPrefix("  - ip ") })
                Self.expectNoSignature(result, link)

                let json = Ctl.expect(try daemon.ctl("--json", "explain", link), 0)
                let answer = try Ctl.decode(ExplainLinkResponse.self, json)
                #expect(answer.valid && answer.grant?.id == id && answer.checks.count == 11)
            }
        }

        /// The issue's scenario: tampered, expired and revoked links name the right failing check.
        @Test func tamperedExpiredAndRevokedNameTheFailingCheck() async throws {
            try await DaemonProcess.with { daemon in
                let link = try daemon.ctlIssue("/files/a.pdf", "--ttl", "1h")

                let changed = tampered(link)
                #expect(changed != link && changed.hasPrefix("/files/b.pdf?"))
                let bad = Ctl.expect(try daemon.ctl("explain", changed), 1)
                #expect(bad.lines.first == "verdict     refused: bad_signature", "\(bad)")
                #expect(Self.firstFailure(bad) == ["✗", "signature", "fail", "bad_signature", "←", "first", "failure"])
                #expect(bad.lines.contains("    path=/files/b.pdf"), "the message that was checked: \(bad)")
                Self.expectNoSignature(bad, link)

                let expiring = try daemon.ctlIssue("/files/short.pdf", "--ttl", "2s")
                try await Task.sleep(for: .seconds(3))
                let expired = Ctl.expect(try daemon.ctl("explain", expiring), 1)
                #expect(expired.lines.first == "verdict     refused: expired", "\(expired)")
                #expect(Self.firstFailure(expired)?.prefix(4) == ["✗", "expiry", "fail", "expired"], "\(expired)")
                #expect(expired.lines.contains { $0.hasPrefix("expires     ") && $0.hasSuffix(" ago)") }, "\(expired)")
                #expect(expired.lines.contains("  ✓ signature   pass"), "\(expired)")

                let id = try #require(queryValue(link, "au_id"))
                Ctl.expect(try daemon.ctl("revoke", "--id", id), 0)
                let revoked = Ctl.expect(try daemon.ctl("explain", link), 1)
                #expect(revoked.lines.first == "verdict     refused: revoked", "\(revoked)")
                #expect(Self.firstFailure(revoked)?.prefix(4) == ["✗", "revocation", "fail", "revoked"], "\(revoked)")

                // A later failure is shown but not marked: a revoked link checked with PUT.
                let both = Ctl.expect(try daemon.ctl("explain", link, "--method", "PUT"), 1)
                #expect(Self.firstFailure(both)?.prefix(4) == ["✗", "method", "fail", "method_not_allowed"], "\(both)")
                #expect(
                    both.lines.contains { $0.hasPrefix("  ✗ revocation  fail     revoked") && !$0.contains("←") },
                    "\(both)")
            }
        }

        @Test func malformedAndBoundLinks() async throws {
            try await DaemonProcess.with { daemon in
                let malformed = Ctl.expect(try daemon.ctl("explain", "/files/a.pdf?au_v=2"), 1)
                #expect(malformed.lines.first == "verdict     refused: malformed", "\(malformed)")
                #expect(malformed.lines.contains("grant       none: the link does not parse"), "\(malformed)")
                #expect(!malformed.lines.contains("signed message:"), "\(malformed)")
                #expect(
                    Self.firstFailure(malformed)?.prefix(4) == ["✗", "format", "fail", "malformed"], "\(malformed)")

                let bound = try daemon.ctlIssue(
                    "https://cdn.example.com/v/", "--prefix", "--ip", "203.0.113.0/24", "--bind-host",
                    "--not-before", String(unixNow() + 3_600), "--ttl", "2h")
                let result = Ctl.expect(try daemon.ctl("explain", bound, "--ip", "198.51.100.7"), 1)
                #expect(result.lines.contains("resource    every path under /v/ (prefix link)"), "\(result)")
                #expect(result.lines.contains("host        cdn.example.com (bound)"), "\(result)")
                #expect(result.lines.contains("client ip   203.0.113.0/24 (bound)"), "\(result)")
                #expect(
                    result.lines.contains {
                        $0.hasPrefix("not before  ") && ($0.hasSuffix("(in 1h)") || $0.contains("(in 59m"))
                    }, "\(result)")
                #expect(
                    Self.firstFailure(result)?.prefix(4) == ["✗", "not_before", "fail", "not_yet_valid"], "\(result)")
                #expect(result.lines.contains { $0.hasPrefix("  ✗ ip ") && $0.contains("ip_mismatch") }, "\(result)")
            }
        }
    }
}
