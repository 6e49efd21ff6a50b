import AuthorityAPI
import Testing

@testable import authorityctl

/// Text for people: times in UTC, spans, aligned columns, and the tables the commands print.
@Suite struct FormatTests {
    @Test func timesAreUTC() {
        #expect(Format.utc(0) == "1970-01-01 00:00:00Z")
        #expect(Format.utc(1_796_119_200) == "2026-12-01 10:00:00Z")
        #expect(Format.utc(-1) == "1969-12-31 23:59:59Z")
        #expect(Format.utc(nil) == "-")
        #expect(Format.utc(nil, none: "never") == "never")
    }

    /// A daemon's answer may carry any Int64: a time gmtime cannot represent is shown as `@N`,
    /// and the largest one it can (year 2147485547) still prints.
    @Test(arguments: [Int64.max, Int64.min, 67_768_036_191_676_799, 67_768_036_191_676_800])
    func extremeTimesPrintWithoutTrapping(_ seconds: Int64) {
        let text = Format.utc(seconds)
        #expect(text == "@\(seconds)" || text.hasSuffix("Z"), "\(text)")
    }

    @Test(arguments: [
        (0, "0s"), (-5, "0s"), (45, "45s"), (60, "1m"), (180, "3m"), (898, "14m 58s"), (3_600, "1h"), (7_500, "2h 5m"),
        (7_530, "2h 5m"), (86_400, "1d"), (601_200, "6d 23h"),
    ] as [(Int64, String)])
    func spansShowTheTwoLargestUnits(_ seconds: Int64, _ text: String) {
        #expect(Format.span(seconds) == text)
    }

    @Test func relativeTimes() {
        #expect(Format.relative(100, now: 100) == "now")
        #expect(Format.relative(998, now: 100) == "in 14m 58s")
        #expect(Format.relative(100, now: 280) == "3m ago")
        #expect(Format.utcAndRelative(60, now: 0) == "1970-01-01 00:01:00Z (in 1m)")
    }

    /// Differences past Int64.max (an adversarial expiry against the daemon's clock) do not trap.
    @Test func extremeRelativeTimesDoNotTrap() {
        #expect(Format.relative(.min, now: 100) == "\(Format.span(.max)) ago")
        #expect(Format.relative(.max, now: -100) == "in \(Format.span(.max))")
        #expect(Format.span(.max) == "106751991167300d 15h")
    }

    @Test func tablesAlignColumnsWithoutTrailingSpaces() {
        let lines = Format.table(["A", "BB", "C"], [["xxx", "y", ""], ["z", "", "last"]], indent: "  ")
        #expect(lines == ["  A    BB  C", "  xxx  y", "  z        last"])
        #expect(Format.table([], []) == [""])
    }

    @Test func fieldsAlignTheirNames() {
        #expect(Format.fields([("id", "x"), ("expires", "y")]) == ["id       x", "expires  y"])
        #expect(Format.fields([]) == [])
    }

    @Test func keysTable() {
        let keys = [
            JSONWebKey(x: "k1", kid: "1", status: "verify_only", createdAt: 0, retireAfter: 3_600, retiredAt: nil),
            JSONWebKey(x: "k2", kid: "2", status: "active", createdAt: 60, retireAfter: nil, retiredAt: nil),
        ]
        #expect(Keys.table(keys) == [
            "EPOCH  STATUS       CREATED               RETIRE_AFTER          RETIRED",
            "1      verify_only  1970-01-01 00:00:00Z  1970-01-01 01:00:00Z  -",
            "2      active       1970-01-01 00:01:00Z  -                     -",
        ])
    }

    @Test func revocationsSayWhatTheyCover() {
        #expect(Revoke.covered(RevocationEntry(serial: 1, kind: "id", id: "abc", createdAt: 0)) == "link abc")
        #expect(
            Revoke.covered(RevocationEntry(serial: 2, kind: "prefix", prefix: "/p/", createdAt: 0))
                == "every request under /p/ (standing block)")
        #expect(
            Revoke.covered(RevocationEntry(serial: 3, kind: "issued_before", issuedBefore: 60, createdAt: 0))
                == "links issued before 1970-01-01 00:01:00Z under /")
        #expect(Revoke.covered(RevocationEntry(serial: 4, kind: "future_kind", createdAt: 0)) == "future_kind")
        let table = Revocations.List.table([
            RevocationEntry(serial: 7, kind: "id", id: "abc", reason: "leaked", createdAt: 0, createdByUID: 1000)
        ])
        #expect(table == [
            "SERIAL  KIND  COVERS    CREATED               BY_UID  REASON",
            "7       id    link abc  1970-01-01 00:00:00Z  1000    leaked",
        ])
    }

    /// The first failing check is marked and its detail follows on its own line.
    @Test func explainMarksTheFirstFailure() {
        let lines = Explain.checkLines([
            ExplainedCheck(name: "format", outcome: "pass", reason: "malformed", detail: nil, decisive: false),
            ExplainedCheck(name: "signature", outcome: "fail", reason: "bad_signature", detail: "changed", decisive: true),
            ExplainedCheck(name: "expiry", outcome: "skipped", reason: "expired", detail: "after a failure", decisive: false),
        ])
        #expect(lines == [
            "  ✓ format     pass",
            "  ✗ signature  fail     bad_signature  ← first failure",
            "               changed",
            "  - expiry     skipped  after a failure",
        ])
    }

    @Test func explainWithoutAGrantSaysSo() {
        let lines = Explain.render(
            ExplainLinkResponse(valid: false, reason: "malformed", grant: nil, signedMessage: nil, checks: [], now: 0))
        #expect(lines == [
            "verdict     refused: malformed", "grant       none: the link does not parse",
            "checked at  1970-01-01 00:00:00Z (the daemon's clock)", "", "checks:",
        ])
    }
}
