import ArgumentParser
import AuthorityCore
import AuthorityTesting
import Foundation
import Glibc

/// Loads a real `authorityd` over its Unix socket and reports, per scenario, throughput, latency,
/// the daemon's CPU per operation and its memory, next to raw libsodium measured in the same run
/// (BENCHMARKS.md).
@main
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "authority-bench",
        abstract: "Benchmarks a real authorityd (release build) over its Unix socket; see BENCHMARKS.md.")

    @Option(help: "The authorityd binary (default: beside this one).")
    var daemon: String?

    @Option(help: "Keep-alive connections to the daemon.")
    var connections = 64

    @Option(help: "Distinct links per unique-link scenario (each link is checked once).")
    var links = 40_000

    @Option(help: "Seconds per repeated-link scenario and per baseline loop.")
    var seconds = 5.0

    @Option(parsing: .upToNextOption, help: "Sizes of the revocation list for the check scenarios.")
    var revocations: [Int] = [10_000, 1_000_000]

    @Option(name: .customLong("held-connections"), help: "Connections uid 65534 holds (idle, then slowloris) in the held-connections scenarios.")
    var heldConnections = 2_000

    @Option(help: "Write the markdown report here as well as to stdout.")
    var output: String?

    @Option(help: "Work directory (default: a new /tmp/authority-bench-XXXXXXXX, removed afterwards).")
    var directory: String?

    @Option(
        name: .customLong("daemon-arg"),
        help: "An extra authorityd argument, repeatable; flags take the = form: --daemon-arg=--event-loops --daemon-arg=1.")
    var daemonArguments: [String] = []

    @Flag(help: "Skip the nginx static-file reference even when nginx is installed.")
    var noNginx = false

    @Flag(help: "A quick run with small sizes that checks the tool works (CI); its figures mean little.")
    var smoke = false

    @Option(
        name: .customLong("bundle-sizes"),
        help: "Run only the revocation-bundle scenarios (and raw libsodium), at these revoked-id counts: comma-separated, ascending, at least 100 apart (e.g. 0,1000,10000,100000,1000000). --smoke adds them at 0,1000.")
    var bundleSizes: BundleSizes?

    @Option(name: .customLong("event-links"), help: "One-use links checked one at a time in the event delivery scenario.")
    var eventLinks = 1_000

    @Option(help: "Run only the fleet scenarios (and raw libsodium) with this many daemons on a PostgreSQL cluster of the run's own (2 to 16). --smoke adds them with 2.")
    var fleet: Int?

    mutating func validate() throws {
        if let fleet, !(2...16).contains(fleet) { throw ValidationError("--fleet must be 2 to 16") }
        guard (1...4096).contains(connections) else { throw ValidationError("--connections must be 1 to 4096") }
        guard (1...10_000_000).contains(links) else { throw ValidationError("--links must be 1 to 10000000") }
        guard (1...20_000).contains(heldConnections) else { throw ValidationError("--held-connections must be 1 to 20000") }
        guard (1...100_000).contains(eventLinks) else { throw ValidationError("--event-links must be 1 to 100000") }
        guard seconds > 0, seconds <= 3600 else { throw ValidationError("--seconds must be above 0 and at most 3600") }
        guard revocations.allSatisfy({ (1...100_000_000).contains($0) }), revocations == revocations.sorted() else {
            throw ValidationError("--revocations must be increasing counts from 1 to 100000000")
        }
        if smoke {
            links = min(links, 400)
            seconds = min(seconds, 0.5)
            revocations = [1_000, 10_000]
            heldConnections = min(heldConnections, 20)
            eventLinks = min(eventLinks, 50)
        }
        let binary = daemon ?? Fixtures.executable(named: "authorityd")
        guard FileManager.default.isExecutableFile(atPath: binary) else {
            throw ValidationError("no authorityd at \(binary); build it with swift build -c release --product authorityd, or pass --daemon")
        }
        daemon = binary
    }

    func run() throws {
        signal(SIGPIPE, SIG_IGN)  // a closed connection is an error to report, not a reason to die
        stopDaemonOnInterrupt()
        // The given directory is kept; a temporary one is removed afterwards.
        let temporary = directory == nil ? try TemporaryDirectory("authority-bench") : nil
        defer { temporary?.remove() }
        guard let work = directory ?? temporary?.path else { return }
        var report = Report(
            command: CommandLine.arguments.joined(separator: " "), machine: machineDescription(), connections: connections)
        let bench = Runner(
            daemon: BenchDaemon(executable: daemon!, directory: work, extraArguments: daemonArguments),
            driverConnections: connections, links: links, seconds: seconds, revocationSizes: revocations,
            heldConnections: heldConnections, eventLinks: eventLinks, bundleSizes: bundleSizes?.sizes ?? (smoke ? [0, 1_000] : []),
            bundleOnly: bundleSizes != nil, smoke: smoke, fleet: fleet ?? (smoke ? 2 : nil), fleetOnly: fleet != nil,
            nginx: noNginx ? nil : StaticNginx(directory: work + "/nginx"))
        defer { try? bench.daemon.stop() }
        try bench.run(into: &report)
        let text = report.markdown()
        print(text)
        if let output { try text.write(toFile: output, atomically: true, encoding: .utf8) }
        if !report.failures.isEmpty {
            throw BenchError.scenario("wrong answers: " + report.failures.joined(separator: "; "))
        }
    }
}

