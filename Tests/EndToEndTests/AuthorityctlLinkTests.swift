import AuthorityAPI
import AuthorityTesting
import Foundation
import Testing

extension EndToEnd {
    /// `authorityctl issue`, `check` and `revoke`/`revocations list` against a real daemon.
    @Suite(.serialized) struct AuthorityctlLinkTests {
        @Test func issuePrintsOnlyTheLink() async throws {
            try await DaemonProcess.with { daemon in
                let result = Ctl.expect(try daemon.ctl("issue", "/files/a.pdf"), 0)
                #expect(result.stderr.isEmpty, "\(result)")
                #expect(result.lines.count == 1 && result.stdout.hasSuffix("\n"), "\(result)")
                let link = result.stdout.trimmingCharacters(in: .newlines)
                #expect(link.hasPrefix("/files/a.pdf?au_v=1&"), "\(link)")
                #expect(try daemon.client().reason(link) == "ok")
                // The default lifetime is 15 minutes; the default methods GET and HEAD.
                let issuedAt = try #require(queryValue(link, "au_iat").flatMap { Int64($0) })
                #expect(queryValue(link, "au_exp") == String(issuedAt + 900))
                #expect(queryValue(link, "au_m") == "GET,HEAD")

                // `$(authorityctl issue …)` works in a shell.
                let socket = daemon.socketPath
                let script = """
                    link=$("$0" --socket "$1" issue /files/shell.txt --ttl 90s) && "$0" --socket "$1" check "$link" >/dev/null \
                    && printf '%s' "$link"
                    """
                let (status, out, errors) = try run("/bin/sh", ["-c", script, Ctl.executable, socket])
                #expect(
                    status == 0 && out.hasPrefix("/files/shell.txt?au_v=1&") && !out.contains("\n"), "\(out) \(errors)")
            }
        }

        @Test func issueOptionsReachTheLink() async throws {
            try await DaemonProcess.with { daemon in
                for (ttl, seconds) in [
                    ("90s", 90), ("15m", 900), ("1h", 3_600), ("7d", 604_800), ("120", 120), ("1h30m", 5_400),
                ] {
                    let link = try daemon.ctlIssue("/t/\(seconds)", "--ttl", ttl)
                    let iat = try #require(queryValue(link, "au_iat").flatMap { Int64($0) })
                    #expect(queryValue(link, "au_exp") == String(iat + Int64(seconds)), "--ttl \(ttl): \(link)")
                }
                let expiry = (unixNow() / 60 + 30) * 60
                let rfc = try daemon.ctlIssue(
                    "/t/rfc", "--expires-at", String(ctlTime(expiry).replacing(" ", with: "T")))
                #expect(queryValue(rfc, "au_exp") == String(expiry), "\(rfc)")
                let offset = try daemon.ctlIssue("/t/offset", "--expires-at", Self.rfc3339(expiry, offsetHours: 2))
                #expect(queryValue(offset, "au_exp") == String(expiry), "\(offset)")
                let unix = try daemon.ctlIssue(
                    "/t/unix", "--expires-at", String(expiry), "--not-before", String(expiry - 600))
                #expect(
                    queryValue(unix, "au_exp") == String(expiry) && queryValue(unix, "au_nbf") == String(expiry - 600))
                #expect(try daemon.client().reason(unix) == "not_yet_valid")

                let upload = try daemon.ctlIssue("/t/upload", "--method", "PUT", "--method", "post")
                #expect(queryValue(upload, "au_m") == "PUT,POST", "\(upload)")
                let prefix = try daemon.ctlIssue("/videos/abc/", "--prefix")
                #expect(queryValue(prefix, "au_pfx") == "/videos/abc/", "\(prefix)")
                let bound = try daemon.ctlIssue(
                    "https://cdn.example.com/b.txt", "--ip", "203.0.113.0/24", "--bind-host")
                #expect(
                    queryValue(bound, "au_ip") == "203.0.113.0/24" && queryValue(bound, "au_h") == "cdn.example.com")

