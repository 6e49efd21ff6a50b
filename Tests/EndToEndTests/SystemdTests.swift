import AuthorityTesting
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

extension EndToEnd {
    /// The systemd integration, without systemd as PID 1: the unit files pass `systemd-analyze`,
    /// and the installed release binary runs as an unprivileged user the way `authorityd.service`
    /// and `authorityd.socket` run it (socket activation, sd_notify, watchdog, a credential).
    @Suite(.serialized) struct SystemdTests {
        /// `systemd-analyze verify` and `systemd-analyze security --offline=true` (exposure ≤ 0.5)
        /// on Systemd/, through the same script CI runs.
        @Test(.enabled(if: SystemdTestEnvironment.analyzeUnavailableReason == nil,
                       Comment(rawValue: SystemdTestEnvironment.analyzeUnavailableReason ?? "")))
        func unitsVerifyAndExposure() throws {
            let script = SystemdTestEnvironment.packageRoot + "/scripts/check-units.sh"
            let result = try ChildProcess.run([script], timeout: 120)
            #expect(result.status == 0 && !result.timedOut, "check-units.sh: \(result)")
            #expect(result.stdout.contains("Overall exposure level for authorityd.service"), "\(result.stdout)")
        }

        /// Installs the release build into a temporary DESTDIR and runs it under
        /// `systemd-socket-activate` as the user `authority`, with a notify socket of our own, a
        /// watchdog of 2 s and the master key as a credential.
        @Test(.enabled(if: SystemdTestEnvironment.unavailableReason == nil,
                       Comment(rawValue: SystemdTestEnvironment.unavailableReason ?? "")),
              .timeLimit(.minutes(3)))
        func installedDaemonUnderSocketActivation() throws {
            let temporary = try systemdTemporaryDirectory()
            defer { try? FileManager.default.removeItem(atPath: temporary) }

            // 1. Install (no build: the release binary exists), twice: the second run changes nothing.
            let destdir = temporary + "/root"
            let install = try ChildProcess.run(
                [SystemdTestEnvironment.packageRoot + "/scripts/install.sh", "--no-build", "--destdir", destdir, "--prefix", "/usr"],
                timeout: 120)
            try #require(install.status == 0, "install.sh: \(install)")
            let binary = destdir + "/usr/bin/authorityd"
            try #require(systemdStat(binary)?.mode == 0o755, "\(binary) not installed 0755: \(install.stdout)")
            let unit = (try? String(contentsOfFile: destdir + "/usr/lib/systemd/system/authorityd.service", encoding: .utf8)) ?? ""
            #expect(unit.contains("\nExecStart=/usr/bin/authorityd "), "ExecStart= not rewritten for PREFIX=/usr:\n\(unit)")
            for path in ["/usr/lib/systemd/system/authorityd.socket", "/usr/lib/sysusers.d/authority.conf",
                         "/usr/lib/tmpfiles.d/authority.conf", "/etc/authority/authorityd.json",
                         "/etc/authority/policy.json", "/usr/share/authority/migrations/0001_initial.sql"] {
                #expect(FileManager.default.fileExists(atPath: destdir + path), "\(path) not installed")
            }
            let ownConfig = "{\"log_level\": \"debug\"}\n"
            try ownConfig.write(toFile: destdir + "/etc/authority/authorityd.json", atomically: true, encoding: .utf8)
            let again = try ChildProcess.run(
                [SystemdTestEnvironment.packageRoot + "/scripts/install.sh", "--no-build", "--destdir", destdir, "--prefix", "/usr"],
                timeout: 120)
            #expect(again.status == 0, "install.sh again: \(again)")
            #expect(!again.stdout.contains("installed "), "the second install changed files:\n\(again.stdout)")
            #expect((try? String(contentsOfFile: destdir + "/etc/authority/authorityd.json", encoding: .utf8)) == ownConfig,
                    "install.sh overwrote an existing configuration")
            try FileManager.default.removeItem(atPath: destdir + "/etc/authority/authorityd.json")
            let third = try ChildProcess.run(
                [SystemdTestEnvironment.packageRoot + "/scripts/install.sh", "--no-build", "--destdir", destdir, "--prefix", "/usr"],
                timeout: 120)
            #expect(third.status == 0, "install.sh: \(third)")

