import Testing

@testable import authority_bench

/// The benchmark's own parts: a wrong parser or quantile would make every figure wrong.
@Suite struct LoadDriverTests {
    static func parse(_ text: String) throws -> (Answer, Int)? { try LoadDriver.parse(Array(text.utf8)) }

    @Test func completeAnswersAreCutAtTheirLength() throws {
        let two = "HTTP/1.1 204 No Content\r\ncontent-length: 0\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}"
        let (first, used) = try #require(try Self.parse(two))
        #expect(first.status == 204 && first.body.isEmpty)
        let (second, rest) = try #require(try LoadDriver.parse(Array(two.utf8.dropFirst(used))))
        #expect(second.status == 200 && second.text == "{}" && used + rest == two.utf8.count)
    }

    @Test func partialAnswersWaitForMoreBytes() throws {
        #expect(try Self.parse("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n{}") == nil)
        #expect(try Self.parse("HTTP/1.1 200 OK\r\nContent-Le") == nil)
        #expect(try Self.parse("") == nil)
    }

    @Test func somethingElseThanHTTPIsAnError() {
        #expect(throws: DriverError.self) { try Self.parse("SSH-2.0-OpenSSH_9.2\r\n\r\n") }
    }

    @Test func quantilesAreNearestRank() {
        let run = RunResult(completed: 1000, seconds: 1, latencies: (1...1000).map { UInt64($0) * 1_000_000 })
        let sorted = run.latencies.sorted()
        #expect(run.latency(0.5, sorted: sorted) == 500)
        #expect(run.latency(0.99, sorted: sorted) == 990)
        #expect(run.latency(0.999, sorted: sorted) == 999)
        #expect(RunResult().latency(0.99, sorted: []) == 0)
    }

    @Test func membersAreReadFromJSONAnswers() {
        #expect(Requests.member("url", in: #"{"epoch":1,"url":"/a?au_v=1&au_sig=x"}"#) == "/a?au_v=1&au_sig=x")
        #expect(Requests.member("url", in: #"{"url":"/a\"b"}"#) == nil)
        #expect(Requests.member("url", in: #"{"id":"x"}"#) == nil)
    }

    @Test func targetsAreJudgedFromTheFigures() {
        var report = Report(command: "test", machine: "test", connections: 64)
        report.sodiumBefore = RawSodium(sign: 20e-6, verify: 50e-6)
        report.commitsPerSecond = 3_000
        report.add(Measurement(
            name: "fa", kind: .forwardAuthUnique, run: RunResult(completed: 10, seconds: 1), cpuPerOperation: 60e-6, rssMiB: 1))
        report.add(Measurement(
            name: "uses", kind: .uses, run: RunResult(completed: 12_000, seconds: 1), cpuPerOperation: 1e-4, rssMiB: 1))
        let targets = Dictionary(uniqueKeysWithValues: report.targets().map { ($0.name, $0.holds) })
        #expect(targets["forward-auth, unique links: CPU per check"] == .some(true))  // 1.2 × ≤ 1.3 ×
        #expect(targets["check, unique links: CPU per check"] == .some(nil))  // not measured
        #expect(targets["durable uses, 64 clients"] == .some(true))  // 12,000/s = 4 × 3,000
    }
}
