import AuthorityAPI
import AuthorityTesting
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A daemon whose wall clock the test moves: libfaketime preloaded, its offset (seconds) read
/// from a file at every clock read; monotonic time stays real (timers, timeouts).
struct FakeClock {
    let file = "/tmp/au-faketime-\(UUID().uuidString)"

    init() throws { try set(0) }

    func remove() { try? FileManager.default.removeItem(atPath: file) }

    func set(_ seconds: Int64) throws {
        try Data((seconds >= 0 ? "+\(seconds)" : "\(seconds)").utf8).write(to: URL(fileURLWithPath: file))
    }

    static var library: String? {
        let candidates = (try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib")) ?? []
        return candidates.map { "/usr/lib/\($0)/faketime/libfaketime.so.1" }.first { FileManager.default.fileExists(atPath: $0) }
    }

    var environment: [String: String] {
        get throws {
            guard let library = Self.library else { throw DaemonError.system("libfaketime not installed (apt-get install faketime)", errno: 0) }
            return [
                "LD_PRELOAD": library, "FAKETIME_TIMESTAMP_FILE": file, "FAKETIME_NO_CACHE": "1",
                "FAKETIME_DONT_FAKE_MONOTONIC": "1",
            ]
        }
    }
}

extension EndToEnd {
    /// Issue #13: each fault with real files and a real daemon; none makes a revoked link `ok`
    /// or answers a write that was not made durable.
    @Suite(.serialized) struct Faults {
        /// Starts the daemon again and expects it to refuse: exit 1 with `message` in its log.
        func expectRefusal(_ daemon: DaemonProcess, _ message: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
            try daemon.launch()
            #expect(daemon.waitForExit(timeout: 30) == .exited(1), sourceLocation: sourceLocation)
            #expect(daemon.logTail(2_000).contains(message), "\(daemon.logTail(1_000))", sourceLocation: sourceLocation)
        }

        func revokePrefixes(_ client: UnixHTTPClient, _ count: Int, tag: String) throws -> [String] {
            try (0..<count).map { index in
                let prefix = "/\(tag)\(index)/"
                _ = try client.revoke(RevokeRequest(prefix: prefix))
                return prefix
            }
        }

