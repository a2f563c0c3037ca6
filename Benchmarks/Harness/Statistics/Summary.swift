import Foundation

/// Order statistics of a sample: the figures ttfa reports.
public struct Summary: Sendable, Equatable, Codable {
    public var count: Int
    public var p50: Double
    public var p90: Double
    public var p95: Double
    public var p99: Double
    public var mean: Double
    public var min: Double
    public var max: Double

    /// Summarises `values` (any unit). Nil for an empty sample.
    ///
    /// Percentiles interpolate linearly between closest ranks (Hyndman & Fan type 7, the
    /// default of R, NumPy and spreadsheets), so a p50 of an even-sized sample is the mean of
    /// the middle two.
    public init?(_ values: [Double]) {
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
    public static func percentile(_ sorted: [Double], _ q: Double) -> Double {
        precondition(!sorted.isEmpty)
        let position = q * Double(sorted.count - 1)
        let lower = Int(position.rounded(.down))
        let upper = Swift.min(lower + 1, sorted.count - 1)
        let fraction = position - Double(lower)
        return sorted[lower] + (sorted[upper] - sorted[lower]) * fraction
    }

    /// The median of an unsorted sample.
    public static func median(_ values: [Double]) -> Double {
        percentile(values.sorted(), 0.5)
    }
}

/// A small, fast, seedable generator (SplitMix64), so bootstrap intervals are reproducible
/// from the stored trials and the stored seed.
public struct SeededGenerator: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) {
        state = seed
    }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// How much sooner one transport answers than another: the ratio of p50 TTFAs with a
/// percentile-bootstrap 95% confidence interval.
public struct Comparison: Sendable, Equatable {
    public var baseline: String
    public var candidate: String
    /// Candidate p50 ÷ baseline p50 (above 1: the baseline answered sooner).
    public var ratio: Double
    public var ci95: (low: Double, high: Double)
    public var baselineP50: Double
    public var candidateP50: Double
    public var resamples: Int
    public var seed: UInt64

    public static func == (lhs: Comparison, rhs: Comparison) -> Bool {
        lhs.baseline == rhs.baseline && lhs.candidate == rhs.candidate && lhs.ratio == rhs.ratio
            && lhs.ci95 == rhs.ci95 && lhs.baselineP50 == rhs.baselineP50 && lhs.candidateP50 == rhs.candidateP50
    }

    /// Compares two samples (milliseconds). Each bootstrap round resamples both samples with
    /// replacement and takes the ratio of their medians; the interval is the 2.5th and 97.5th
    /// percentiles of those ratios. Needs at least two values on each side.
    public init?(baseline: String, _ baselineValues: [Double], candidate: String, _ candidateValues: [Double],
                 resamples: Int = 2000, seed: UInt64 = 1) {
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
            for i in a.indices { a[i] = baselineValues[Int.random(in: 0..<baselineValues.count, using: &generator)] }
            for i in b.indices { b[i] = candidateValues[Int.random(in: 0..<candidateValues.count, using: &generator)] }
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

    /// One line a person can quote, e.g. "websocket answered 2.6× sooner than sse (95% CI
    /// 2.4–2.9×), p50 412 ms vs 1071 ms".
    public var verdict: String {
        let p50s = "p50 \(Format.ms(baselineP50)) vs \(Format.ms(candidateP50))"
        if ci95.low > 1 {
            return "\(baseline) answered \(Format.ratio(ratio)) sooner than \(candidate) (95% CI \(Format.ratio(ci95.low, unit: false))–\(Format.ratio(ci95.high))), \(p50s)"
        }
        if ci95.high < 1 {
            return "\(candidate) answered \(Format.ratio(1 / ratio)) sooner than \(baseline) (95% CI \(Format.ratio(1 / ci95.high, unit: false))–\(Format.ratio(1 / ci95.low))), p50 \(Format.ms(candidateP50)) vs \(Format.ms(baselineP50))"
        }
        return "no clear difference between \(baseline) and \(candidate): ratio \(Format.ratio(ratio)) (95% CI \(Format.ratio(ci95.low, unit: false))–\(Format.ratio(ci95.high)) includes 1×), \(p50s)"
    }
}

/// Number formatting shared by every human-readable output.
public enum Format {
    /// "4.87 ms", "412 ms", "1071 ms".
    public static func ms(_ value: Double?) -> String {
        guard let value else { return "–" }
        return number(value) + " ms"
    }

    /// Three significant digits, at most two decimals.
    public static func number(_ value: Double) -> String {
        let magnitude = abs(value)
        let decimals = magnitude >= 100 ? 0 : magnitude >= 10 ? 1 : 2
        return String(format: "%.\(decimals)f", value)
    }

    public static func ratio(_ value: Double, unit: Bool = true) -> String {
        String(format: value >= 10 ? "%.0f" : "%.1f", value) + (unit ? "×" : "")
    }
}