            // 2. Accounts: the daemon's user from the installed sysusers file, a client group,
            //    a user in it and one outside it.
            if let failure = try SystemdTestAccounts.ensure(sysusersFile: destdir + "/usr/lib/sysusers.d/authority.conf") {
                Issue.record("cannot create the test accounts: \(failure)")
                return
            }
            let daemonUID = try #require(SystemdTestAccounts.uid(SystemdTestAccounts.daemonUser))
            let daemonGID = try #require(SystemdTestAccounts.gid(SystemdTestAccounts.daemonUser))
            let clientGID = try #require(SystemdTestAccounts.gid(SystemdTestAccounts.clientGroup))

            // 3. What systemd would prepare: StateDirectory= (0700, the daemon's), the credential
            //    directory (0500, file 0400, the daemon's), the socket's directory.
            let state = temporary + "/state"
            mkdir(state, 0o700)
            chown(state, daemonUID, daemonGID)
            let credentials = temporary + "/credentials"
            mkdir(credentials, 0o700)
            let keyPath = credentials + "/master.key"
            try systemdRandomMasterKey().write(toFile: keyPath, atomically: false, encoding: .utf8)
            chmod(keyPath, 0o400)
            chown(keyPath, daemonUID, daemonGID)
            chmod(credentials, 0o500)
            chown(credentials, daemonUID, daemonGID)
            let runDirectory = temporary + "/run"
            mkdir(runDirectory, 0o755)
            let socketPath = runDirectory + "/authority.sock"
            let policyPath = temporary + "/policy.json"
            try """
                {"default_rights": ["check"],
                 "rules": [{"group": "\(SystemdTestAccounts.clientGroup)", "rights": ["check", "issue"]}]}
                """.write(toFile: policyPath, atomically: true, encoding: .utf8)
            chmod(policyPath, 0o644)
            let notify = try SystemdNotifyListener(path: temporary + "/notify.sock")
            defer { notify.stop() }

            // 4. Run it: systemd-socket-activate binds the socket and execs setpriv, which execs the
            //    daemon, so the daemon keeps the pid that LISTEN_PID names.
            let logPath = temporary + "/daemon.log"
            func daemonLog() -> String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }
            let daemon = try ChildProcess(
                [
                    "/usr/bin/systemd-socket-activate", "-l", socketPath, "--fdname=authority",
                    "-E", "NOTIFY_SOCKET=\(notify.path)", "-E", "WATCHDOG_USEC=2000000",
                    "-E", "CREDENTIALS_DIRECTORY=\(credentials)",
                    "/usr/bin/setpriv", "--reuid", SystemdTestAccounts.daemonUser, "--regid", SystemdTestAccounts.daemonUser,
                    "--clear-groups", "--no-new-privs", "--",
                    binary, "--config", destdir + "/etc/authority/authorityd.json", "--policy", policyPath,
                    "--state-dir", state, "--master-key-file", credentials + "/master.key", "--log-level", "info",
                ], environment: ProcessInfo.processInfo.environment, stdout: logPath, stderr: logPath)
            let pid = daemon.pid
            defer { daemon.signal(SIGKILL); _ = daemon.wait(timeout: 5) }

            // The socket, as authorityd.socket would make it: SocketMode=0660, SocketGroup=clients.
            var waited = 0
            while !FileManager.default.fileExists(atPath: socketPath), daemon.exitStatus == nil, waited < 500 {
                usleep(10_000)
                waited += 1
            }
            try #require(FileManager.default.fileExists(atPath: socketPath), "no socket; log:\n\(daemonLog())")
            chown(socketPath, 0, clientGID)
            chmod(socketPath, 0o660)
            // systemd-socket-activate execs the daemon on the first connection attempt.
            let outcome = try systemdCurl(as: "root", socket: socketPath, "GET", "/v1/health")
            #expect(outcome.status == 200, "health as root: \(outcome)\n\(daemonLog())")

            // 5. READY=1 from the daemon's own pid (NotifyAccess=main accepts nothing else).
            let ready = notify.waitFor("READY=1", timeout: 30)
            try #require(ready != nil, "no READY=1; datagrams \(notify.transcript); log:\n\(daemonLog())")
            #expect(ready?.senderPID == pid, "READY=1 sent by pid \(String(describing: ready?.senderPID)), not \(pid)")
            #expect(daemonLog().contains("master key from systemd credential"), "credential not used; log:\n\(daemonLog())")
            #expect(!FileManager.default.fileExists(atPath: state + "/master.key"), "a master key was created in the state directory")