/// The scenarios, in order (BENCHMARKS.md explains each).
struct Runner {
    let daemon: BenchDaemon
    let driverConnections: Int
    let links: Int
    let seconds: Double
    let revocationSizes: [Int]
    let heldConnections: Int
    /// One-use links of the event delivery scenario.
    let eventLinks: Int
    /// The revocation-bundle scenarios' sizes (none: not run) and whether they run alone.
    let bundleSizes: [Int]
    let bundleOnly: Bool
    let smoke: Bool
    /// The fleet scenarios' daemon count (nil: not run), and whether they run alone.
    let fleet: Int?
    let fleetOnly: Bool
    let nginx: StaticNginx?

    var driver: LoadDriver { LoadDriver(socketPath: daemon.socketPath, connections: driverConnections) }

    func log(_ text: String) {
        FileHandle.standardError.write(Data("authority-bench: \(text)\n".utf8))
    }

    func run(into report: inout Report) throws {
        log("raw libsodium")
        report.sodiumBefore = RawSodium.measure(seconds: min(seconds, 2))
        if fleetOnly {
            try runFleet(into: &report)
            log("raw libsodium again")
            report.sodiumAfter = RawSodium.measure(seconds: min(seconds, 2))
            return
        }
        if bundleOnly {
            try runBundle(into: &report)
            log("raw libsodium again")
            report.sodiumAfter = RawSodium.measure(seconds: min(seconds, 2))
            return
        }
        log("one-row durable commits")
        report.commitsPerSecond = try oneRowCommitsPerSecond(directory: daemon.directory, seconds: min(seconds, 3))

        log("start (empty state)")
        report.startups.append(("empty state", try daemon.start(), try ProcessSample.of(daemon.pid).rssMiB))

        // Links for every unique-link scenario, issued in one measured run.
        let sets = ["forward-auth", "check", "half-peak"] + revocationSizes.map { "check-\($0)" }
        log("issue \(sets.count * links) links")
        var urls: [String] = []
        urls.reserveCapacity(sets.count * links)
        try measure("issue (POST /v1/links)", kind: .issue, count: sets.count * links, into: &report, request: {
            Requests.issue(resource: "/bench/u/\($0)")
        }) { _, answer in
            guard answer.status == 201, let url = Requests.member("url", in: answer.text) else {
                return "issue answered \(answer.status): \(answer.text.prefix(200))"
            }
            urls.append(url)
            return nil
        }
        guard urls.count == sets.count * links else { throw BenchError.scenario("issued \(urls.count) links, wanted \(sets.count * links)") }
        let linkSet = { (name: String) -> ArraySlice<String> in
            let index = sets.firstIndex(of: name)!
            return urls[(index * links)..<((index + 1) * links)]
        }

        log("forward-auth, unique links")
        let forwardUnique = linkSet("forward-auth").map(Requests.forwardAuth)
        try measure("forward-auth (GET /v1/auth/nginx), unique links", kind: .forwardAuthUnique, count: links, into: &report,
                    request: { forwardUnique[$0] }, check: Self.expect(204))

        log("check, unique links")
        let checkUnique = linkSet("check").map(Requests.check)
        let peak = try measure("check (POST /v1/links/check), unique links", kind: .checkUnique, count: links,
                               into: &report, request: { checkUnique[$0] }, check: Self.expectValid)

        log("check at half of peak throughput")
        let halfPeak = linkSet("half-peak").map(Requests.check)
        try measure("check, unique links, at half of peak (\(Int(peak / 2))/s)", kind: .halfPeak, count: links,
                    seconds: 4 * seconds, pacing: .rate(peak / 2), into: &report, request: { halfPeak[$0] },
                    check: Self.expectValid)

        log("check, one link repeated")
        let one = Requests.check(url: urls[links])
        try measure("check, one link repeated (cache hit)", kind: .checkRepeated, count: .max, seconds: seconds,
                    into: &report, request: { _ in one }, check: Self.expectValid)

        for mode in [ConnectionHolder.Mode.idle, .slowloris] {
            log("check, one link repeated, \(heldConnections) \(mode.rawValue) connections held by uid 65534")
            try measureHeld(mode, request: one, into: &report)
        }

        log("forward-auth, one link repeated")
        let oneForward = Requests.forwardAuth(url: urls[0])
        try measure("forward-auth, one link repeated (cache hit)", kind: .forwardAuthRepeated, count: .max,
                    seconds: seconds, into: &report, request: { _ in oneForward }, check: Self.expect(204))

        log("the HTTP floor")
        let floor = Requests.get("/v1/auth/nginx")
        try measure("floor: GET /v1/auth/nginx without headers (HTTP, routing, 401; no parse, no verify)", kind: .floor,
                    count: .max, seconds: seconds, into: &report, request: { _ in floor }, check: Self.expect(401))

        if let nginx {
            log("nginx static file")
            try nginx.start()
            defer { nginx.stop() }
            let driver = LoadDriver(socketPath: nginx.socketPath, connections: driverConnections)
            let file = Requests.get("/file.txt")
            let before = try ProcessSample.of(nginx.pids)
            let run = try driver.run(count: .max, seconds: seconds, request: { _ in file }, check: Self.expect(200))
            let after = try ProcessSample.of(nginx.pids)
            report.add(Measurement(name: "nginx: static file over a Unix socket (reference)", kind: .nginx, run: run,
                                   cpuPerOperation: (after.cpuSeconds - before.cpuSeconds) / Double(max(run.completed, 1)),
                                   rssMiB: after.rssMiB))
        }

        var listed = 0
        for size in revocationSizes {
            log("\(size) revocations")
            // Through the API (every row sealed as the daemon seals it), then a restart to time
            // loading them.
            let first = listed
            let fill = try driver.run(count: size - listed, seconds: 3_600, request: { index in
                let serial = first + index
                return serial % 100 == 99
                    ? Requests.revoke(prefix: "/bench/revoked/\(serial)/") : Requests.revoke(id: LinkID.random().description)
            }) { _, answer in answer.status == 201 ? nil : "revoke answered \(answer.status)" }
            guard fill.failures == 0 else { throw BenchError.scenario("filling revocations: \(fill.firstFailure ?? "")") }
            listed = size
            try daemon.stop()
            let startup = try daemon.start()
            report.startups.append(("\(size) revocations", startup, try ProcessSample.of(daemon.pid).rssMiB))
            let requests = linkSet("check-\(size)").map(Requests.check)
            try measure("check, unique links, \(size) revocations", kind: .checkRevoked(size), count: links,
                        into: &report, request: { requests[$0] }, check: Self.expectValid)
        }

        log("durable revocations")
        let ids = (0..<links).map { _ in Requests.revoke(id: LinkID.random().description) }
        try measure("durable revocations (POST /v1/revocations)", kind: .revocations, count: links, into: &report,
                    request: { ids[$0] }, check: Self.expect(201))

        log("one-time links for the uses scenario")
        var oneTime: [[UInt8]] = []
        oneTime.reserveCapacity(links)
        _ = try driver.run(count: links, seconds: 3_600, request: { Requests.issue(resource: "/bench/once/\($0)", maxUses: 1) }) {
            _, answer in
            guard answer.status == 201, let url = Requests.member("url", in: answer.text) else { return "issue: \(answer.status)" }
            oneTime.append(Requests.check(url: url))
            return nil
        }
        guard oneTime.count == links else { throw BenchError.scenario("issued \(oneTime.count) one-time links, wanted \(links)") }
        log("durable uses")
        try measure("durable uses: one-time links consumed (POST /v1/links/check)", kind: .uses, count: links,
                    into: &report, request: { oneTime[$0] }) { _, answer in
            answer.status == 200 && answer.text.contains("\"valid\":true") && answer.text.contains("\"remaining_uses\":0")
                ? nil : "use answered \(answer.status): \(answer.text.prefix(200))"
        }

        report.finalRSS = try ProcessSample.of(daemon.pid).rssMiB
        // Last, so that its links and its stream change nothing the scenarios above measure.
        log("event delivery, \(eventLinks) one-use links")
        try EventBench(daemon: daemon, connections: driverConnections, links: eventLinks).run(into: &report)
        try daemon.stop()
        if !bundleSizes.isEmpty { try runBundle(into: &report) }
        if fleet != nil { try runFleet(into: &report) }
        log("raw libsodium again")
        report.sodiumAfter = RawSodium.measure(seconds: min(seconds, 2))
    }