                let browsable = try daemon.ctlIssue(
                    "/site/", "--prefix", "--cookie", "--origin", "https://B.example", "--origin", "https://a.example")
                #expect(queryValue(browsable, "au_f") == "c" && queryValue(browsable, "au_o") == "https://a.example,https://b.example")
                let pathForm = try daemon.ctlIssue("/videos/42/", "--prefix", "--path-form")
                #expect(pathForm.hasPrefix("/~au/") && pathForm.hasSuffix("/videos/42/"), "\(pathForm)")
                #expect(try daemon.client().reason(pathForm + "master.m3u8") == "ok")
                for (arguments, message) in [
                    (["/x", "--cookie"], "--cookie needs --prefix"), (["/x", "--path-form"], "--path-form needs --prefix"),
                    (["/x/", "--prefix", "--origin", "https://a.example/"], "origins must be"),
                ] {
                    let refused = try Ctl.run(["--socket", daemon.socketPath, "issue"] + arguments)
                    #expect(refused.status != 0 && refused.stderr.contains(message), "\(arguments): \(refused)")
                }

                let json = Ctl.expect(try daemon.ctl("--json", "issue", "/t/json", "--ttl", "1m"), 0)
                let answer = try Ctl.decode(IssueLinkResponse.self, json)
                #expect(answer.url.hasPrefix("/t/json?") && answer.epoch == 1 && answer.methods == ["GET", "HEAD"])
            }
        }

        /// `--password-stdin` (issue and check) and `--max-uses` reach the daemon; `--no-consume`
        /// leaves the uses alone.
        @Test func passwordFromStdinAndUseLimits() async throws {
            try await DaemonProcess.with { daemon in
                let issued = Ctl.expect(
                    try daemon.ctl("issue", "/p/secret.txt", "--password-stdin", stdin: "hunter2\n"), 0)
                let link = issued.stdout.trimmingCharacters(in: .newlines)
                #expect(queryValue(link, "au_f") == "p" && !link.contains("hunter2"), "\(link)")
                let missing = Ctl.expect(try daemon.ctl("check", link), 1)
                #expect(missing.lines.first == "refused: password_required", "\(missing)")
                let wrong = Ctl.expect(try daemon.ctl("check", link, "--password-stdin", stdin: "nope\n"), 1)
                #expect(wrong.lines.first == "refused: password_incorrect", "\(wrong)")
                let right = Ctl.expect(try daemon.ctl("check", link, "--password-stdin", stdin: "hunter2\n"), 0)
                #expect(right.lines.first == "ok", "\(right)")
                let empty = Ctl.expect(try daemon.ctl("issue", "/p/empty.txt", "--password-stdin", stdin: ""), 2)
                #expect(empty.stderr == "authorityctl: --password-stdin: stdin is empty\n", "\(empty)")

                let limited = try daemon.ctlIssue("/p/twice.txt", "--max-uses", "2")
                #expect(queryValue(limited, "au_f") == "u", "\(limited)")
                for (arguments, left) in [(["--no-consume"], "2"), (["--no-consume"], "2"), ([], "1"), ([], "0")] {
                    let ok = Ctl.expect(try Ctl.run(["--socket", daemon.socketPath, "check", limited] + arguments), 0)
                    #expect(ok.lines.first == "ok" && ok.lines.contains("uses left  \(left)"), "\(ok)")
                }
                let spent = Ctl.expect(try daemon.ctl("check", limited), 1)
                #expect(spent.lines.first == "refused: uses_exhausted", "\(spent)")
                let explained = Ctl.expect(try daemon.ctl("explain", limited), 1)
                #expect(explained.lines.contains("flags       use-limited"), "\(explained)")
                #expect(
                    explained.lines.contains { $0.hasPrefix("  ✗ uses ") && $0.contains("uses_exhausted") },
                    "\(explained)")
            }
        }

        @Test func checkPrintsTheVerdictAndExits0Or1() async throws {
            try await DaemonProcess.with { daemon in
                let link = try daemon.ctlIssue("/c/a.txt", "--ttl", "10m")
                let ok = Ctl.expect(try daemon.ctl("check", link), 0)
                let id = try #require(queryValue(link, "au_id"))
                #expect(ok.lines.first == "ok", "\(ok)")
                #expect(ok.lines.contains("id       \(id)"), "\(ok)")
                #expect(ok.lines.contains("epoch    1"), "\(ok)")
                #expect(ok.lines.contains { $0.hasPrefix("expires  ") && $0.contains("Z (in ") }, "\(ok)")
                Ctl.expect(try daemon.ctl("check", link, "--no-consume", "--method", "head"), 0)

                let bad = Ctl.expect(try daemon.ctl("check", tampered(link)), 1)
                #expect(bad.lines.first == "refused: bad_signature" && bad.stderr.isEmpty, "\(bad)")
                let put = Ctl.expect(try daemon.ctl("check", link, "--method", "PUT"), 1)
                #expect(put.lines.first == "refused: method_not_allowed", "\(put)")
                let malformed = Ctl.expect(try daemon.ctl("check", "/c/a.txt?au_v=9"), 1)
                #expect(malformed.lines.first == "refused: malformed", "\(malformed)")
                #expect(malformed.lines.contains { $0.hasPrefix("detail ") }, "\(malformed)")

                let bound = try daemon.ctlIssue(
                    "https://cdn.example.com/c/b.txt", "--ip", "203.0.113.0/24", "--bind-host")
                Ctl.expect(try daemon.ctl("check", bound, "--ip", "203.0.113.9"), 0)
                let outside = Ctl.expect(try daemon.ctl("check", bound, "--ip", "198.51.100.1"), 1)
                #expect(outside.lines.first == "refused: ip_mismatch", "\(outside)")
                let origin = originForm(bound)
                Ctl.expect(try daemon.ctl("check", origin, "--ip", "203.0.113.9", "--host", "cdn.example.com"), 0)
                let noHost = Ctl.expect(try daemon.ctl("check", origin, "--ip", "203.0.113.9"), 1)
                #expect(noHost.lines.first == "refused: resource_mismatch", "\(noHost)")

                let json = Ctl.expect(try daemon.ctl("--json", "check", tampered(link)), 1)
                let answer = try Ctl.decode(CheckLinkResponse.self, json)
                #expect(!answer.valid && answer.reason == "bad_signature" && answer.id == id)
            }
        }

        @Test func revokeAndListRevocations() async throws {
            try await DaemonProcess.with { daemon in
                let link = try daemon.ctlIssue("/r/a.txt", "--ttl", "1h")
                let id = try #require(queryValue(link, "au_id"))
                let byID = Ctl.expect(try daemon.ctl("revoke", "--id", id, "--reason", "leaked in a ticket"), 0)
                #expect(byID.stdout == "revocation 1: link \(id) (reason: leaked in a ticket)\n", "\(byID)")
                let check = Ctl.expect(try daemon.ctl("check", link), 1)
                #expect(check.lines.first == "refused: revoked", "\(check)")

                let privateLink = try daemon.ctlIssue("/private/x.txt")
                let byPrefix = Ctl.expect(try daemon.ctl("revoke", "--prefix", "/private/"), 0)
                #expect(byPrefix.stdout == "revocation 2: every request under /private/ (standing block)\n", "\(byPrefix)")
                #expect(try daemon.client().reason(privateLink) == "revoked")

                let cutoff = unixNow() + 5
                let old = try daemon.ctlIssue("/old/x.txt")
                let byTime = Ctl.expect(
                    try daemon.ctl(
                        "revoke", "--issued-before", ctlTime(cutoff).replacing(" ", with: "T"), "--prefix", "/old/"), 0)
                #expect(
                    byTime.stdout == "revocation 3: links issued before \(ctlTime(cutoff)) under /old/\n", "\(byTime)")
                #expect(try daemon.client().reason(old) == "revoked")
                let everything = Ctl.expect(
                    try daemon.ctl("--json", "revoke", "--issued-before", String(unixNow() - 3_600)), 0)
                let entry = try Ctl.decode(RevocationEntry.self, everything)
                #expect(entry.serial == 4 && entry.kind == "issued_before" && entry.prefix == "/")

                let list = Ctl.expect(try daemon.ctl("revocations", "list"), 0)
                #expect(list.lines.first.map(columns) == ["SERIAL", "KIND", "COVERS", "CREATED", "BY_UID", "REASON"])
                #expect(list.lines.count == 5, "\(list)")
                #expect(
                    list.lines[1].hasPrefix("1 ") && list.lines[1].contains("link \(id)")
                        && list.lines[1].hasSuffix("leaked in a ticket"))
                #expect(list.lines[2].contains("prefix") && list.lines[2].contains("every request under /private/"))
                #expect(list.lines[3].contains("issued_before") && list.lines[3].contains(ctlTime(cutoff)))
                #expect(list.stderr.isEmpty, "\(list)")

                let page = Ctl.expect(try daemon.ctl("revocations", "list", "--limit", "2"), 0)
                #expect(page.lines.count == 3, "\(page)")
                #expect(page.stderr == "authorityctl: more revocations follow: --after 2 (or --all)\n", "\(page)")
                let next = Ctl.expect(try daemon.ctl("revocations", "list", "--after", "2", "--limit", "2"), 0)
                #expect(next.lines.dropFirst().map { columns($0)[0] } == ["3", "4"], "\(next)")
                let all = Ctl.expect(try daemon.ctl("revocations", "list", "--limit", "1", "--all"), 0)
                #expect(all.lines.dropFirst().map { columns($0)[0] } == ["1", "2", "3", "4"], "\(all)")

                let json = Ctl.expect(try daemon.ctl("--json", "revocations", "list", "--limit", "3"), 0)
                let decoded = try Ctl.decode(RevocationPage.self, json)
                #expect(decoded.revocations.map(\.serial) == [1, 2, 3] && decoded.nextAfter == 3)
                let allJSON = Ctl.expect(try daemon.ctl("--json", "revocations", "list", "--all", "--limit", "1"), 0)
                #expect(
                    try Ctl.decode(RevocationPage.self, allJSON)
                        == RevocationPage(
                            revocations: try daemon.client().allRevocations(), nextAfter: nil))

                // One random id in 64 starts with "-": it is the option's value, not another option.
                let dashed = "-AAAAAAAAAAAAAAAAAAAAA"
                let byDashedID = Ctl.expect(try daemon.ctl("revoke", "--id", dashed, "--reason", "-v"), 0)
                #expect(byDashedID.stdout == "revocation 5: link \(dashed) (reason: -v)\n", "\(byDashedID)")

                // A standing block ends only when an admin lifts it.
                let lifted = Ctl.expect(try daemon.ctl("revocations", "lift", "2"), 0)
                #expect(lifted.stdout == "lifted revocation 2: every request under /private/ (standing block)\n", "\(lifted)")
                #expect(try daemon.client().reason(privateLink) == "ok")
                let again = Ctl.expect(try daemon.ctl("revocations", "lift", "2"), 5)
                #expect(again.stderr.hasPrefix("authorityctl: revocation.not_found: "), "\(again)")
                let zero = Ctl.expect(try daemon.ctl("revocations", "lift", "0"), 2)
                #expect(zero.stderr.contains("positive"), "\(zero)")
            }
        }

        /// RFC 3339 with a `+HH:00` offset for `seconds`.
        static func rfc3339(_ seconds: Int64, offsetHours: Int) -> String {
            let formatter = DateFormatter()
            formatter.locale = Locale(identifier: "en_US_POSIX")
            formatter.timeZone = TimeZone(secondsFromGMT: offsetHours * 3_600)
            formatter.dateFormat = "yyyy-MM-dd'T'HH:mm:ssxxx"
            return formatter.string(from: Date(timeIntervalSince1970: TimeInterval(seconds)))
        }
    }
}
