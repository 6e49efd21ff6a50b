import Testing

@testable import authorityctl

/// The values options take: durations and points in time. A wrong parse issues a link for the
/// wrong lifetime, so every refusal here is a link that is not issued.
@Suite struct ArgumentTests {
    @Test(arguments: [
        ("90s", 90), ("15m", 900), ("1h", 3_600), ("1h30m", 5_400), ("7d", 604_800), ("2w", 1_209_600),
        ("1d1s", 86_401), ("900", 900), ("1m60s", 120),
    ] as [(String, Int64)])
    func durationsParse(_ text: String, _ seconds: Int64) {
        #expect(DurationArgument(argument: text)?.seconds == seconds)
    }

    /// Zero, negative, unknown units, trailing digits, spaces, fractions, non-ASCII digits, more
    /// than 12 digits per unit, and sums past Int64.max: refused, never trapped.
    @Test(arguments: [
        "", "0", "0s", "-5", "5x", "h", "1h30", "1.5h", "\u{0663}s", "1234567890123s", " 5s", "5 s", "5S",
        String(repeating: "999999999999w", count: 16), "99999999999999999999",
    ])
    func badDurationsAreRefused(_ text: String) {
        #expect(DurationArgument(argument: text) == nil, "\(text)")
    }

    @Test func theDefaultDurationIsShownWithoutSpaces() {
        #expect(DurationArgument(seconds: 900).defaultValueDescription == "15m")
        #expect(DurationArgument(seconds: 5_400).defaultValueDescription == "1h30m")
    }

    @Test(arguments: [
        ("1796119200", 1_796_119_200), ("2026-12-01T10:00:00Z", 1_796_119_200), ("2026-12-01t10:00:00z", 1_796_119_200),
        ("2026-12-01 10:00:00Z", 1_796_119_200), ("2026-12-01T10:00:00.75Z", 1_796_119_200),
        ("2026-12-01T11:00:00+01:00", 1_796_119_200), ("2026-12-01T08:30:00-01:30", 1_796_119_200),
        ("2024-02-29T00:00:00Z", 1_709_164_800), ("2016-12-31T23:59:60Z", 1_483_228_799),
    ] as [(String, Int64)])
    func timesParse(_ text: String, _ seconds: Int64) {
        #expect(TimeArgument(argument: text)?.unixSeconds == seconds, "\(text)")
    }

    /// Dates that do not exist (timegm would roll them over), out-of-range fields, a missing or
    /// impossible offset, words, and digit strings too long to be seconds.
    @Test(arguments: [
        "", "tomorrow", "-1", "2026-02-30T10:00:00Z", "2025-02-29T00:00:00Z", "2026-13-01T00:00:00Z",
        "2026-12-01T24:00:00Z", "2026-12-01T10:60:00Z", "2026-12-01T10:00:61Z", "2026-12-01T10:00:00",
        "2026-12-01T10:00:00+24:00", "2026-12-01T10:00:00+01", "2026-12-01T10:00:00.Z", "2026-12-01T10:00:00Zjunk",
        "2026-12-01", "1234567890123456789", "\u{0661}796119200",
    ])
    func badTimesAreRefused(_ text: String) {
        #expect(TimeArgument(argument: text) == nil, "\(text)")
    }
}
