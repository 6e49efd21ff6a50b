import Foundation

/// One scenario's figures.
struct Measurement {
    enum Kind: Equatable {
        case issue, forwardAuthUnique, checkUnique, halfPeak, checkRepeated, forwardAuthRepeated, floor, nginx
        case checkRevoked(Int)
        case revocations, uses
        /// The repeated check while uid 65534 holds connections (idle or slowloris).
        case held(String)
    }

    var name: String
    var kind: Kind
    var run: RunResult
    /// Server CPU seconds per operation.
    var cpuPerOperation: Double
    var rssMiB: Double
}

/// Everything one run measured, and the targets of issue #7 judged against it.
struct Report {
    var command: String
    var machine: String
    var connections: Int
    var date = ISO8601DateFormatter().string(from: Date())
    var sodiumBefore = RawSodium(sign: 0, verify: 0)
    var sodiumAfter: RawSodium?
    var commitsPerSecond = 0.0
    /// (state, seconds to the first healthy answer, RSS MiB right after).
    var startups: [(String, Double, Double)] = []
    var measurements: [Measurement] = []
    var finalRSS = 0.0
    /// The revocation bundle's scenarios, one per size (BundleBench.swift).
    var bundles: [BundleFigures] = []
    /// The extra arguments of the bundle scenarios' daemon.
    var bundleDaemonArguments: [String] = []
    var failures: [String] = []
    /// The fleet scenarios (FleetBench.swift), when run.
    var fleet: FleetFigures?
    /// The event delivery scenario (EventBench.swift), when run.
    var events: EventFigures?

    mutating func add(_ measurement: Measurement) {
        measurements.append(measurement)
        if measurement.run.failures > 0 {
            failures.append("\(measurement.name): \(measurement.run.failures) (first: \(measurement.run.firstFailure ?? "?"))")
        }
    }

    /// The raw figures the ratios use: the mean of the loops before and after the scenarios.
    var sodium: RawSodium {
        guard let after = sodiumAfter else { return sodiumBefore }
        return RawSodium(sign: (sodiumBefore.sign + after.sign) / 2, verify: (sodiumBefore.verify + after.verify) / 2)
    }

    func first(_ kind: Measurement.Kind) -> Measurement? { measurements.first { $0.kind == kind } }

