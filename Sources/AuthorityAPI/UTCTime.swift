#if canImport(Glibc)
import Glibc
#endif

/// Unix seconds written as UTC, the one way the daemon's messages and authorityctl's output write
/// a time.
public enum UTCTime {
    /// `2026-11-29T05:00:00Z` (RFC 3339); with `separator: " "`, `2026-11-29 05:00:00Z`. A time
    /// the C library cannot break down is written `@seconds`.
    public static func rfc3339(_ seconds: Int64, separator: String = "T") -> String {
        var time = time_t(seconds)
        var parts = tm()
        guard gmtime_r(&time, &parts) != nil else { return "@\(seconds)" }
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        // As Int: tm_year may be Int32.max (the year 2147485547), and 1900 more does not fit.
        return "\(Int(parts.tm_year) + 1900)-\(two(parts.tm_mon + 1))-\(two(parts.tm_mday))\(separator)"
            + "\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec))Z"
    }
}