            // 6. A client in the socket's group issues and checks; one outside it cannot connect.
            let issued = try systemdCurl(
                as: SystemdTestAccounts.insider, socket: socketPath, "POST", "/v1/links",
                json: #"{"resource": "/systemd/report.pdf", "ttl": 600}"#)
            #expect(issued.curl == 0 && issued.status == 201, "issue as \(SystemdTestAccounts.insider): \(issued)\n\(daemonLog())")
            let url = (try? JSONSerialization.jsonObject(with: Data(issued.body.utf8)) as? [String: Any])?["url"] as? String
            if let url {
                let body = String(decoding: try JSONSerialization.data(withJSONObject: ["url": url]), as: UTF8.self)
                let checked = try systemdCurl(
                    as: SystemdTestAccounts.insider, socket: socketPath, "POST", "/v1/links/check", json: body)
                #expect(checked.status == 200 && checked.body.contains(#""valid":true"#), "check: \(checked)")
            } else {
                Issue.record("no url in the issue answer: \(issued.body)")
            }
            let refused = try systemdCurl(as: SystemdTestAccounts.outsider, socket: socketPath, "GET", "/v1/health")
            #expect(refused.curl == 7, "a caller outside the socket's group was not refused at connect: \(refused)")
            #expect(refused.status == nil, "a caller outside the socket's group got an answer: \(refused)")
            if FileManager.default.isExecutableFile(atPath: "/usr/bin/python3") {
                // The refusal is the kernel's, at connect(): EACCES on the socket file.
                let probe = try ChildProcess.run([
                    "/usr/bin/setpriv", "--reuid", SystemdTestAccounts.outsider, "--regid", SystemdTestAccounts.outsider, "--init-groups", "--",
                    "/usr/bin/python3", "-c",
                    "import errno, socket, sys\ns = socket.socket(socket.AF_UNIX)\ntry:\n    s.connect(sys.argv[1]); print('connected')\nexcept OSError as e:\n    print(errno.errorcode[e.errno])",
                    socketPath,
                ], timeout: 20)
                #expect(probe.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "EACCES", "outsider connect: \(probe)")
            }

            // 7. WATCHDOG=1 about every WATCHDOG_USEC / 2 = 1 s, from the daemon's pid.
            let watchStart = Date()
            while Date().timeIntervalSince(watchStart) < 5.5, daemon.exitStatus == nil { usleep(50_000) }
            let pings = notify.received.filter { $0.assignments.contains("WATCHDOG=1") }
            #expect(pings.count >= 4, "\(pings.count) WATCHDOG=1 in \(Date().timeIntervalSince(ready!.time)) s since READY=1")
            #expect(pings.allSatisfy { $0.senderPID == pid }, "WATCHDOG=1 from another pid")
            let gaps = zip(pings.dropFirst(), pings).map { $0.time.timeIntervalSince($1.time) }
            #expect(gaps.allSatisfy { (0.5...1.8).contains($0) }, "WATCHDOG=1 gaps \(gaps)")

            // 8. SIGTERM: STOPPING=1, then a clean exit.
            try #require(daemon.exitStatus == nil, "the daemon exited early; log:\n\(daemonLog())")
            kill(pid, SIGTERM)
            let stopping = notify.waitFor("STOPPING=1", timeout: 15)
            #expect(stopping != nil, "no STOPPING=1; datagrams \(notify.transcript)")
            let deadline = Date().addingTimeInterval(20)
            while daemon.exitStatus == nil, Date() < deadline { usleep(20_000) }
            let ended = try #require(daemon.exitStatus, "still running 20 s after SIGTERM; log:\n\(daemonLog())")
            #expect(ended == .exited(0), "\(ended) after SIGTERM; log:\n\(daemonLog())")

            // 9. The state: the database 0600 and the daemon's; the socket (systemd's) left in place.
            let database = state + "/authority.sqlite"
            let info = systemdStat(database)
            #expect(info?.mode == 0o600, "\(database) mode \(String(info?.mode ?? 0, radix: 8))")
            #expect(info?.uid == daemonUID, "\(database) owned by uid \(String(describing: info?.uid))")
            for suffix in ["-wal", "-shm"] {
                if let companion = systemdStat(database + suffix) {
                    #expect(companion.mode & 0o077 == 0, "\(database)\(suffix) mode \(String(companion.mode, radix: 8))")
                }
            }
            #expect(systemdStat(state)?.mode == 0o700, "state directory mode \(String(systemdStat(state)?.mode ?? 0, radix: 8))")
            #expect(FileManager.default.fileExists(atPath: socketPath), "the daemon removed the socket it was given")
        }
    }
}
