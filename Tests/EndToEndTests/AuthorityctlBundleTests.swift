import AuthorityTesting
import Foundation
import Testing

extension EndToEnd {
    /// `authorityctl bundle fetch` from the real daemon, then `bundle verify` offline: the files it
    /// saves are accepted, and links get the daemon's verdict (a revoked one `revoked`).
    @Suite(.serialized) struct AuthorityctlBundleTests {
        @Test func fetchThenVerifyOffline() async throws {
            try await DaemonProcess.with { daemon in
                try await TemporaryDirectory.with { directory in
                    let (keys, bundle) = (directory + "/keys.json", directory + "/bundle.bin")
                    let good = try daemon.ctlIssue("/b/good.pdf", "--ttl", "1h")
                    let revoked = try daemon.ctlIssue("/b/revoked.pdf", "--ttl", "1h")
                    let blocked = try daemon.ctlIssue("/blocked/x.pdf", "--ttl", "1h")
                    let before = try Self.serial(Ctl.expect(try daemon.ctl("bundle", "fetch", "-o", bundle), 0))
                    Ctl.expect(try daemon.ctl("revoke", "--id", try #require(queryValue(revoked, "au_id"))), 0)
                    Ctl.expect(try daemon.ctl("revoke", "--prefix", "/blocked/"), 0)

                    let fetch = Ctl.expect(try daemon.ctl("bundle", "fetch", "-o", bundle, "--keys", keys), 0)
                    let summary = try #require(fetch.lines.first)
                    #expect(summary.hasPrefix("full bundle, serial ") && summary.hasSuffix(": 1 epoch, 1 rule, 1 id"), "\(fetch)")
                    #expect(fetch.lines.dropFirst() == ["JWK set: 1 key in \(keys)"], "\(fetch)")
                    #expect(Fixtures.mode(of: bundle) == 0o644 && Fixtures.mode(of: keys) == 0o644)
                    let after = try Self.serial(fetch)
                    #expect(after > before)

                    Ctl.expect(try Ctl.run(["bundle", "verify", "--keys", keys, bundle]), 0)
                    for (link, line, status) in [
                        (good, "link: ok", 0), (revoked, "link: refused: revoked", 1), (blocked, "link: refused: revoked", 1),
                    ] as [(String, String, Int32)] {
                        let verify = Ctl.expect(try Ctl.run(["bundle", "verify", "--keys", keys, bundle, link]), status)
                        #expect(verify.lines.first?.hasPrefix("ok: full bundle, serial \(after),") == true, "\(verify)")
                        #expect(verify.lines.last == line, "\(verify)")
                        Ctl.expect(try daemon.ctl("check", link, "--no-consume"), status)
                    }

                    let json = directory + "/bundle.json"
                    Ctl.expect(try daemon.ctl("--json", "bundle", "fetch", "-o", json), 0)
                    let twin = Ctl.expect(try Ctl.run(["bundle", "verify", "--keys", keys, json, revoked]), 1)
                    #expect(twin.lines.first?.hasSuffix(": 1 epoch, 1 rule, 1 id") == true && twin.lines.last == "link: refused: revoked", "\(twin)")

                    let delta = Ctl.expect(try daemon.ctl("bundle", "fetch", "-o", directory + "/delta.bin", "--since", String(before)), 0)
                    #expect(delta.lines.first?.hasPrefix("delta from serial \(before) to \(after), ") == true, "\(delta)")
                    #expect(delta.lines.first?.hasSuffix(": 1 epoch, rules -0 +1, ids -0 +1") == true, "\(delta)")
                    let freshness = Ctl.expect(try daemon.ctl("bundle", "fetch", "--freshness", "-o", directory + "/fresh.bin"), 0)
                    #expect(freshness.lines.first?.hasPrefix("freshness, serial \(after), ") == true, "\(freshness)")

                    let stdout = Ctl.expect(try daemon.ctl("--json", "bundle", "fetch", "-o", "-"), 0)
                    let object = try JSONSerialization.jsonObject(with: Data(stdout.stdout.utf8)) as? [String: Any]
                    #expect(object?["kind"] as? String == "full" && (object?["serial"] as? NSNumber)?.int64Value == after, "\(stdout)")
                }
            }
        }

        /// A file the daemon's answer cannot be written to fails before the request (exit 2), and
        /// leaves nothing behind.
        @Test func anUnwritableOutputIsAUsageError() async throws {
            try await DaemonProcess.with { daemon in
                let result = try daemon.ctl("bundle", "fetch", "-o", "/nonexistent-dir/bundle.bin")
                #expect(result.status == 2 && result.stderr == "authorityctl: cannot write /nonexistent-dir/bundle.bin: No such file or directory\n", "\(result)")
                #expect(result.stdout.isEmpty)
            }
        }

        /// The serial of `bundle fetch`'s summary line.
        static func serial(_ result: CtlResult) throws -> Int64 {
            let line = try #require(result.lines.first)
            let words = line.split(separator: " ")
            let index = try #require(words.firstIndex(of: "serial"), "\(line)")
            return try #require(Int64(words[index + 1].trimmingCharacters(in: .punctuationCharacters)), "\(line)")
        }
    }
}