        /// Lowering --max-ttl, or a clock stepped past the old max-ttl and back, once made revoked
        /// 7-day links `ok` again.
        @Test func revocationsOutliveTheirLinksWhateverTheSettingsAndTheClock() async throws {
            let clock = try FakeClock()
            defer { clock.remove() }
            try await DaemonProcess.with(arguments: ["--maintenance-interval", "1"], environment: try clock.environment) { daemon in
                let client = daemon.client()
                let links = try (0..<2).map { try client.issue("/week/\($0)", ttl: 7 * 86_400) }
                for link in links { _ = try client.revoke(RevokeRequest(id: link.id)) }
                #expect(try daemon.terminate() == .exited(0))
                daemon.arguments = ["--maintenance-interval", "1", "--max-ttl", "3600"]
                try clock.set(2 * 3_600)
                try daemon.start()
                try await Task.sleep(for: .seconds(3))  // maintenance ran at least twice
                for link in links { #expect(try daemon.client().reason(link.url) == "revoked") }
                // A step past the old max-ttl, maintenance, and back: never `ok`.
                try clock.set(8 * 86_400)
                try await Task.sleep(for: .seconds(3))
                try clock.set(0)
                for link in links { #expect(try daemon.client().reason(link.url) != "ok") }
                #expect(daemon.log.contains("the clock stepped back"))
            }
        }

        /// A clock stepped back an hour: issue times do not go back with it, so an issued-before
        /// revocation still ends the links issued before it, across a restart too; checks keep
        /// the later time (links end early, never late).
        @Test func aClockSteppedBackMovesNoTimeBackwards() async throws {
            let clock = try FakeClock()
            defer { clock.remove() }
            try await DaemonProcess.with(environment: try clock.environment) { daemon in
                let client = daemon.client()
                let first = try client.issue("/a/first", ttl: 600)
                let firstIssued = try #require(queryValue(first.url, "au_iat").flatMap { Int64($0) })
                try clock.set(-3_600)
                let second = try client.issue("/a/second", ttl: 600)
                let secondIssued = try #require(queryValue(second.url, "au_iat").flatMap { Int64($0) })
                #expect(secondIssued >= firstIssued, "issue time went back \(firstIssued - secondIssued) s")
                #expect(try client.reason(first.url) == "ok")
                let metrics = try client.get("/metrics").text
                #expect(metrics.contains("authority_clock_backward_steps_total 1"), "\(metrics.prefix(300))")
                #expect(try daemon.restart() == .exited(0))
                let third = try daemon.client().issue("/a/third", ttl: 600)
                #expect(try #require(queryValue(third.url, "au_iat").flatMap { Int64($0) }) >= secondIssued)
                _ = try daemon.client().revoke(RevokeRequest(prefix: "/a/", issuedBefore: secondIssued + 1))
                #expect(try daemon.client().reason(first.url) == "revoked")
                #expect(try daemon.client().reason(second.url) == "revoked")
                // Forward past the links' expiry and back: they stay expired.
                let late = try daemon.client().issue("/b/late", ttl: 600)
                try clock.set(3_600)
                #expect(try daemon.client().reason(late.url) == "expired")
                try clock.set(-3_600)
                #expect(try daemon.client().reason(late.url) == "expired")
            }
        }

        /// The database removed, or the whole state directory, under the running daemon: no
        /// write after it is answered 201, the daemon exits non-zero, and a restart refuses.
        @Test(arguments: ["database", "state directory"])
        func aDatabaseRemovedUnderTheDaemonStopsIt(what: String) async throws {
            try await DaemonProcess.with { daemon in
                let client = daemon.client()
                _ = try revokePrefixes(client, 5, tag: "before")
                let path = daemon.stateDirectory + "/authority.sqlite"
                try FileManager.default.removeItem(atPath: what == "database" ? path : daemon.stateDirectory)
                var statuses: [Int: Int] = [:]
                for index in 0..<60 {
                    let response = try? daemon.client().post("/v1/revocations", json: RevokeRequest(prefix: "/after\(index)/"))
                    statuses[response?.status ?? 0, default: 0] += 1
                    if index == 0, let response {
                        #expect(response.status == 503 && response.errorCode == "storage.unavailable", "\(response.text)")
                        #expect(response.header("Retry-After") == "5")
                    }
                }
                print("\(what) removed: 60 writes after it: \(statuses) (status: count; 0 = connection refused)")
                #expect(statuses[201] == nil, "writes acknowledged after the \(what) was removed")
                #expect(daemon.waitForExit(timeout: 15) == .exited(1))
                #expect(daemon.log.contains("critical"))
                if what == "database" { try expectRefusal(daemon, "is missing, but") }
            }
        }

        @Test func aMissingOrEmptyDatabaseRefusesStart() async throws {
            try await DaemonProcess.with { daemon in
                _ = try revokePrefixes(daemon.client(), 3, tag: "kept")
                #expect(try daemon.terminate() == .exited(0))
                let path = daemon.stateDirectory + "/authority.sqlite"
                try FileManager.default.moveItem(atPath: path, toPath: daemon.directory + "/saved.sqlite")
                try expectRefusal(daemon, "database \(path) is missing")
                #expect(!FileManager.default.fileExists(atPath: path))
                FileManager.default.createFile(atPath: path, contents: Data())
                try expectRefusal(daemon, "database \(path) is empty")
                try FileManager.default.removeItem(atPath: path)
                try FileManager.default.moveItem(atPath: daemon.directory + "/saved.sqlite", toPath: path)
                try daemon.start()
                #expect(try daemon.client().allRevocations().count == 3)
            }
        }

        /// kill -9 after 100 acknowledged revocations, then the WAL cut in half, or deleted:
        /// the daemon refuses to start (it used to lose them in silence); --adopt-database
        /// accepts the loss explicitly.
        @Test(arguments: ["cut in half", "deleted"])
        func aDamagedWALRefusesStart(damage: String) async throws {
            try await DaemonProcess.with { daemon in
                let client = daemon.client()
                let acknowledged = try revokePrefixes(client, 100, tag: "wal")
                #expect(daemon.kill9() == .signalled(SIGKILL))
                let wal = daemon.stateDirectory + "/authority.sqlite-wal"
                let size = try #require(FileManager.default.attributesOfItem(atPath: wal)[.size] as? Int)
                if damage == "deleted" {
                    try FileManager.default.removeItem(atPath: wal)
                } else {
                    #expect(truncate(wal, off_t(size / 2)) == 0)
                }
                try expectRefusal(daemon, damage == "deleted" ? "without a key ring" : "was acknowledged")
                if damage == "cut in half" {
                    daemon.arguments = ["--adopt-database"]
                    try daemon.start()
                    let present = try daemon.client().allRevocations().count
                    print("WAL \(damage): \(acknowledged.count) acknowledged, \(present) present after --adopt-database, refused start until then")
                    #expect(present < acknowledged.count)
                }
            }
        }

        /// One byte of a revocation flipped in the database file: start refuses, naming it.
        @Test func aFlippedByteRefusesStartNamingTheRevocation() async throws {
            try await DaemonProcess.with { daemon in
                let client = daemon.client()
                _ = try revokePrefixes(client, 3, tag: "plain")
                let target = try client.revoke(RevokeRequest(prefix: "/flip-me/"))
                #expect(try daemon.terminate() == .exited(0))  // a clean stop checkpoints the WAL
                let path = daemon.stateDirectory + "/authority.sqlite"
                var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
                let needle = Array("/flip-me/".utf8)
                let at = try #require((0...(bytes.count - needle.count)).first { Array(bytes[$0..<($0 + needle.count)]) == needle })
                bytes[at + 1] ^= 0x01  // "/glip-me/": still a canonical prefix
                try Data(bytes).write(to: URL(fileURLWithPath: path))
                try expectRefusal(daemon, "revocation serial \(target.serial) does not match its MAC")
            }
        }

        /// Another process holds the write lock for 12 s: reads answer at once; writes answer
        /// 503 storage.unavailable with Retry-After once the busy timeout passes.
        @Test func aHeldWriteLockDelaysNoRead() async throws {
            try await DaemonProcess.with { daemon in
                let client = daemon.client()
                let counted = try client.issue(IssueLinkRequest(resource: "/r/counted", ttl: 600, maxUses: 3))
                let plain = try client.issue("/r/plain")
                let holder = try ChildProcess(
                    ["/usr/bin/env", "python3", "-c",
                     "import sqlite3,sys,time; c=sqlite3.connect(sys.argv[1], isolation_level=None); c.execute('BEGIN IMMEDIATE'); print('held', flush=True); time.sleep(12)",
                     daemon.stateDirectory + "/authority.sqlite"],
                    environment: ProcessInfo.processInfo.environment, stdout: daemon.directory + "/holder.log",
                    stderr: daemon.directory + "/holder.log")
                let deadline = Date().addingTimeInterval(10)
                while Date() < deadline, !((try? String(contentsOfFile: daemon.directory + "/holder.log", encoding: .utf8)) ?? "").contains("held") {
                    try await Task.sleep(for: .milliseconds(50))
                }
                let writer = Task.detached { () -> (Int, String?, String?, Double) in
                    let started = Date()
                    let response = try? UnixHTTPClient(path: daemon.socketPath, timeout: 30).post(
                        "/v1/revocations", json: RevokeRequest(prefix: "/during-lock/"))
                    return (response?.status ?? 0, response?.errorCode, response?.header("Retry-After"), Date().timeIntervalSince(started))
                }
                try await Task.sleep(for: .milliseconds(300))
                for (name, request) in [
                    ("explain", { try daemon.client().post("/v1/links/explain", json: ExplainLinkRequest(url: counted.url)) }),
                    ("check consume:false", { try daemon.client().post("/v1/links/check", json: CheckLinkRequest(url: counted.url, consume: false)) }),
                    ("check", { try daemon.client().post("/v1/links/check", json: CheckLinkRequest(url: plain.url)) }),
                    ("revocations", { try daemon.client().get("/v1/revocations") }),
                    ("health", { try daemon.client().get("/v1/health") }),
                ] as [(String, () throws -> HTTPResponse)] {
                    let started = Date()
                    let response = try request()
                    let seconds = Date().timeIntervalSince(started)
                    #expect(response.status == 200, "\(name): \(response.text)")
                    #expect(seconds < 2, "\(name) took \(seconds) s behind the held write lock")
                }
                let (status, code, retryAfter, seconds) = await writer.value
                print("write behind a held lock: \(status) \(code ?? "-") after \(seconds) s")
                #expect(status == 503 && code == "storage.unavailable" && retryAfter == "5")
                _ = holder.wait(timeout: 20)
                #expect(try client.revoke(RevokeRequest(prefix: "/after-lock/")).prefix == "/after-lock/")
            }
        }

        /// The state directory on a 4 MiB tmpfs, filled: writes answer 503 (nothing acknowledged
        /// is lost, the log stays short), and once space is freed they are taken again.
        @Test func aFullDiskRefusesWritesClearlyAndLosesNothing() async throws {
            guard getuid() == 0 else { return }  // mounting a tmpfs needs root
            let daemon = try DaemonProcess()
            defer { daemon.remove() }
            let mount = daemon.stateDirectory
            try FileManager.default.createDirectory(atPath: mount, withIntermediateDirectories: true)
            let (status, _, error) = try run("/bin/mount", ["-t", "tmpfs", "-o", "size=4m,mode=0700", "tmpfs", mount])
            try #require(status == 0, "mount: \(error)")
            defer { _ = try? run("/bin/umount", ["-l", mount]) }
            defer { _ = daemon.kill9() }
            try daemon.start()
            let client = daemon.client()
            var acknowledged = Set<String>()
            for index in 0..<20 { acknowledged.insert(try client.revoke(RevokeRequest(prefix: "/full\(index)/")).prefix ?? "") }
            let filler = mount + "/filler"
            FileManager.default.createFile(atPath: filler, contents: nil)
            let handle = try #require(FileHandle(forWritingAtPath: filler))
            while (try? handle.write(contentsOf: Data(repeating: 7, count: 65_536))) != nil {}
            try? handle.close()
            var refused = 0
            for index in 0..<400 {
                let response = try daemon.client().post(
                    "/v1/revocations", json: RevokeRequest(prefix: "/full-\(index)/", reason: String(repeating: "x", count: 400)))
                if response.status == 201 {
                    acknowledged.insert("/full-\(index)/")
                } else {
                    #expect(response.status == 503 && response.errorCode == "storage.unavailable", "\(response.text)")
                    refused += 1
                }
            }
            #expect(refused > 0, "the disk never filled")
            let errorLines = daemon.log.split(separator: "\n").filter { $0.contains(" error ") }.count
            print("disk full: \(acknowledged.count) acknowledged, \(refused) refused, \(errorLines) error lines")
            #expect(errorLines <= 5, "\(errorLines) error lines for \(refused) refused writes")
            try FileManager.default.removeItem(atPath: filler)
            acknowledged.insert(try client.revoke(RevokeRequest(prefix: "/after-full/")).prefix ?? "")
            #expect(try daemon.restart() == .exited(0))
            let present = Set(try daemon.client().allRevocations().compactMap(\.prefix))
            #expect(acknowledged.subtracting(present).isEmpty, "lost: \(acknowledged.subtracting(present).sorted().prefix(5))")
            _ = daemon.terminate()
        }

        /// The documented backup (sqlite3 .backup while serving) and restore: the restored,
        /// older database is refused until adopted; then it serves what the backup held.
        @Test func theDocumentedBackupAndRestore() async throws {
            try await DaemonProcess.with { daemon in
                let client = daemon.client()
                let before = try revokePrefixes(client, 10, tag: "before-backup")
                let backup = daemon.directory + "/backup.sqlite"
                let database = daemon.stateDirectory + "/authority.sqlite"
                let (status, _, error) = try run("/usr/bin/sqlite3", [database, ".timeout 10000", ".backup \(backup)"])
                #expect(status == 0, "\(error)")
                #expect(try run("/usr/bin/sqlite3", [backup, "PRAGMA integrity_check"]).1 == "ok\n")
                _ = try revokePrefixes(client, 5, tag: "after-backup")
                #expect(try daemon.terminate() == .exited(0))
                for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: database + suffix) }
                try FileManager.default.copyItem(atPath: backup, toPath: database)
                try expectRefusal(daemon, "was acknowledged")
                daemon.arguments = ["--adopt-database"]
                try daemon.start()
                #expect(daemon.log.contains("adopted the database"))
                #expect(Set(try daemon.client().allRevocations().compactMap(\.prefix)) == Set(before))
                #expect(try daemon.client().get("/v1/integrity").decode(IntegrityResponse.self).ok)
                daemon.arguments = []
                #expect(try daemon.restart() == .exited(0))
            }
        }

        /// Smaller ones: a regular file at the socket path and a database path that cannot be a
        /// file each fail with one line that names the path.
        @Test func badPathsAreNamed() async throws {
            try await DaemonProcess.with(start: false) { daemon in
                FileManager.default.createFile(atPath: daemon.socketPath, contents: Data("x".utf8))
                try expectRefusal(daemon, "\(daemon.socketPath) exists and is not a socket")
                try FileManager.default.removeItem(atPath: daemon.socketPath)
                let directory = daemon.directory + "/a-directory"
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
                daemon.arguments = ["--database", directory]
                try expectRefusal(daemon, "cannot open database \(directory) (Is a directory")
            }
        }
    }
}
