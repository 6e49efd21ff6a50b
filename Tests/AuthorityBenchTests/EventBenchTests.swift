import Testing

@testable import authority_bench

/// The event delivery scenario's pure part: how figures are summarised (the stream decoder is
/// AuthorityAPI's, tested in EventStreamDecoderTests).
@Suite struct EventBenchTests {
    @Test func framesBeforeTheirAnswerCountAsZero() {
        var figures = EventFigures(links: 4)
        figures.delivery = [2_000_000, -500_000, 1_000_000, 3_000_000]
        figures.received = 12
        figures.expected = 12
        figures.usedUpReceived = 4
        #expect(figures.clampedMilliseconds == [0, 1, 2, 3])
        #expect(figures.framesFirst == 1)
        #expect(figures.complete)
        figures.received = 11
        #expect(!figures.complete)
    }

    @Test func aSkippedScenarioSaysWhy() {
        var report = Report(command: "", machine: "", connections: 1)
        var figures = EventFigures(links: 10)
        figures.skipped = "GET /v1/events answered 404"
        report.events = figures
        #expect(report.eventMarkdown().contains("Skipped: GET /v1/events answered 404."))
    }
}
