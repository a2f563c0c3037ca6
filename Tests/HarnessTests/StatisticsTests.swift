import Testing
import Harness

@Suite("Statistics")
struct StatisticsTests {
    @Test func percentilesInterpolateBetweenClosestRanks() throws {
        let s = try #require(Summary([4, 1, 3, 2]))
        #expect(s.p50 == 2.5)
        #expect(s.min == 1 && s.max == 4 && s.mean == 2.5 && s.count == 4)
        #expect(abs(s.p90 - 3.7) < 1e-9)
        let one = try #require(Summary([7]))
        #expect(one.p50 == 7 && one.p99 == 7)
        #expect(Summary([]) == nil)
    }

    @Test func bootstrapIsReproducibleFromTheSeed() throws {
        let ws = [410.0, 412, 415, 408, 420, 411, 413, 409, 417, 414]
        let sse = [1071.0, 1060, 1090, 1085, 1050, 1075, 1068, 1080, 1062, 1077]
        let a = try #require(Comparison(baseline: "websocket", ws, candidate: "sse", sse, seed: 42))
        let b = try #require(Comparison(baseline: "websocket", ws, candidate: "sse", sse, seed: 42))
        #expect(a == b)
        #expect(abs(a.ratio - 1073 / 412.5) < 1e-9, "medians 1073 and 412.5")
        #expect(a.ci95.low <= a.ratio && a.ratio <= a.ci95.high)
        #expect(a.verdict.hasPrefix("websocket answered 2.6× sooner than sse (95% CI 2."))
        #expect(a.verdict.hasSuffix("p50 412 ms vs 1073 ms"))
    }

    @Test func overlappingSamplesGiveNoClearDifference() throws {
        let a = [10.0, 12, 11, 13, 9, 10, 12]
        let b = [11.0, 10, 12, 9, 13, 11, 10]
        let c = try #require(Comparison(baseline: "websocket", a, candidate: "sse", b))
        #expect(c.ci95.low < 1 && c.ci95.high > 1)
        #expect(c.verdict.hasPrefix("no clear difference"))
    }

    @Test func fasterCandidateIsNamedFirst() throws {
        let c = try #require(Comparison(baseline: "websocket", [100, 101, 99, 100], candidate: "sse", [50, 51, 49, 50]))
        #expect(c.verdict.hasPrefix("sse answered 2.0× sooner than websocket"))
    }

    @Test func tooFewValuesGiveNoComparison() {
        #expect(Comparison(baseline: "a", [1], candidate: "b", [1, 2]) == nil)
    }
}
