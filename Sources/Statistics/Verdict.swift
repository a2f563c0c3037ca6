import Foundation
import TTFASupport

/// What one transport's measured trials gave: the answers that arrived (per recording) and
/// the ones that did not.
package struct TransportOutcomes: Sendable {
    package var name: String
    /// TTFA of `ok` trials, milliseconds, one array per recording.
    package var okByRecording: [[Double]]
    /// Measured trials in all.
    package var trials: Int
    /// Timeouts before any audio: right-censored, their TTFA only known to exceed the timeout.
    package var timeouts: Int
    /// Other failures by kind (their TTFA is unknown: they could have been fast or slow).
    package var otherFailures: [(kind: String, count: Int)]
    /// Trials the harness could not replay on schedule (left out; not the server's doing).
    package var invalid: Int

    package init(
        name: String, okByRecording: [[Double]], trials: Int, timeouts: Int,
        otherFailures: [(kind: String, count: Int)], invalid: Int
    ) {
        self.name = name
        self.okByRecording = okByRecording
        self.trials = trials
        self.timeouts = timeouts
        self.otherFailures = otherFailures
        self.invalid = invalid
    }

    package var ok: [Double] { okByRecording.flatMap { $0 } }
    var failures: Int { timeouts + otherFailures.reduce(0) { $0 + $1.count } }

    /// p50 if every failure had been as slow as possible.
    var slowestP50: Double { Verdict.median(ok + Array(repeating: .infinity, count: failures)) }
    /// p50 if every failure other than a timeout had been as fast as possible (a timeout is
    /// known to be slow).
    var fastestP50: Double {
        Verdict.median(
            ok + Array(repeating: .infinity, count: timeouts) + Array(repeating: 0, count: failures - timeouts))
    }

    /// "timed out in 3 of 15 trials", "failed 2 of 15 trials (closed ×2)".
    var failureText: String {
        let all = (timeouts > 0 ? [(kind: "timeout", count: timeouts)] : []) + otherFailures
        if otherFailures.isEmpty {
            return "timed out in \(timeouts) of \(Format.count(trials, "trial"))"
        }
        return "failed \(failures) of \(Format.count(trials, "trial")) (\(Format.kinds(all)))"
    }
}

/// The one-line answer of a run, and whether it had to be withheld.
///
/// Failed trials are not fast samples, but leaving them out silently flatters the transport
/// that failed: a transport whose slow answers time out looks faster. So before stating which
/// transport answered sooner, the verdict checks that it would still hold if the failures had
/// gone the worst way for it — the faster transport's failures as slow as possible, the slower
/// one's as fast as possible (a timeout is always slow: it is right-censored at the timeout).
/// When it would not, the verdict is withheld and says why.
package struct Verdict: Sendable {
    package var text: String
    /// True when no transport can be called faster on this evidence.
    package var withheld: Bool
    package var comparison: Comparison?

    package init(baseline: TransportOutcomes, candidate: TransportOutcomes, seed: UInt64) {
        guard
            let comparison = Comparison(
                baseline: baseline.name, strata: baseline.okByRecording,
                candidate: candidate.name, strata: candidate.okByRecording, seed: seed)
        else {
            let short = [baseline, candidate].filter { $0.ok.count < 2 }.map {
                "\($0.name) has \(Format.count($0.ok.count, "successful trial"))"
            }
            text = "no verdict: \(short.joined(separator: " and ")); at least 2 are needed on each side"
            withheld = true
            self.comparison = nil
            return
        }
        self.comparison = comparison
        let failing = [baseline, candidate].filter { $0.failures > 0 }
        var notes = failing.map { "\($0.name) \($0.failureText)" }
        if baseline.invalid != candidate.invalid {
            notes.append(
                "invalid trials left out: \(baseline.name) \(baseline.invalid), \(candidate.name) \(candidate.invalid)")
        }
        guard !failing.isEmpty, let sooner = comparison.sooner else {
            text = comparison.verdict + (notes.isEmpty ? "" : "; " + notes.joined(separator: "; "))
            withheld = false
            return
        }
        let (faster, slower) = sooner == baseline.name ? (baseline, candidate) : (candidate, baseline)
        if faster.slowestP50 < slower.fastestP50 {
            text =
                comparison.verdict + "; " + notes.joined(separator: "; ")
                + " — the verdict holds however those trials would have ended"
            withheld = false
        } else {
            let counts = [faster, slower].map {
                "\($0.name) p50 \(Format.ms(Summary.median($0.ok))) over \(Format.count($0.ok.count, "answer"))"
            }
            text =
                "verdict withheld: " + failing.map { "\($0.name) \($0.failureText)" }.joined(separator: "; ")
                + "; the p50s cover only the answers that arrived (\(counts.joined(separator: ", "))), and the failures could reverse the order"
            withheld = true
        }
    }

    /// Median that tolerates infinities (sorted; an even count averages the middle two unless
    /// one is infinite).
    static func median(_ values: [Double]) -> Double {
        guard !values.isEmpty else { return .nan }
        let sorted = values.sorted()
        let n = sorted.count
        if n % 2 == 1 { return sorted[n / 2] }
        let (a, b) = (sorted[n / 2 - 1], sorted[n / 2])
        return b.isInfinite ? .infinity : (a + b) / 2
    }
}

/// A p50 that counts timeouts as slower than every answer (right-censored at the timeout):
/// a number while timeouts are fewer than half, otherwise only a lower bound.
package enum CensoredMedian: Sendable, Equatable {
    case value(Double)
    case atLeast(Double)

    package init?(ok: [Double], timeouts: Int, timeoutMs: Double?) {
        guard timeouts > 0 else { return nil }
        let bound = timeoutMs ?? .infinity
        let sorted = ok.sorted() + Array(repeating: Double.infinity, count: timeouts)
        let n = sorted.count
        if n % 2 == 1 {
            self = sorted[n / 2].isFinite ? .value(sorted[n / 2]) : .atLeast(bound)
        } else {
            let (a, b) = (sorted[n / 2 - 1], sorted[n / 2])
            // Halfway between the slowest answer and a timeout: at least halfway to the timeout.
            self = b.isFinite ? .value((a + b) / 2) : .atLeast(a.isFinite ? (a + bound) / 2 : bound)
        }
    }

    package var text: String {
        switch self {
        case .value(let ms): Format.ms(ms)
        case .atLeast(let ms): ms.isFinite ? "≥ \(Format.ms(ms))" : "≥ the timeout"
        }
    }
}
