import AuthorityTesting
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// The fleet scenarios (issue #16, docs/fleet.md): N release daemons on one PostgreSQL cluster of
/// the benchmark's own (Unix socket, fsync on), beside `pgbench`'s one-row commit rate on the same
/// cluster, and a SQLite daemon for the check's CPU.
struct FleetBench {
    let executable: String
    let directory: String
    let daemons: Int
    let connections: Int
    let links: Int
    let samples: Int
    let seconds: Double
    let extraArguments: [String]

    func log(_ text: String) { FileHandle.standardError.write(Data("authority-bench: fleet: \(text)\n".utf8)) }

    func run(into report: inout Report) throws {
        log("PostgreSQL cluster")
        let cluster = try PostgresCluster()
        defer { cluster.remove() }
        var figures = FleetFigures(daemons: daemons)
        log("pgbench one-row commits")
        figures.pgbenchOne = try pgbench(cluster, clients: 1)
        figures.pgbenchMany = try pgbench(cluster, clients: daemons)

        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let keyFile = directory + "/master.key"
        try Fixtures.writeMasterKey(to: keyFile)
        let fleet = (0..<daemons).map { index in
            BenchDaemon(
                executable: executable, directory: directory + "/d\(index)",
                extraArguments: ["--database", cluster.url, "--master-key-file", keyFile] + extraArguments)
        }
        defer { for daemon in fleet { try? daemon.stop() } }
        log("start \(daemons) daemons")
        for daemon in fleet {
            try FileManager.default.createDirectory(atPath: daemon.directory, withIntermediateDirectories: true)
            try daemon.start()
        }

        log("issue \(links) one-time links")
        let first = LoadDriver(socketPath: fleet[0].socketPath, connections: connections)
        let oneTime = try issue(first, count: links, maxUses: 1, prefix: "/fleet/once/")

        log("durable uses over \(daemons) daemons")
        figures.uses = try usesOverFleet(fleet, requests: oneTime.map(Requests.check), postgres: cluster)

        log("revocation propagation, \(samples) links")
        figures.propagation = try propagation(fleet)

        // The check's CPU: the first fleet daemon (the others stopped) and a SQLite daemon side by
        // side, in alternating rounds of unique links, so that both see the same machine; medians.
        for daemon in fleet.dropFirst() { try daemon.stop() }
        let sqlite = BenchDaemon(executable: executable, directory: directory + "/sqlite", extraArguments: extraArguments)
        defer { try? sqlite.stop() }
        try FileManager.default.createDirectory(atPath: sqlite.directory, withIntermediateDirectories: true)
        try sqlite.start()
        let rounds = 3
        log("issue \(rounds) × \(links) plain links on the fleet daemon and on a SQLite daemon")
        let fleetLinks = try issue(first, count: rounds * links, maxUses: nil, prefix: "/fleet/plain/")
        let sqliteLinks = try issue(
            LoadDriver(socketPath: sqlite.socketPath, connections: connections), count: rounds * links, maxUses: nil, prefix: "/fleet/plain/")
        var fleetChecks: [FleetFigures.Check] = [], sqliteChecks: [FleetFigures.Check] = []
        for round in 0..<rounds {
            log("check CPU, round \(round + 1) of \(rounds): fleet daemon, then SQLite daemon")
            let slice = (round * links)..<((round + 1) * links)
            fleetChecks.append(try checkCPU(fleet[0], requests: fleetLinks[slice].map(Requests.check)))
            sqliteChecks.append(try checkCPU(sqlite, requests: sqliteLinks[slice].map(Requests.check)))
        }
        figures.fleetCheck = FleetFigures.Check.median(fleetChecks)
        figures.sqliteCheck = FleetFigures.Check.median(sqliteChecks)
        figures.checkRounds = rounds
        try sqlite.stop()
        try fleet[0].stop()
        report.fleet = figures
    }

