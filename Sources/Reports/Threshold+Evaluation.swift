import Checks
import Statistics
import Storage

/// A threshold judged against a run's summary (the thresholds themselves — their grammar and
/// validation — are `Checks`' business; what a run measured is this module's).
extension Threshold {
    /// The measured value, or nil when the run has none (no ok trials; a phase the transport
    /// does not have).
    package func measure(_ summary: RunSummary) -> Double? {
        guard let t = summary.transports.first(where: { $0.transport == transport }) else { return nil }
        switch metric {
        case .distribution(let name, let stat):
            let s: Summary?
            if let recording {
                s = t.recordings.first { $0.name == recording }?.ttfa
            } else {
                // The grammar allows "ttfa" or a phase's name (`Threshold.distributions`).
                if let phase = Phase(rawValue: name) { s = t.phase(phase) } else { s = t.ttfa }
            }
            guard let s else { return nil }
            switch stat {
            case "p50": return s.p50
            case "p90": return s.p90
            case "p95": return s.p95
            case "p99": return s.p99
            case "mean": return s.mean
            case "min": return s.min
            default: return s.max
            }
        case .count(let name, let share):
            let count: Int
            switch name {
            case "failed": count = t.failed
            case "invalid": count = t.invalid
            case "timeouts": count = t.timeouts
            case "underruns": count = t.underruns
            default: count = t.anomalies
            }
            guard share else { return Double(count) }
            return t.trials > 0 ? Double(count) / Double(t.trials) : nil
        }
    }

    /// Evaluates the threshold on a run's summary. A value the run does not have fails.
    package func evaluate(_ summary: RunSummary) -> ThresholdResult {
        let value = measure(summary)
        return ThresholdResult(
            threshold: self, value: value, passed: value.map { comparator.holds($0, limit) } ?? false)
    }
}
