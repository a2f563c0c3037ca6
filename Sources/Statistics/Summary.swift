import Foundation
import SeededRandom
import TTFASupport

/// Order statistics of a sample: the figures ttfa reports.
package struct Summary: Sendable, Equatable, Codable {
    package var count: Int
    package var p50: Double
    package var p90: Double
    package var p95: Double
    package var p99: Double
    package var mean: Double
    package var min: Double
    package var max: Double

    /// Summarises `values` (any unit). Nil for an empty sample.
    ///
    /// Percentiles interpolate linearly between closest ranks (Hyndman & Fan type 7, the
    /// default of R, NumPy and spreadsheets), so a p50 of an even-sized sample is the mean of
    /// the middle two.
    package init?(_ values: [Double]) {
        guard !values.isEmpty else { return nil }
        let sorted = values.sorted()
        count = sorted.count
        p50 = Self.percentile(sorted, 0.50)
        p90 = Self.percentile(sorted, 0.90)
        p95 = Self.percentile(sorted, 0.95)
        p99 = Self.percentile(sorted, 0.99)
        mean = sorted.reduce(0, +) / Double(sorted.count)
        min = sorted.first!
        max = sorted.last!
    }

    /// The `q` quantile (0…1) of an ascending sample, type 7.
    package static func percentile(_ sorted: [Double], _ q: Double) -> Double {
        precondition(!sorted.isEmpty)
        let position = q * Double(sorted.count - 1)
        let lower = Int(position.rounded(.down))
        let upper = Swift.min(lower + 1, sorted.count - 1)
        let fraction = position - Double(lower)
        return sorted[lower] + (sorted[upper] - sorted[lower]) * fraction
    }

    /// One stratified bootstrap resample into `out`: every stratum (a recording's values) is
    /// resampled with replacement within itself, so the resample keeps the schedule's balance.
    package static func resample(_ strata: [[Double]], into out: inout [Double], using generator: inout SeededGenerator)
    {
        var i = 0
        for stratum in strata {
            for _ in stratum.indices {
                out[i] = stratum[Int.random(in: 0..<stratum.count, using: &generator)]
                i += 1
            }
        }
    }

    /// The median of an unsorted sample.
    package static func median(_ values: [Double]) -> Double {
        percentile(values.sorted(), 0.5)
    }
}

/// How much sooner one transport answers than another: the ratio of p50 TTFAs with a
/// percentile-bootstrap 95% confidence interval.
package struct Comparison: Sendable, Equatable {
    package var baseline: String
    package var candidate: String
    /// Candidate p50 ÷ baseline p50 (above 1: the baseline answered sooner).
    package var ratio: Double
    package var ci95: (low: Double, high: Double)
    package var baselineP50: Double
    package var candidateP50: Double
    package var resamples: Int
    package var seed: UInt64

    package static func == (lhs: Comparison, rhs: Comparison) -> Bool {
        lhs.baseline == rhs.baseline && lhs.candidate == rhs.candidate && lhs.ratio == rhs.ratio
            && lhs.ci95 == rhs.ci95 && lhs.baselineP50 == rhs.baselineP50 && lhs.candidateP50 == rhs.candidateP50
    }

    /// Compares two samples (milliseconds), each given as strata — one per recording. Each
    /// bootstrap round resamples every stratum with replacement within itself (the schedule
    /// gives every recording the same number of trials, so a resample keeps that balance),
    /// and takes the ratio of the two pooled medians; the interval is the 2.5th and 97.5th
    /// percentiles of those ratios. Needs at least two values on each side.
    package init?(
        baseline: String, strata baselineStrata: [[Double]], candidate: String, strata candidateStrata: [[Double]],
        resamples: Int = 2000, seed: UInt64 = 1
    ) {
        let baselineStrata = baselineStrata.filter { !$0.isEmpty }
        let candidateStrata = candidateStrata.filter { !$0.isEmpty }
        let baselineValues = baselineStrata.flatMap { $0 }
        let candidateValues = candidateStrata.flatMap { $0 }
        guard baselineValues.count >= 2, candidateValues.count >= 2 else { return nil }
        let baseMedian = Summary.median(baselineValues)
        let candMedian = Summary.median(candidateValues)
        guard baseMedian > 0 else { return nil }
        var generator = SeededGenerator(seed: seed)
        var ratios: [Double] = []
        ratios.reserveCapacity(resamples)
        var a = [Double](repeating: 0, count: baselineValues.count)
        var b = [Double](repeating: 0, count: candidateValues.count)
        for _ in 0..<resamples {
            Summary.resample(baselineStrata, into: &a, using: &generator)
            Summary.resample(candidateStrata, into: &b, using: &generator)
            let denominator = Summary.median(a)
            if denominator > 0 { ratios.append(Summary.median(b) / denominator) }
        }
        ratios.sort()
        guard !ratios.isEmpty else { return nil }
        self.baseline = baseline
        self.candidate = candidate
        self.ratio = candMedian / baseMedian
        self.ci95 = (Summary.percentile(ratios, 0.025), Summary.percentile(ratios, 0.975))
        self.baselineP50 = baseMedian
        self.candidateP50 = candMedian
        self.resamples = resamples
        self.seed = seed
    }

    /// Compares two unstratified samples (milliseconds).
    package init?(
        baseline: String, _ baselineValues: [Double], candidate: String, _ candidateValues: [Double],
        resamples: Int = 2000, seed: UInt64 = 1
    ) {
        self.init(
            baseline: baseline, strata: [baselineValues], candidate: candidate, strata: [candidateValues],
            resamples: resamples, seed: seed)
    }

    /// Which side answered sooner, when the interval excludes 1×.
    package var sooner: String? {
        ci95.low > 1 ? baseline : ci95.high < 1 ? candidate : nil
    }

    /// One line a person can quote, readable whether the gap is large or small, e.g.
    /// "websocket answered 6.1 ms sooner than sse, p50 203.4 vs 209.5 ms (1.03×, 95% CI
    /// 1.02–1.04×)".
    package var verdict: String {
        if ci95.low > 1 {
            return Self.line(
                faster: baseline, fasterP50: baselineP50, slower: candidate, slowerP50: candidateP50,
                ratio: ratio, low: ci95.low, high: ci95.high)
        }
        if ci95.high < 1 {
            return Self.line(
                faster: candidate, fasterP50: candidateP50, slower: baseline, slowerP50: baselineP50,
                ratio: 1 / ratio, low: 1 / ci95.high, high: 1 / ci95.low)
        }
        let (a, b) = Format.pair(baselineP50, candidateP50)
        let (low, high) = Format.ratioPair(ci95.low, ci95.high)
        return
            "no clear difference between \(baseline) and \(candidate): p50 \(a) vs \(b) ms (\(Format.ratio(ratio)), 95% CI \(low)–\(high)× includes 1×)"
    }

    private static func line(
        faster: String, fasterP50: Double, slower: String, slowerP50: Double, ratio: Double, low: Double, high: Double
    ) -> String {
        let (a, b) = Format.pair(fasterP50, slowerP50)
        let (lo, hi) = Format.ratioPair(low, high)
        return
            "\(faster) answered \(Format.ms(slowerP50 - fasterP50)) sooner than \(slower), p50 \(a) vs \(b) ms (\(Format.ratio(ratio)), 95% CI \(lo)–\(hi)×)"
    }
}
