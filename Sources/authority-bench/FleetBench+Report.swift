import Foundation

/// What the fleet scenarios measured (FleetBench.swift).
struct FleetFigures {
    struct Uses {
        var connectionsPerDaemon: Int
        var completed = 0
        var perSecond = 0.0
        var p50 = 0.0
        var p99 = 0.0
        /// CPU seconds during the run: all daemons together, and PostgreSQL's processes.
        var daemonCPU = 0.0
        var postgresCPU = 0.0
    }

    struct Check {
        var perSecond = 0.0
        var cpuPerCheck = 0.0

        /// The median of each figure over rounds.
        static func median(_ rounds: [Check]) -> Check {
            func middle(_ values: [Double]) -> Double { values.isEmpty ? 0 : values.sorted()[values.count / 2] }
            return Check(perSecond: middle(rounds.map(\.perSecond)), cpuPerCheck: middle(rounds.map(\.cpuPerCheck)))
        }
    }

    var daemons: Int
    var pgbenchOne = 0.0
    var pgbenchMany = 0.0
    var uses = Uses(connectionsPerDaemon: 0)
    var fleetCheck = Check()
    var sqliteCheck = Check()
    var checkRounds = 0
    /// Milliseconds, sorted.
    var propagation: [Double] = []

}

extension Report {
    /// The fleet scenarios' table and the goals of issue #16.
    func fleetMarkdown() -> [String] {
        guard let f = fleet else { return [] }
        let ratio = f.sqliteCheck.cpuPerCheck > 0 ? f.fleetCheck.cpuPerCheck / f.sqliteCheck.cpuPerCheck : 0
        let verify = sodium.verify
        var lines: [String] = []
        lines.append("")
        lines.append("### Fleet mode (issue #16)")
        lines.append("")
        lines.append(
            "\(f.daemons) release daemons on one PostgreSQL cluster of the benchmark's own (Unix socket, fsync on, "
                + "synchronous_commit on), the same master key; the load driver runs in this process, one thread per daemon.")
        lines.append("")
        lines.append("| figure | measured | goal | holds |")
        lines.append("|---|---:|---:|---|")
        lines.append("| pgbench, one-row INSERT commits, 1 client (tps) | \(Int(f.pgbenchOne)) | reference | |")
        lines.append("| pgbench, one-row INSERT commits, \(f.daemons) clients (tps) | \(Int(f.pgbenchMany)) | reference | |")
        lines.append(
            "| durable uses over \(f.daemons) daemons (one-time links, \(f.uses.connectionsPerDaemon) connections each; /s) "
                + "| \(Int(f.uses.perSecond)) (p50 \(fixed(f.uses.p50, 1)) ms, p99 \(fixed(f.uses.p99, 1)) ms) | ≥ 10000 | \(f.uses.perSecond >= 10_000 ? "yes" : "no") |")
        let perUse = { (seconds: Double) in f.uses.completed > 0 ? micro(seconds / Double(f.uses.completed)) : "-" }
        lines.append(
            "| CPU per durable use: the daemons / PostgreSQL (µs) | \(perUse(f.uses.daemonCPU)) / \(perUse(f.uses.postgresCPU)) "
                + "(\(fixed(f.uses.daemonCPU / f.uses.completed.asDouble / verify, 1))× / \(fixed(f.uses.postgresCPU / f.uses.completed.asDouble / verify, 1))× raw verify) | | |")
        lines.append(
            "| revocation propagation, first daemon to another (\(f.propagation.count) links; ms) "
                + "| p50 \(fixed(quantile(0.5, of: f.propagation) ?? 0, 1)), p99 \(fixed(quantile(0.99, of: f.propagation) ?? 0, 1)), max \(fixed(f.propagation.last ?? 0, 1)) | ≤ 1000 "
                + "| \((f.propagation.last ?? .infinity) <= 1_000 ? "yes" : "no") |")
        lines.append(
            "| check CPU, unique links, median of \(f.checkRounds) alternating rounds: fleet daemon / SQLite daemon | \(micro(f.fleetCheck.cpuPerCheck)) µs / "
                + "\(micro(f.sqliteCheck.cpuPerCheck)) µs = \(fixed(ratio, 2))× (\(fixed(f.fleetCheck.cpuPerCheck / verify, 1))× / "
                + "\(fixed(f.sqliteCheck.cpuPerCheck / verify, 1))× raw verify) | ≤ 1.05× | \(ratio <= 1.05 ? "yes" : "no") |")
        lines.append(
            "| check throughput, unique links: fleet / SQLite (/s) | \(Int(f.fleetCheck.perSecond)) / \(Int(f.sqliteCheck.perSecond)) | | |")
        return lines
    }
}

extension Int {
    fileprivate var asDouble: Double { Double(Swift.max(self, 1)) }
}