    func markdown() -> String {
        var lines: [String] = []
        lines.append("## authority-bench, \(date)")
        lines.append("")
        lines.append("- machine: \(machine)")
        lines.append("- command: `\(command)`")
        lines.append("- load: \(connections) keep-alive connections over the Unix socket, one epoll client thread")
        lines.append(
            "- raw libsodium, one thread: sign \(micro(sodiumBefore.sign)) µs, verify \(micro(sodiumBefore.verify)) µs before the scenarios"
                + (sodiumAfter.map { "; sign \(micro($0.sign)) µs, verify \(micro($0.verify)) µs after" } ?? "")
                + " (ratios use the mean)")
        if !measurements.isEmpty { lines += scenarioMarkdown() }
        lines += eventMarkdown()
        lines += bundleMarkdown()
        lines += fleetMarkdown()
        if !failures.isEmpty {
            lines.append("")
            lines.append("**Wrong answers:** " + failures.joined(separator: "; "))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The check, issue and write scenarios, start-ups and the targets of issue #7.
    func scenarioMarkdown() -> [String] {
        var lines: [String] = []
        lines.append("- one-row durable commits (SQLite WAL, synchronous=FULL, one thread): \(Int(commitsPerSecond))/s")
        lines.append("")
        lines.append("| scenario | requests | per second | p50 ms | p99 ms | p99.9 ms | server CPU µs/op | × raw verify | × raw sign | RSS MiB |")
        lines.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        for m in measurements {
            let sorted = m.run.latencies.sorted()
            lines.append(
                "| \(m.name) | \(m.run.completed) | \(Int(m.run.throughput)) | \(fixed(m.run.latency(0.5, sorted: sorted), 3)) | "
                    + "\(fixed(m.run.latency(0.99, sorted: sorted), 3)) | \(fixed(m.run.latency(0.999, sorted: sorted), 3)) | "
                    + "\(fixed(m.cpuPerOperation * 1e6, 1)) | \(fixed(m.cpuPerOperation / sodium.verify, 2)) | "
                    + "\(fixed(m.cpuPerOperation / sodium.sign, 2)) | \(fixed(m.rssMiB, 1)) |")
        }
        lines.append("")
        lines.append("| start-up | seconds to first healthy answer | RSS MiB |")
        lines.append("|---|---:|---:|")
        for (state, seconds, rss) in startups { lines.append("| \(state) | \(fixed(seconds, 3)) | \(fixed(rss, 1)) |") }
        lines.append("")
        lines.append("| target (issue #7) | measured | goal | holds |")
        lines.append("|---|---|---|---|")
        for target in targets() {
            lines.append("| \(target.name) | \(target.measured) | \(target.goal) | \(target.holds.map { $0 ? "yes" : "**no**" } ?? "not measured") |")
        }
        return lines
    }

    struct Target {
        var name: String
        var measured: String
        var goal: String
        var holds: Bool?
    }

    func targets() -> [Target] {
        var targets: [Target] = []
        func ratio(_ kind: Measurement.Kind, to limit: Double, _ name: String, goal: Double, limitName: String) {
            guard let m = first(kind) else { return targets.append(Target(name: name, measured: "-", goal: "", holds: nil)) }
            let value = m.cpuPerOperation / limit
            targets.append(Target(
                name: name, measured: "\(fixed(m.cpuPerOperation * 1e6, 1)) µs = \(fixed(value, 2)) × \(limitName)",
                goal: "≤ \(fixed(goal, 2)) × \(limitName)", holds: value <= goal))
        }
        ratio(.forwardAuthUnique, to: sodium.verify, "forward-auth, unique links: CPU per check", goal: 1.3, limitName: "raw verify")
        ratio(.checkUnique, to: sodium.verify, "check, unique links: CPU per check", goal: 1.5, limitName: "raw verify")
        ratio(.forwardAuthRepeated, to: sodium.verify, "forward-auth, repeated link: CPU per check", goal: 0.5, limitName: "raw verify")
        if let nginx = first(.nginx), let repeated = first(.forwardAuthRepeated) {
            let value = repeated.cpuPerOperation / nginx.cpuPerOperation
            targets.append(Target(
                name: "forward-auth, repeated link: CPU per check vs nginx static file",
                measured: "\(fixed(repeated.cpuPerOperation * 1e6, 1)) µs vs \(fixed(nginx.cpuPerOperation * 1e6, 1)) µs = \(fixed(value, 2)) ×",
                goal: "≤ 1.5 × nginx", holds: value <= 1.5))
        } else {
            targets.append(Target(name: "forward-auth, repeated link vs nginx static file", measured: "-", goal: "≤ 1.5 × nginx", holds: nil))
        }
        ratio(.issue, to: sodium.sign, "issue: CPU per issue", goal: 2.5, limitName: "raw sign")
        if let half = first(.halfPeak) {
            let p99 = half.run.latency(0.99, sorted: half.run.latencies.sorted())
            targets.append(Target(name: "check: p99 latency at half of peak throughput", measured: "\(fixed(p99, 3)) ms",
                                  goal: "< 1 ms", holds: p99 < 1))
        }
        if let none = first(.checkUnique),
            let largest = measurements.last(where: { if case .checkRevoked = $0.kind { true } else { false } }),
            case .checkRevoked(let size) = largest.kind
        {
            let value = largest.cpuPerOperation / none.cpuPerOperation
            targets.append(Target(
                name: "check CPU with \(size) revocations vs none",
                measured: "\(fixed(largest.cpuPerOperation * 1e6, 1)) µs vs \(fixed(none.cpuPerOperation * 1e6, 1)) µs = \(fixed(value, 3)) ×",
                goal: "≤ 1.05 ×", holds: value <= 1.05))
        }
        if let (state, seconds, rss) = startups.last, startups.count > 1 {
            targets.append(Target(name: "RSS with \(state)", measured: "\(fixed(rss, 1)) MiB after start, \(fixed(finalRSS, 1)) MiB at the end",
                                  goal: "≤ 200 MiB", holds: max(rss, finalRSS) <= 200))
            targets.append(Target(name: "start-up with \(state)", measured: "\(fixed(seconds, 3)) s", goal: "< 2 s", holds: seconds < 2))
        }
        targets += heldTargets()
        for (kind, name) in [(Measurement.Kind.revocations, "durable revocations, \(connections) clients"),
                             (.uses, "durable uses, \(connections) clients")] {
            guard let m = first(kind) else { continue }
            let rate = m.run.throughput
            let factor = commitsPerSecond > 0 ? rate / commitsPerSecond : 0
            targets.append(Target(
                name: name, measured: "\(Int(rate))/s = \(fixed(factor, 2)) × \(Int(commitsPerSecond)) one-row commits/s",
                goal: "≥ 10000/s and ≥ 3 × commits", holds: rate >= 10_000 && factor >= 3))
        }
        return targets
    }
}

extension Report {
    /// Trust boundary (issue #12): connections held by a caller with no rights cost the others
    /// at most a doubling of p99, and memory proportionate to the connections.
    func heldTargets() -> [Target] {
        guard let unloaded = first(.checkRepeated) else { return [] }
        let base = unloaded.run.latency(0.99, sorted: unloaded.run.latencies.sorted())
        var targets: [Target] = []
        for m in measurements {
            guard case .held(let mode) = m.kind else { continue }
            let p99 = m.run.latency(0.99, sorted: m.run.latencies.sorted())
            targets.append(Target(
                name: "check p99 with \(mode) connections held by uid 65534 vs unloaded",
                measured: "\(fixed(p99, 3)) ms vs \(fixed(base, 3)) ms = \(fixed(p99 / base, 2)) ×", goal: "≤ 2 ×",
                holds: p99 <= 2 * base))
            targets.append(Target(
                name: "RSS with \(mode) connections held by uid 65534 vs unloaded",
                measured: "\(fixed(m.rssMiB, 1)) MiB vs \(fixed(unloaded.rssMiB, 1)) MiB", goal: "≤ unloaded + 64 MiB",
                holds: m.rssMiB <= unloaded.rssMiB + 64))
        }
        return targets
    }
}

func micro(_ seconds: Double) -> String { fixed(seconds * 1e6, 1) }

func fixed(_ value: Double, _ digits: Int) -> String { String(format: "%.\(digits)f", value) }
