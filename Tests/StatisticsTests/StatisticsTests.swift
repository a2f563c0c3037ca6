import TestSupport
import Testing

@testable import Statistics
@testable import Storage
@testable import TTFASupport

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
        #expect(a.verdict.hasPrefix("websocket answered 660 ms sooner than sse, p50 412 vs 1073 ms (2.6×, 95% CI 2."))
    }

    @Test func aCloseVerdictStaysReadable() throws {
        let ws = [203.0, 203.4, 203.8, 203.2, 203.6, 203.4, 203.3, 203.5]
        let sse = [209.1, 209.5, 209.9, 209.3, 209.7, 209.5, 209.4, 209.6]
        let c = try #require(Comparison(baseline: "websocket", ws, candidate: "sse", sse))
        #expect(
            c.verdict.hasPrefix(
                "websocket answered 6.10 ms sooner than sse, p50 203.4 vs 209.5 ms (1.03×, 95% CI 1.03–1.03×)"),
            "\(c.verdict)")
    }

    @Test func overlappingSamplesGiveNoClearDifference() throws {
        let a = [10.0, 12, 11, 13, 9, 10, 12]
        let b = [11.0, 10, 12, 9, 13, 11, 10]
        let c = try #require(Comparison(baseline: "websocket", a, candidate: "sse", b))
        #expect(c.ci95.low < 1 && c.ci95.high > 1)
        #expect(c.verdict.hasPrefix("no clear difference between websocket and sse: p50"))
        #expect(c.verdict.hasSuffix("includes 1×)"))
    }

    @Test func fasterCandidateIsNamedFirst() throws {
        let c = try #require(
            Comparison(baseline: "websocket", [100, 101, 99, 100], candidate: "sse", [50, 51, 49, 50]))
        #expect(
            c.verdict.hasPrefix("sse answered 50.0 ms sooner than websocket, p50 50.0 vs 100.0 ms (2.0×"),
            "\(c.verdict)")
    }

    @Test func tooFewValuesGiveNoComparison() {
        #expect(Comparison(baseline: "a", [1], candidate: "b", [1, 2]) == nil)
    }

    @Test func theBootstrapResamplesWithinEachRecording() throws {
        // Two recordings with very different TTFA: a resample that mixed them freely would
        // sometimes draw all-short or all-long samples and widen the interval.
        let shortA = [100.0, 101, 102, 103, 104]
        let longA = [400.0, 401, 402, 403, 404]
        let shortB = [110.0, 111, 112, 113, 114]
        let longB = [440.0, 441, 442, 443, 444]
        let stratified = try #require(
            Comparison(baseline: "a", strata: [shortA, longA], candidate: "b", strata: [shortB, longB]))
        let pooled = try #require(Comparison(baseline: "a", shortA + longA, candidate: "b", shortB + longB))
        #expect(stratified.ratio == pooled.ratio)
        #expect(stratified.ci95.high - stratified.ci95.low < pooled.ci95.high - pooled.ci95.low)
    }

    func outcomes(
        _ name: String, ok: [Double], trials: Int? = nil, timeouts: Int = 0, other: [(kind: String, count: Int)] = [],
        invalid: Int = 0
    ) -> TransportOutcomes {
        TransportOutcomes(
            name: name, okByRecording: [ok],
            trials: trials ?? ok.count + timeouts + other.reduce(0) { $0 + $1.count } + invalid,
            timeouts: timeouts, otherFailures: other, invalid: invalid)
    }

    @Test func aVerdictThatTimeoutsCouldReverseIsWithheld() {
        // Over the answers that arrived sse is clearly faster (190 vs 200 ms); but 18 of its 40
        // trials timed out, and counted as the slow answers they were, its p50 is 245 ms.
        let ws = outcomes("websocket", ok: (0..<40).map { 199.5 + Double($0 % 3) * 0.5 })
        let sse = outcomes("sse", ok: Array(repeating: 190, count: 20) + [300, 300], timeouts: 18)
        let verdict = Verdict(baseline: ws, candidate: sse, seed: 1)
        #expect(verdict.comparison?.sooner == "sse", "the answers alone say sse")
        #expect(verdict.withheld)
        #expect(
            verdict.text.hasPrefix(
                "verdict withheld: sse timed out in 18 of 40 trials; the p50s cover only the answers that arrived"),
            "\(verdict.text)")
    }

    @Test func aVerdictThatHoldsWhateverTheFailuresWereIsKeptAndSaysSo() {
        let ws = outcomes("websocket", ok: (0..<15).map { 100 + Double($0) })
        let sse = outcomes("sse", ok: (0..<13).map { 1000 + Double($0) }, other: [(kind: "closed", count: 2)])
        let verdict = Verdict(baseline: ws, candidate: sse, seed: 1)
        #expect(!verdict.withheld)
        #expect(verdict.text.hasPrefix("websocket answered"))
        #expect(
            verdict.text.contains(
                "sse failed 2 of 15 trials (closed ×2) — the verdict holds however those trials would have ended"),
            "\(verdict.text)")
    }

    @Test func withoutEnoughAnswersThereIsNoVerdict() {
        let verdict = Verdict(
            baseline: outcomes("websocket", ok: [1, 2, 3]), candidate: outcomes("sse", ok: [4], timeouts: 2), seed: 1)
        #expect(verdict.withheld && verdict.text.contains("sse has 1 successful trial"))
    }

    @Test func timeoutsAreRightCensoredInTheirP50() {
        #expect(CensoredMedian(ok: [1, 2, 3], timeouts: 0, timeoutMs: 30_000) == nil)
        #expect(
            CensoredMedian(ok: [10, 20, 30, 40], timeouts: 1, timeoutMs: 30_000) == .value(30),
            "fewer than half: still a number")
        #expect(CensoredMedian(ok: [10, 20], timeouts: 3, timeoutMs: 30_000) == .atLeast(30_000))
        #expect(
            CensoredMedian(ok: [10, 20], timeouts: 2, timeoutMs: 30_000) == .atLeast(15_010),
            "halfway between the slowest answer and a timeout")
    }

    @Test func formattedCountsReadAsEnglish() {
        #expect(Format.count(1, "trial") == "1 trial")
        #expect(Format.count(3, "trial") == "3 trials")
        #expect(Format.count(0, "anomaly", plural: "anomalies") == "0 anomalies")
    }
}
