import AuthorityAPI
import AuthorityTesting
import Foundation
import Testing

extension EndToEnd {
    /// `authorityctl` run as a separate process against a real daemon: keys, status, completions.
    /// Links are in AuthorityctlLinkTests, exit codes in AuthorityctlExitCodeTests.
    @Suite(.serialized) struct AuthorityctlTests {
        /// The issue's scenario: `keys rotate` then `keys list` shows the old epoch `verify_only`
        /// with its retire time and the new one `active`.
        @Test func rotateThenListShowsVerifyOnlyWithRetireTime() async throws {
            try await DaemonProcess.with { daemon in
                // A live link of epoch 1, so that epoch 1 has a retire time.
                let link = try daemon.ctlIssue("/k/report.pdf", "--ttl", "2h")

                let before = Ctl.expect(try daemon.ctl("keys", "list"), 0)
                #expect(before.lines.first.map(columns) == ["EPOCH", "STATUS", "CREATED", "RETIRE_AFTER", "RETIRED"])
                #expect(before.lines.count == 2, "\(before)")
                #expect(before.lines.dropFirst().first.map(columns)?.prefix(2) == ["1", "active"], "\(before)")

                let rotate = Ctl.expect(try daemon.ctl("keys", "rotate"), 0)
                let keys = try daemon.client().keys().keys
                let retireAfter = try #require(keys.first?.retireAfter, "retire_after of epoch 1")
                #expect(rotate.lines.first == "epoch 2 is active", "\(rotate)")
                #expect(
                    rotate.lines.dropFirst().first == "epoch 1 is verify_only, retire after \(ctlTime(retireAfter))")

                let list = Ctl.expect(try daemon.ctl("keys", "list"), 0)
                #expect(list.lines.count == 3, "\(list)")
                let old = try #require(list.lines.first { $0.hasPrefix("1 ") }, "\(list)")
                let new = try #require(list.lines.first { $0.hasPrefix("2 ") }, "\(list)")
                #expect(columns(old)[1] == "verify_only", "\(list)")
                #expect(old.contains(ctlTime(retireAfter)), "retire time \(ctlTime(retireAfter)) in \(list)")
                #expect(old.contains(ctlTime(keys[0].createdAt)), "\(list)")
                #expect(old.hasSuffix("Z  -"), "not retired: \(list)")
                #expect(columns(new)[1] == "active", "\(list)")
                #expect(list.stderr.isEmpty, "\(list)")

                // Columns are aligned: every STATUS starts where the header's does.
                let statusColumn = try #require(list.lines[0].range(of: "STATUS")).lowerBound.utf16Offset(
                    in: list.lines[0])
                for line in list.lines.dropFirst() {
                    #expect(
                        line.range(of: columns(line)[1])?.lowerBound.utf16Offset(in: line) == statusColumn, "\(list)")
                }

