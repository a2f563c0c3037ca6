import Foundation
import SeededRandom
import TTFASupport

/// How far a metric may move before it counts as a change: a share of the baseline's value or
/// an absolute amount, whichever is larger (default: 10% or 20 ms).
package struct Tolerance: Sendable, Equatable, CustomStringConvertible {
    package var relative: Double
    package var absoluteMs: Double

    package init(relative: Double = 0.10, absoluteMs: Double = 20) {
        self.relative = relative
        self.absoluteMs = absoluteMs
    }

    /// The allowed change for a metric whose baseline value is `baseline` ms.
    package func ms(for baseline: Double) -> Double { max(relative * abs(baseline), absoluteMs) }

    /// "10%,20ms", "15%", "30ms" (a part left out is 0).
    package init(parsing text: String) throws(CheckError) {
        var relative = 0.0
        var absolute = 0.0
        let parts = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        guard !parts.isEmpty else { throw CheckError("tolerance '\(text)': empty; write e.g. 10%,20ms") }
        for part in parts {
            if part.hasSuffix("%"), let value = Double(part.dropLast()), value >= 0, value.isFinite {
                relative = value / 100
            } else if part.hasSuffix("ms"), let value = Double(part.dropLast(2)), value >= 0, value.isFinite {
                absolute = value
            } else if part.hasSuffix("s"), let value = Double(part.dropLast()), value >= 0, value.isFinite {
                absolute = value * 1000
            } else {
                throw CheckError("tolerance '\(text)': '\(part)' is neither a percentage (10%) nor a time (20ms, 0.5s)")
            }
        }
        self.init(relative: relative, absoluteMs: absolute)
    }

    package var description: String {
        switch (relative > 0, absoluteMs > 0) {
        case (true, true): return "\(Format.number(relative * 100))% or \(Format.ms(absoluteMs)), whichever is larger"
        case (true, false): return "\(Format.number(relative * 100))%"
        default: return Format.ms(absoluteMs)
        }
    }
}

/// One metric of a candidate against its baseline: the difference of a percentile of TTFA,
/// with a seeded, stratified percentile-bootstrap 95% confidence interval, judged against a
/// tolerance. Regressed only when the whole interval lies above the tolerance, improved only
/// when it lies below minus the tolerance; otherwise unchanged — so run-to-run noise, which
/// widens the interval, cannot produce a regression by itself.
package struct MetricComparison: Sendable {
    package enum Outcome: String, Sendable {
        case regressed, improved, unchanged
        /// Too few trials for this percentile to be more than its sample's extreme.
        case insufficient = "not enough trials"
    }

    /// `websocket.ttfa.p50`, `sse[long.wav].ttfa.p50`.
    package var metric: String
    package var quantile: Double
    package var baseline: Double?
    package var candidate: Double?
    /// candidate − baseline, ms.
    package var difference: Double?
    package var ci95: (low: Double, high: Double)?
    package var toleranceMs: Double?
    package var outcome: Outcome
    /// Sample sizes (ok trials) on each side.
    package var counts: (baseline: Int, candidate: Int)
    /// Why `insufficient`.
    package var note: String?

    /// The fewest values a percentile needs on each side so that it is not just the extreme:
    /// p50 3, p90 10, p95 20, p99 100.
    package static func minimumCount(for quantile: Double) -> Int {
        quantile <= 0.5 ? 3 : Int((1 / (1 - quantile)).rounded())
    }

    package init(
        metric: String, quantile: Double, baseline baselineStrata: [[Double]], candidate candidateStrata: [[Double]],
        tolerance: Tolerance, resamples: Int = 2000, seed: UInt64 = 1
    ) {
        self.metric = metric
        self.quantile = quantile
        let b = baselineStrata.filter { !$0.isEmpty }
        let c = candidateStrata.filter { !$0.isEmpty }
        let bValues = b.flatMap { $0 }
        let cValues = c.flatMap { $0 }
        counts = (bValues.count, cValues.count)
        baseline = bValues.isEmpty ? nil : Summary.percentile(bValues.sorted(), quantile)
        candidate = cValues.isEmpty ? nil : Summary.percentile(cValues.sorted(), quantile)
        let needed = Self.minimumCount(for: quantile)
        guard let baseline, let candidate, bValues.count >= needed, cValues.count >= needed else {
            outcome = .insufficient
            note =
                "p\(Int((quantile * 100).rounded())) needs at least \(needed) ok trials on each side, has \(bValues.count) and \(cValues.count)"
            return
        }
        difference = candidate - baseline
        var generator = SeededGenerator(seed: seed)
        var a = [Double](repeating: 0, count: bValues.count)
        var z = [Double](repeating: 0, count: cValues.count)
        var differences: [Double] = []
        differences.reserveCapacity(resamples)
        for _ in 0..<resamples {
            Summary.resample(b, into: &a, using: &generator)
            Summary.resample(c, into: &z, using: &generator)
            a.sort()
            z.sort()
            differences.append(Summary.percentile(z, quantile) - Summary.percentile(a, quantile))
        }
        differences.sort()
        let interval = (Summary.percentile(differences, 0.025), Summary.percentile(differences, 0.975))
        ci95 = interval
        let allowed = tolerance.ms(for: baseline)
        toleranceMs = allowed
        outcome = interval.0 > allowed ? .regressed : interval.1 < -allowed ? .improved : .unchanged
    }

    /// "+312 ms (95% CI +250 … +380 ms; tolerance ±120 ms)".
    package var differenceText: String {
        guard let difference, let ci95, let toleranceMs else { return note ?? "–" }
        func signed(_ v: Double) -> String { (v >= 0 ? "+" : "−") + Format.ms(abs(v)) }
        return
            "\(signed(difference)) (95% CI \(signed(ci95.low)) … \(signed(ci95.high)); tolerance ±\(Format.ms(toleranceMs)))"
    }
}