    /// The revocation bundle's scenarios (BundleBench.swift), on a daemon and state of their own.
    func runBundle(into report: inout Report) throws {
        // With the daemon's default limits: a full bundle's content is shared by its answers and
        // passes --write-buffer-hard-limit (4 MiB), so 10^6 ids (16 MB) are delivered as they are.
        report.bundleDaemonArguments = daemon.extraArguments
        let bundleDaemon = BenchDaemon(
            executable: daemon.executable, directory: daemon.directory + "/bundle", extraArguments: daemon.extraArguments)
        try BundleBench(
            daemon: bundleDaemon, connections: driverConnections, sizes: bundleSizes,
            lookups: smoke ? 100_000 : 200_000, checks: smoke ? 500 : 2_000, rounds: smoke ? 1 : 10
        ).run(into: &report)
    }

    /// The fleet scenarios (FleetBench.swift), on daemons, a cluster and state of their own.
    func runFleet(into report: inout Report) throws {
        guard let fleet else { return }
        try FleetBench(
            executable: daemon.executable, directory: daemon.directory + "/fleet", daemons: fleet, connections: driverConnections,
            links: links, samples: smoke ? 5 : 50, seconds: min(seconds, 3), extraArguments: daemon.extraArguments
        ).run(into: &report)
    }

