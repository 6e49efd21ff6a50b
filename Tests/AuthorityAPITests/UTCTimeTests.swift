import AuthorityAPI
import Testing

/// The one time formatter of the daemon's messages and authorityctl's output.
@Suite struct UTCTimeTests {
    @Test func writesRFC3339InUTC() {
        #expect(UTCTime.rfc3339(0) == "1970-01-01T00:00:00Z")
        #expect(UTCTime.rfc3339(1_764_392_400) == "2025-11-29T05:00:00Z")
        #expect(UTCTime.rfc3339(1_764_392_400, separator: " ") == "2025-11-29 05:00:00Z")
        #expect(UTCTime.rfc3339(-1) == "1969-12-31T23:59:59Z")
    }

    /// Every Int64 is written without a trap: years past Int32 after 1900 is added, and times the C
    /// library cannot break down (`@seconds`).
    @Test(arguments: [Int64.max, Int64.min, 67_768_036_191_676_799, 67_768_036_191_676_800, -67_768_040_609_740_800])
    func extremeTimesNeverTrap(_ seconds: Int64) {
        let text = UTCTime.rfc3339(seconds)
        #expect(text.hasSuffix("Z") || text == "@\(seconds)", "\(text)")
    }
}
