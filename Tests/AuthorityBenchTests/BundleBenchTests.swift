import AuthorityCore
import Testing

@testable import authority_bench

/// The bundle scenarios' pure parts: what sizes are run, what each fill adds, and how figures
/// are summarised and judged.
@Suite struct BundleBenchTests {
    @Test func sizesAreAscendingCountsAtLeast100Apart() {
        #expect(BundleSizes(argument: "0,1000,10000,100000,1000000")?.sizes == [0, 1_000, 10_000, 100_000, 1_000_000])
        #expect(BundleSizes(argument: " 0, 100 ")?.sizes == [0, 100])
        #expect(BundleSizes(argument: "5000")?.sizes == [5_000])
        for refused in ["", "1000,0", "0,99", "0,,100", "-1", "x", "0,10000001", "1000,1000"] {
            #expect(BundleSizes(argument: refused) == nil, "\(refused)")
        }
    }

    static func plan(haveIDs: Int, havePrefixes: Int, target: Int) -> (Int, Int) {
        let plan = BundleFillPlan(haveIDs: haveIDs, havePrefixes: havePrefixes, target: target)
        return (plan.ids, plan.prefixes)
    }

    @Test func aFillAddsTheMissingIdsAndOnePercentPrefixes() {
        #expect(Self.plan(haveIDs: 0, havePrefixes: 0, target: 0) == (0, 0))
        #expect(Self.plan(haveIDs: 0, havePrefixes: 0, target: 1_000) == (1_000, 10))
        // The previous size's delta added 100 ids already.
        #expect(Self.plan(haveIDs: 1_100, havePrefixes: 10, target: 10_000) == (8_900, 90))
        #expect(Self.plan(haveIDs: 200, havePrefixes: 1, target: 150) == (0, 0))
    }

    @Test func medianOfOddAndEvenCounts() {
        #expect(median([]) == 0)
        #expect(median([3, 1, 2]) == 2)
        #expect(median([4, 1, 3, 2]) == 2.5)
    }

    @Test func queriesMixPresentIdsOneInEight() throws {
        let present = (0..<50).map { _ in LinkID.random() }
        let queries = BundleBench.queries(count: 800, present: present[...])
        #expect(queries.ids.count == 800 && queries.hits == 100)
        #expect(queries.ids.filter(Set(present).contains).count == 100)
        #expect(BundleBench.queries(count: 10, present: []).hits == 0)
    }

    @Test func goalsAreJudgedOnTheLargestSize() throws {
        var report = Report(command: "", machine: "", connections: 1)
        report.sodiumBefore = RawSodium(sign: 20e-6, verify: 50e-6)
        var small = BundleFigures()
        small.checkSeconds = 60e-6
        small.lookupNanoseconds = 2
        small.deltaBytes = 1_800
        var large = BundleFigures()
        large.ids = 1_000_000
        large.fullBytes = 16_320_000
        large.buildSeconds = 1.2
        large.deltaBytes = 1_790
        large.checkSeconds = 61e-6
        large.lookupNanoseconds = 400
        report.bundles = [small, large]
        let targets = report.bundleTargets()
        #expect(targets.map(\.holds) == [true, false, true, true, true])
        #expect(report.markdown().contains("| 1000000 | 0 | 16320000 | 1200.0 |"))
    }
}