    /// Transactions per second of one-row INSERT commits (`pgbench -n -T`, `clients` sessions).
    private func pgbench(_ cluster: PostgresCluster, clients: Int) throws -> Double {
        guard let bin = PostgresCluster.binaries else { throw BenchError.scenario("no PostgreSQL binaries") }
        try cluster.psql("CREATE TABLE IF NOT EXISTS probe (id bigserial PRIMARY KEY, value bytea NOT NULL)")
        let script = cluster.directory + "/probe.sql"
        try "INSERT INTO probe (value) VALUES (decode(md5(random()::text), 'hex'));\n"
            .write(toFile: script, atomically: true, encoding: .utf8)
        chmod(script, 0o644)
        let command = [
            "/usr/sbin/runuser", "-u", "nobody", "--", bin + "/pgbench", "-h", cluster.directory, "-U", "authority", "-n",
            "-c", "\(clients)", "-j", "\(min(clients, 2))", "-T", "\(max(1, Int(seconds.rounded(.up))))", "-f", script, "authority",
        ]
        let result = try ChildProcess.run(getuid() == 0 ? command : Array(command.dropFirst(4)), timeout: 120)
        guard result.status == 0,
            let line = result.stdout.split(separator: "\n").first(where: { $0.hasPrefix("tps = ") }),
            let tps = Double(line.dropFirst(6).prefix { $0 == "." || $0.isNumber })
        else { throw BenchError.scenario("pgbench: \(result)") }
        return tps
    }

    private func issue(_ driver: LoadDriver, count: Int, maxUses: Int?, prefix: String) throws -> [String] {
        var urls: [String] = []
        urls.reserveCapacity(count)
        let run = try driver.run(count: count, seconds: 3_600, request: { Requests.issue(resource: "\(prefix)\($0)", maxUses: maxUses) }) {
            _, answer in
            guard answer.status == 201, let url = Requests.member("url", in: answer.text) else {
                return "issue answered \(answer.status): \(answer.text.prefix(200))"
            }
            urls.append(url)
            return nil
        }
        guard run.failures == 0, urls.count == count else { throw BenchError.scenario("issuing: \(run.firstFailure ?? "\(urls.count) of \(count)")") }
        return urls
    }

    /// Every one-time link consumed once, the links split over the daemons, one load driver per
    /// daemon on a thread of its own, all at once: uses per second of wall time.
    private func usesOverFleet(_ fleet: [BenchDaemon], requests: [[UInt8]], postgres: PostgresCluster) throws -> FleetFigures.Uses {
        let share = (requests.count + fleet.count - 1) / fleet.count
        // Each daemon gets the load the single-daemon scenarios give one daemon.
        let perDaemon = connections
        let daemonPIDs = try fleet.map { try $0.pid }
        let postgresPIDs = try Self.processTree(of: postgres)
        let daemonsBefore = try ProcessSample.of(daemonPIDs), postgresBefore = try ProcessSample.of(postgresPIDs)
        let results = Locked<[Int: Result<RunResult, any Error>]>([:])
        let sockets = fleet.map(\.socketPath)
        let slices = Unchecked((0..<fleet.count).map { Array(requests.dropFirst($0 * share).prefix(share)) })
        let started = now()
        let threads = (0..<fleet.count).map { index in
            Thread {
                let slice = slices.value[index]
                let outcome = Result {
                    try LoadDriver(socketPath: sockets[index], connections: perDaemon).run(
                        count: slice.count, seconds: 3_600, request: { slice[$0] }, check: Runner.expectValid)
                }
                results.withLock { $0[index] = outcome }
            }
        }
        for thread in threads { thread.start() }
        while results.withLock({ $0.count }) < fleet.count { usleep(5_000) }
        let wall = Double(now() - started) / 1e9
        let daemonsAfter = try ProcessSample.of(daemonPIDs), postgresAfter = try ProcessSample.of(postgresPIDs)
        var uses = FleetFigures.Uses(connectionsPerDaemon: perDaemon)
        uses.daemonCPU = daemonsAfter.cpuSeconds - daemonsBefore.cpuSeconds
        uses.postgresCPU = postgresAfter.cpuSeconds - postgresBefore.cpuSeconds
        var latencies: [UInt64] = []
        for index in 0..<fleet.count {
            let run = try results.withLock { $0[index]! }.get()
            guard run.failures == 0 else { throw BenchError.scenario("uses on daemon \(index): \(run.firstFailure ?? "")") }
            uses.completed += run.completed
            latencies += run.latencies
        }
        latencies.sort()
        uses.perSecond = Double(uses.completed) / wall
        uses.p50 = RunResult().latency(0.5, sorted: latencies)
        uses.p99 = RunResult().latency(0.99, sorted: latencies)
        return uses
    }