    /// One run against the daemon, with its CPU and memory read before and after.
    @discardableResult
    func measure(
        _ name: String, kind: Measurement.Kind, count: Int, seconds: Double = 3_600, pacing: Pacing = .closedLoop,
        into report: inout Report, request: (Int) -> [UInt8], check: (Int, Answer) -> String?
    ) throws -> Double {
        let pid = try daemon.pid
        let before = try ProcessSample.of(pid)
        let run = try driver.run(count: count, seconds: seconds, pacing: pacing, request: request, check: check)
        let after = try ProcessSample.of(pid)
        report.add(Measurement(
            name: name, kind: kind, run: run,
            cpuPerOperation: (after.cpuSeconds - before.cpuSeconds) / Double(max(run.completed, 1)), rssMiB: after.rssMiB))
        return run.throughput
    }

    /// The repeated check again while a helper running as uid 65534 holds `heldConnections`
    /// connections (idle, or slowloris dripping a header byte a second per connection, reconnecting
    /// whenever the daemon closes one): the load driver (root, another uid) must keep its latency.
    func measureHeld(_ mode: ConnectionHolder.Mode, request: [UInt8], into report: inout Report) throws {
        chmod(daemon.directory, 0o755)  // uid 65534 must reach the socket (mode 0666)
        let holder = try ConnectionHolder(
            socket: daemon.socketPath, count: heldConnections, mode: mode, reconnect: true, directory: daemon.directory)
        defer { holder.stop() }
        let opened = holder.wait(timeout: 60) { $0.open + $0.failed >= heldConnections }
        guard let opened, opened.open == heldConnections else {
            throw BenchError.scenario("uid 65534 held \(opened.map { "\($0)" } ?? "nothing") of \(heldConnections) \(mode) connections")
        }
        usleep(200_000)
        try measure("check, one link repeated, \(heldConnections) \(mode.rawValue) connections held by uid 65534",
                    kind: .held(mode.rawValue), count: .max, seconds: seconds, into: &report, request: { _ in request },
                    check: Self.expectValid)
        guard holder.report?.open == heldConnections else {
            throw BenchError.scenario("the held connections dropped during the run: \(String(describing: holder.report))")
        }
    }

    static func expect(_ status: Int) -> (Int, Answer) -> String? {
        { _, answer in answer.status == status ? nil : "expected \(status), got \(answer.status): \(answer.text.prefix(200))" }
    }

    static func expectValid(_: Int, _ answer: Answer) -> String? {
        answer.status == 200 && answer.text.contains("\"valid\":true")
            ? nil : "check answered \(answer.status): \(answer.text.prefix(200))"
    }
}
