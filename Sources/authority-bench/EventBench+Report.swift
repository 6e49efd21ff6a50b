import Foundation

/// What the event delivery scenario measured (EventBench.swift).
struct EventFigures {
    /// One-use links issued for the scenario.
    var links: Int
    /// Why the scenario did not run (a daemon without `/v1/events`), or nil.
    var skipped: String?
    /// The stream's `Last-Event-ID`: the last event kept before the checks.
    var startSerial: Int64 = 0
    /// Checks answered, and the seconds they took in all.
    var checked = 0
    var seconds = 0.0
    /// Events of the scenario's links received on the stream, and expected (three per use).
    var received = 0
    var expected = 0
    var usedUpReceived = 0
    /// Nanoseconds from a check's answer to its link's `used_up` frame, per link that got both;
    /// negative when the frame came first.
    var delivery: [Int64] = []
    /// Nanoseconds from sending a check to its whole answer.
    var roundTrips: [UInt64] = []
    /// used_up frames that came after the next check was sent.
    var overlapping = 0
    /// Daemon CPU seconds per use over the checks (the use, its events and their frames).
    var cpuPerUse = 0.0

    /// The delivery times with negative ones as 0, ascending, in milliseconds.
    var clampedMilliseconds: [Double] { delivery.map { Double(max($0, 0)) / 1e6 }.sorted() }

    /// Frames that came before their check's answer.
    var framesFirst: Int { delivery.filter { $0 < 0 }.count }

    /// Whether every expected event came, once.
    var complete: Bool { skipped == nil && received == expected && usedUpReceived == links && delivery.count == links }
}

extension Report {
    /// The event delivery scenario's table (issue #18).
    func eventMarkdown() -> [String] {
        guard let e = events else { return [] }
        var lines = ["", "### Event delivery (issue #18)", ""]
        if let skipped = e.skipped {
            lines.append("Skipped: \(skipped).")
            return lines
        }
        lines.append(
            "One `GET /v1/events` stream (`Accept: text/event-stream`, Unix socket) from `Last-Event-ID: \(e.startSerial)`; \(e.links) "
                + "one-use links issued beforehand, then checked one at a time (`POST /v1/links/check`, a keep-alive connection of its own), "
                + "one every \(Int(EventBench.interval * 1_000)) ms or right after the previous answer: delivery = arrival of the link's "
                + "`used_up` frame − arrival of the check's 200, both read by one polling thread (a frame that came first counts as 0).")
        lines.append("")
        lines.append("| figure | measured |")
        lines.append("|---|---:|")
        let sorted = e.clampedMilliseconds
        let q = { (p: Double) in fixed(quantile(p, of: sorted) ?? 0, 3) }
        lines.append("| events received / expected (first_used, used, used_up per link) | \(e.received) / \(e.expected)\(e.complete ? "" : " **missing or extra**") |")
        lines.append("| used_up frames received / expected | \(e.usedUpReceived) / \(e.links) |")
        lines.append("| delivery p50 / p90 / p99 / max (ms) | \(q(0.5)) / \(q(0.9)) / \(q(0.99)) / \(fixed(sorted.last ?? 0, 3)) |")
        lines.append("| frames that came before their answer (counted as 0) | \(e.framesFirst) of \(e.delivery.count) |")
        lines.append("| used_up frames that came after the next check was sent | \(e.overlapping) |")
        let trips = e.roundTrips.sorted()
        let trip = { (p: Double) in fixed(Double(quantile(p, of: trips) ?? 0) / 1e6, 3) }
        lines.append("| check round trip p50 / p99 (ms) | \(trip(0.5)) / \(trip(0.99)) |")
        lines.append("| checks, seconds in all (one at a time) | \(e.checked), \(fixed(e.seconds, 2)) |")
        lines.append(
            "| server CPU per use, its events streamed (µs) | \(micro(e.cpuPerUse)) = \(fixed(e.cpuPerUse / sodium.verify, 2)) × raw verify |")
        return lines
    }
}