    /// The postmaster (data/postmaster.pid) and its children: the backends, the WAL writer.
    static func processTree(of cluster: PostgresCluster) throws -> [pid_t] {
        let text = try String(contentsOfFile: cluster.directory + "/data/postmaster.pid", encoding: .utf8)
        guard let master = text.split(separator: "\n").first.flatMap({ pid_t($0) }) else {
            throw BenchError.scenario("no pid in postmaster.pid")
        }
        let children = ((try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []).compactMap { entry -> pid_t? in
            guard let pid = pid_t(entry), let fields = ProcessSample.statFields(pid), fields.count > 1 else { return nil }
            return pid_t(fields[1]) == master ? pid : nil
        }
        return [master] + children
    }

    /// Unique plain links checked on one daemon: throughput and the daemon's CPU per check.
    private func checkCPU(_ daemon: BenchDaemon, requests: [[UInt8]]) throws -> FleetFigures.Check {
        let pid = try daemon.pid
        let before = try ProcessSample.of(pid)
        let run = try LoadDriver(socketPath: daemon.socketPath, connections: connections).run(
            count: requests.count, seconds: 3_600, request: { requests[$0] }, check: Runner.expectValid)
        let after = try ProcessSample.of(pid)
        guard run.failures == 0 else { throw BenchError.scenario("checks: \(run.firstFailure ?? "")") }
        return FleetFigures.Check(
            perSecond: run.throughput, cpuPerCheck: (after.cpuSeconds - before.cpuSeconds) / Double(max(run.completed, 1)))
    }

    /// A link issued on the first daemon and accepted by another; then revoked on the first:
    /// the time from sending the revocation to the other's first `revoked`, polled back to back.
    private func propagation(_ fleet: [BenchDaemon]) throws -> [Double] {
        let writer = UnixHTTPClient(path: fleet[0].socketPath)
        var times: [Double] = []
        for sample in 0..<samples {
            let reader = UnixHTTPClient(path: fleet[fleet.count > 1 ? 1 + sample % (fleet.count - 1) : 0].socketPath)
            let issued = try writer.request(
                "POST", "/v1/links", body: Data("{\"resource\":\"/fleet/p/\(sample)\",\"ttl\":600}".utf8),
                headers: [("Content-Type", "application/json")])
            guard issued.status == 201, let url = Requests.member("url", in: issued.text), let id = Requests.member("id", in: issued.text) else {
                throw BenchError.scenario("issue answered \(issued.status)")
            }
            let body = Data("{\"url\":\"\(url)\"}".utf8)
            func reason() throws -> String {
                let answer = try reader.request("POST", "/v1/links/check", body: body, headers: [("Content-Type", "application/json")])
                return Requests.member("reason", in: answer.text) ?? "status \(answer.status)"
            }
            guard try reason() == "ok" else { throw BenchError.scenario("a fresh link was not ok on the other daemon") }
            let started = now()
            let revoked = try writer.request(
                "POST", "/v1/revocations", body: Data("{\"id\":\"\(id)\"}".utf8), headers: [("Content-Type", "application/json")])
            guard revoked.status == 201 else { throw BenchError.scenario("revoke answered \(revoked.status)") }
            while try reason() != "revoked" {
                guard Double(now() - started) / 1e9 < 10 else { throw BenchError.scenario("a revocation did not arrive within 10 s") }
            }
            times.append(Double(now() - started) / 1e6)
        }
        return times.sorted()
    }
}
