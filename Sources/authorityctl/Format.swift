import AuthorityAPI

/// Text for people: times in UTC (`2026-11-29 05:00:00Z`), relative times, aligned columns.
enum Format {
    /// `2026-11-29 05:00:00Z`.
    static func utc(_ seconds: Int64) -> String { UTCTime.rfc3339(seconds, separator: " ") }

    /// A time in UTC, or `-` when there is none.
    static func utc(_ seconds: Int64?, none: String = "-") -> String { seconds.map { utc($0) } ?? none }

    /// `2026-11-29 05:00:00Z (in 14m 58s)`.
    static func utcAndRelative(_ seconds: Int64, now: Int64) -> String {
        "\(utc(seconds)) (\(relative(seconds, now: now)))"
    }

    /// `in 14m 58s`, `3m ago`, `now`.
    static func relative(_ seconds: Int64, now: Int64) -> String {
        if seconds == now { return "now" }
        // Any two Int64 from an answer: a difference past Int64.max shows as Int64.max.
        let (difference, overflow) = seconds > now
            ? seconds.subtractingReportingOverflow(now) : now.subtractingReportingOverflow(seconds)
        let text = span(overflow ? .max : difference)
        return seconds > now ? "in \(text)" : "\(text) ago"
    }

    /// A duration in its largest unit and the next one when not zero: `45s`, `14m 58s`, `3m`,
    /// `2h 5m`, `6d 23h`.
    static func span(_ seconds: Int64) -> String {
        let units: [(Int64, String)] = [(86_400, "d"), (3_600, "h"), (60, "m"), (1, "s")]
        let value = max(seconds, 0)
        guard let first = units.firstIndex(where: { value >= $0.0 }) else { return "0s" }
        let (size, name) = units[first]
        var text = "\(value / size)\(name)"
        if first + 1 < units.count {
            let (smaller, smallerName) = units[first + 1]
            let next = (value % size) / smaller
            if next > 0 { text += " \(next)\(smallerName)" }
        }
        return text
    }

    /// Rows aligned in columns under a header, two spaces apart; no trailing spaces.
    static func table(_ header: [String], _ rows: [[String]], indent: String = "") -> [String] {
        let all = [header] + rows
        let count = all.map(\.count).max() ?? 0
        var widths = [Int](repeating: 0, count: count)
        for row in all {
            for (index, cell) in row.enumerated() { widths[index] = max(widths[index], cell.count) }
        }
        return all.map { row in
            var line = indent
            for (index, cell) in row.enumerated() {
                line += index == row.count - 1 ? cell : cell.padding(toLength: widths[index] + 2)
            }
            while line.last == " " { line.removeLast() }
            return line
        }
    }

    /// `name  value` lines with the names aligned.
    static func fields(_ pairs: [(String, String)], indent: String = "") -> [String] {
        let width = pairs.map(\.0.count).max() ?? 0
        return pairs.map { indent + $0.0.padding(toLength: width + 2) + $0.1 }
    }
}

extension String {
    /// The string followed by spaces up to `length` characters (never cut).
    func padding(toLength length: Int) -> String {
        count >= length ? self : self + String(repeating: " ", count: length - count)
    }
}
