import Foundation

extension Report {
    /// The bundle scenarios' tables and the goals of issue #15.
    func bundleMarkdown() -> [String] {
        guard !bundles.isEmpty else { return [] }
        var lines: [String] = []
        lines.append("")
        lines.append("### Revocation bundle (issue #15)")
        lines.append("")
        if !bundleDaemonArguments.isEmpty {
            lines.append("The scenarios' daemon ran with `\(bundleDaemonArguments.joined(separator: " "))`.")
            lines.append("")
        }
        lines.append(
            "Daemon side, wall time of one answer over the Unix socket (build: the first answer after the fill; cached: median of 5 more; "
                + "delta: `?since=` the full bundle's serial after 100 more revocations, first and second answer; freshness: median of 21):")
        lines.append("")
        lines.append(
            "| revoked ids | rules | full bytes | build ms | build CPU ms | cached ms | cached CPU ms | JSON bytes | JSON ms "
                + "| delta 100 bytes | delta JSON bytes | delta ms | delta cached ms | freshness bytes (JSON) | freshness ms | fill/s |")
        lines.append("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        for b in bundles {
            let rate = b.fillSeconds > 0 ? String(Int(Double(b.filled) / b.fillSeconds)) : "-"
            lines.append(
                "| \(b.ids) | \(b.rules) | \(b.fullBytes) | \(fixed(b.buildSeconds * 1e3, 1)) | \(fixed(b.buildCPUSeconds * 1e3, 0)) "
                    + "| \(fixed(b.cachedSeconds * 1e3, 1)) | \(fixed(b.cachedCPUSeconds * 1e3, 0)) | \(b.jsonBytes) | \(fixed(b.jsonSeconds * 1e3, 1)) "
                    + "| \(b.deltaBytes) | \(b.deltaJSONBytes) | \(fixed(b.deltaSeconds * 1e3, 1)) | \(fixed(b.deltaCachedSeconds * 1e3, 1)) "
                    + "| \(b.freshnessBytes) (\(b.freshnessJSONBytes)) | \(fixed(b.freshnessSeconds * 1e3, 3)) | \(rate) |")
        }
        lines.append("")
        lines.append(
            "Edge side, in this process (AuthorityCore `BundleObject(binary:)`, `BundleHolder`; parse and accept: wall time, once; "
                + "lookups (`isRevoked`, one in eight present) and checks (`BundleHolder.check` of a valid link, Ed25519 verify included): "
                + "thread CPU time, in \(bundles.first.map { "\($0.rounds)" } ?? "") rounds over every size in turn, medians; "
                + "raw libsodium verify of the same run: \(micro(sodium.verify)) µs):")
        lines.append("")
        lines.append("| revoked ids | parse ms | accept ms | delta accept ms | lookup ns | lookups | check µs | × raw verify | checks |")
        lines.append("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        for b in bundles {
            lines.append(
                "| \(b.ids) | \(fixed(b.parseSeconds * 1e3, 2)) | \(fixed(b.acceptSeconds * 1e3, 2)) | \(fixed(b.deltaAcceptSeconds * 1e3, 2)) "
                    + "| \(fixed(b.lookupNanoseconds, 1)) | \(b.lookups) | \(fixed(b.checkSeconds * 1e6, 1)) "
                    + "| \(fixed(b.checkSeconds / sodium.verify, 2)) | \(b.checks) |")
        }
        lines.append("")
        lines.append("| goal (issue #15) | measured | goal | holds |")
        lines.append("|---|---|---|---|")
        for target in bundleTargets() {
            lines.append("| \(target.name) | \(target.measured) | \(target.goal) | \(target.holds.map { $0 ? "yes" : "**no**" } ?? "not measured") |")
        }
        return lines
    }

    func bundleTargets() -> [Target] {
        var targets: [Target] = []
        if let large = bundles.last(where: { $0.ids >= 1_000_000 }) {
            targets.append(Target(
                name: "full bundle with \(large.ids) ids: size", measured: "\(large.fullBytes) bytes (\(fixed(Double(large.fullBytes) / 1e6, 2)) MB)",
                goal: "≤ 17 MB", holds: large.fullBytes <= 17_000_000))
            targets.append(Target(
                name: "full bundle with \(large.ids) ids: built (first answer after the change)",
                measured: "\(fixed(large.buildSeconds, 3)) s wall, \(fixed(large.buildCPUSeconds, 2)) s daemon CPU",
                goal: "≤ 1 s", holds: large.buildSeconds <= 1))
        } else {
            targets.append(Target(name: "full bundle with 10^6 ids: size and build", measured: "-", goal: "≤ 17 MB, ≤ 1 s", holds: nil))
        }
        if let largest = bundles.max(by: { $0.deltaBytes < $1.deltaBytes }) {
            targets.append(Target(
                name: "delta of 100 revocations (binary), largest of every size", measured: "\(largest.deltaBytes) bytes (at \(largest.ids) ids)",
                goal: "≤ 2 KB (2048 bytes)", holds: largest.deltaBytes <= 2_048))
        }
        if let small = bundles.first, let large = bundles.last, bundles.count > 1, small.checkSeconds > 0 {
            let ratio = large.checkSeconds / small.checkSeconds
            targets.append(Target(
                name: "edge check with \(large.ids) ids vs \(small.ids)",
                measured: "\(fixed(large.checkSeconds * 1e6, 1)) µs vs \(fixed(small.checkSeconds * 1e6, 1)) µs = \(fixed(ratio, 3)) ×",
                goal: "flat: ≤ 1.05 ×", holds: ratio <= 1.05))
            targets.append(Target(
                name: "edge id lookup with \(large.ids) ids vs \(small.ids)",
                measured: "\(fixed(large.lookupNanoseconds, 1)) ns vs \(fixed(small.lookupNanoseconds, 1)) ns = "
                    + "\(fixed(large.lookupNanoseconds / max(large.checkSeconds * 1e9, 1) * 100, 2)) % of a check",
                goal: "≤ 5 % of a check", holds: large.lookupNanoseconds <= 0.05 * large.checkSeconds * 1e9))
        }
        return targets
    }
}