                let json = Ctl.expect(try daemon.ctl("--json", "keys", "list"), 0)
                #expect(try Ctl.decode(JSONWebKeySet.self, json) == daemon.client().keys())
                // The old link still passes: verify_only keys verify.
                Ctl.expect(try daemon.ctl("check", link), 0)
            }
        }

        @Test func exportPrintsThePublicJWKSet() async throws {
            try await DaemonProcess.with { daemon in
                Ctl.expect(try daemon.ctl("keys", "rotate"), 0)
                let export = Ctl.expect(try daemon.ctl("keys", "export"), 0)
                let set = try Ctl.decode(JSONWebKeySet.self, export)
                #expect(set == (try daemon.client().keys()))
                #expect(set.keys.map(\.kid) == ["1", "2"])
                #expect(set.keys.allSatisfy { $0.kty == "OKP" && $0.crv == "Ed25519" && $0.x.count == 43 })
                // Public material only: no private member (`d`) anywhere.
                let object = try JSONSerialization.jsonObject(with: Data(export.stdout.utf8)) as? [String: Any]
                let members = (object?["keys"] as? [[String: Any]])?.flatMap(\.keys) ?? []
                #expect(!members.isEmpty && !members.contains("d"), "\(members)")
                // Export is JSON with and without --json.
                #expect(try daemon.ctl("--json", "keys", "export").stdout == export.stdout)
            }
        }

        @Test func retireRefusesLiveLinksUnlessForced() async throws {
            try await DaemonProcess.with { daemon in
                let link = try daemon.ctlIssue("/k/live.txt", "--ttl", "1h")
                Ctl.expect(try daemon.ctl("keys", "rotate"), 0)

                Ctl.expectAPIError(try daemon.ctl("keys", "retire", "1"), 5, "key.live_links")
                Ctl.expect(try daemon.ctl("check", link), 0)

                let forced = Ctl.expect(try daemon.ctl("keys", "retire", "1", "--force"), 0)
                let retiredAt = try #require(try daemon.client().keys().keys.first?.retiredAt)
                #expect(forced.stdout == "epoch 1 is retired since \(ctlTime(retiredAt))\n", "\(forced)")
                let check = Ctl.expect(try daemon.ctl("check", link), 1)
                #expect(check.lines.first == "refused: retired_key", "\(check)")

                Ctl.expectAPIError(try daemon.ctl("keys", "retire", "1", "--force"), 5, "key.already_retired")
                Ctl.expectAPIError(try daemon.ctl("keys", "retire", "2"), 5, "key.active")
                Ctl.expectAPIError(try daemon.ctl("keys", "retire", "99"), 5, "key.not_found")

                let list = Ctl.expect(try daemon.ctl("keys", "list"), 0)
                let old = try #require(list.lines.first { $0.hasPrefix("1 ") }, "\(list)")
                #expect(columns(old)[1] == "retired" && old.hasSuffix(ctlTime(retiredAt)), "\(list)")
            }
        }

        @Test func statusShowsHealthEpochsAndRevocations() async throws {
            try await DaemonProcess.with { daemon in
                let link = try daemon.ctlIssue("/s/a.txt")
                Ctl.expect(try daemon.ctl("keys", "rotate"), 0)
                Ctl.expect(try daemon.ctl("revoke", "--id", try #require(queryValue(link, "au_id"))), 0)

                let status = Ctl.expect(try daemon.ctl("status"), 0)
                let health = try daemon.client().health()
                #expect(
                    status.lines.first?.hasPrefix("daemon        ok, version \(health.version), up ") == true,
                    "\(status)")
                #expect(status.lines.contains("socket        \(daemon.socketPath)"), "\(status)")
                #expect(status.lines.contains("active epoch  2"), "\(status)")
                #expect(status.lines.contains("revocations   1 live"), "\(status)")
                #expect(status.lines.contains("epochs:"), "\(status)")
                let keys = try daemon.client().keys().keys
                let old = try #require(status.lines.first { $0.hasPrefix("  1 ") }, "\(status)")
                let retireAfter = try #require(keys[0].retireAfter)
                #expect(old.contains("verify_only") && old.contains(ctlTime(retireAfter)), "\(status)")
                #expect(status.lines.contains { $0.hasPrefix("  2 ") && $0.contains("active") }, "\(status)")

                let json = Ctl.expect(try daemon.ctl("status", "--json"), 0)
                struct Combined: Decodable {
                    var health: HealthResponse
                    var keys: JSONWebKeySet?
                }
                let combined = try Ctl.decode(Combined.self, json)
                #expect(combined.health.activeEpoch == 2 && combined.health.revocations == 1)
                #expect(combined.keys == (try daemon.client().keys()))
            }
        }

        /// `authorityctl verify` on a running daemon: 0 while every MAC matches; 1 naming the
        /// revocation once a row was changed behind the daemon's back (here by sqlite3).
        @Test func verifyNamesAChangedRevocation() async throws {
            try await DaemonProcess.with { daemon in
                Ctl.expect(try daemon.ctl("revoke", "--prefix", "/v/one/"), 0)
                let target = try daemon.client().revoke(RevokeRequest(prefix: "/v/two/"))
                let ok = Ctl.expect(try daemon.ctl("verify"), 0)
                #expect(ok.lines.first == "integrity     ok", "\(ok)")
                #expect(ok.lines.contains("rows checked  3"), "\(ok)")  // epoch 1 and two revocations
                let (status, _, error) = try run(
                    "/usr/bin/sqlite3",
                    [daemon.stateDirectory + "/authority.sqlite", ".timeout 5000", "UPDATE revocation SET reason = 'x' WHERE prefix = '/v/two/'"])
                #expect(status == 0, "\(error)")
                let failed = try daemon.ctl("verify")
                #expect(failed.status == 1, "\(failed)")
                #expect(failed.stdout.contains("revocation serial \(target.serial) does not match its MAC"), "\(failed)")
                let json = try Ctl.decode(IntegrityResponse.self, try daemon.ctl("verify", "--json"))
                #expect(!json.ok && json.rows == 3 && json.serial == 3)
                #expect(daemon.log.contains("integrity check failed"))
            }
        }

        @Test func statusWithTheRevocationListSwitchedOff() async throws {
            try await DaemonProcess.with(arguments: ["--no-revocations"]) { daemon in
                let status = Ctl.expect(try daemon.ctl("status"), 0)
                #expect(status.lines.contains("revocations   switched off"), "\(status)")
                Ctl.expectAPIError(try daemon.ctl("revoke", "--prefix", "/x/"), 5, "revocations.disabled")
                Ctl.expectAPIError(try daemon.ctl("revocations", "list"), 5, "revocations.disabled")
            }
        }

        @Test(arguments: ["bash", "zsh", "fish"])
        func completionsForEachShell(_ shell: String) throws {
            // No daemon needed: the script comes from the command's own definition.
            let result = Ctl.expect(try Ctl.run(["completions", shell]), 0)
            #expect(result.stdout.count > 1_000, "\(result)")
            #expect(result.stderr.isEmpty, "\(result)")
            for word in ["authorityctl", "issue", "revoke", "explain", "socket", "expires-at", "no-consume"] {
                #expect(result.stdout.contains(word), "\(shell) script lacks \(word)")
            }
            if shell == "zsh" { #expect(result.stdout.hasPrefix("#compdef authorityctl")) }
            if shell == "bash" { #expect(result.stdout.hasPrefix("#!/bin/bash")) }
        }

        @Test func helpExitsZero() throws {
            let help = Ctl.expect(try Ctl.run(["--help"]), 0)
            for command in ["keys", "issue", "check", "explain", "revoke", "revocations", "status", "completions"] {
                #expect(help.stdout.contains("  \(command) "), "\(command) in \(help)")
            }
            Ctl.expect(try Ctl.run(["help", "issue"]), 0)
        }
    }
}
