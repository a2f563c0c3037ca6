import Checks
import Foundation
import Statistics
import Storage
import TTFASupport

/// JSON — the `--json` contract: one run's summary object (with a load group's contributions
/// or the run's per-second series when there are), an A/B run's `baseline` and `candidate`
/// with their `compare`, or a `compare`'s verdict alone.
package struct JSONRenderer: ReportRenderer {
    package init() {}

    package func render(_ report: Report) -> String {
        Self.value(report).pretty() + "\n"
    }

    /// The report as one JSON value.
    package static func value(_ report: Report) -> JSONValue {
        var object: JSONValue
        switch report.summaries.count {
        case 0:
            return report.check.map(check) ?? .object([])
        case 1:
            object = summary(report.summaries[0], database: report.database)
            if let group = report.group {
                object = object.adding("group", Self.group(group))
            } else if !report.series.isEmpty {
                object = object.adding("series", SeriesJSON.encode(report.series))
            }
        default:
            object = .object([
                ("baseline", summary(report.summaries[0], database: report.database)),
                ("candidate", summary(report.summaries[report.summaries.count - 1], database: report.database)),
            ])
        }
        if let check = report.check { object = object.adding("compare", Self.check(check)) }
        return object
    }

    /// One run's summary.
    package static func summary(_ summary: RunSummary, database: String) -> JSONValue {
        func stats(_ s: Summary?) -> JSONValue {
            guard let s else { return .null }
            return .object([
                ("p50", .double(round3(s.p50))), ("p90", .double(round3(s.p90))), ("p95", .double(round3(s.p95))),
                ("p99", .double(round3(s.p99))), ("mean", .double(round3(s.mean))), ("min", .double(round3(s.min))),
                ("max", .double(round3(s.max))),
            ])
        }
        func kinds(_ counts: [(kind: String, count: Int)]) -> JSONValue {
            .object(counts.map { ($0.kind, .int(Int64($0.count))) })
        }
        return .object(
            [
                ("run_id", .int(summary.run.id ?? 0)),
                ("database", .string(database)),
                ("label", .optional(summary.run.label)),
                ("status", .string(summary.run.status.rawValue)),
                ("context", .optional(summary.context)),
                (
                    "transports",
                    .array(
                        summary.transports.map { t in
                            .object([
                                ("transport", .string(t.transport)),
                                ("endpoint", .string(t.endpoint)),
                                ("connection", .string(t.connection)),
                                ("trials", .int(Int64(t.trials))),
                                ("ok", .int(Int64(t.ok))),
                                ("failed", .int(Int64(t.failed))),
                                ("invalid", .int(Int64(t.invalid))),
                                ("timeouts", .int(Int64(t.timeouts))),
                                ("anomalies", .int(Int64(t.anomalies))),
                                ("audio_bursts_p50", .optional(t.audioBurstsP50)),
                                ("looks_buffered", .bool(t.looksBuffered)),
                                ("errors", kinds(t.errors)),
                                (
                                    "warmup",
                                    .object([
                                        ("trials", .int(Int64(t.warmup.trials))), ("ok", .int(Int64(t.warmup.ok))),
                                        ("errors", kinds(t.warmup.errors)),
                                    ])
                                ),
                                (
                                    "connection_reuse",
                                    .object([
                                        ("warm_trials", .int(Int64(t.reuse.warm))),
                                        ("reused", .int(Int64(t.reuse.reused))),
                                        ("reconnected", .int(Int64(t.reuse.reconnected))),
                                    ])
                                ),
                                ("ttfa_ms", stats(t.ttfa)),
                                ("ttfa_p50_with_timeouts_ms", censored(t.ttfaWithTimeouts)),
                                (
                                    "phases_ms",
                                    .object(t.phases.map { ($0.phase.rawValue, .double(round3($0.summary.p50))) })
                                ),
                                (
                                    "breakdown_ms",
                                    t.breakdown.map { b in
                                        .object(
                                            [("trial", .int(Int64(b.trial))), ("ttfa", .double(round3(b.ttfaMs)))]
                                                + b.parts.map { ($0.name, .double(round3($0.ms))) })
                                    } ?? .null
                                ),
                                (
                                    "recordings",
                                    .array(
                                        t.recordings.map { r in
                                            .object([
                                                ("recording", .string(r.name)),
                                                ("duration_ms", .double(round3(r.durationMs))),
                                                ("ttfa_ms", stats(r.ttfa)),
                                            ])
                                        })
                                ),
                                ("underruns", .int(Int64(t.underruns))),
                                ("underrun_ms", .double(round3(t.underrunMs))),
                            ])
                        })
                ),
                (
                    "comparisons",
                    .array(
                        summary.comparisons.map { c in
                            .object([
                                ("baseline", .string(c.baseline)), ("candidate", .string(c.candidate)),
                                ("metric", "ttfa_p50"),
                                ("ratio", .double(round3(c.ratio))),
                                ("ci95", .array([.double(round3(c.ci95.low)), .double(round3(c.ci95.high))])),
                            ])
                        })
                ),
                ("verdict", .optional(summary.verdict?.text)),
                ("verdicts", .array(summary.verdicts.map { .string($0.text) })),
                ("verdict_withheld", .bool(summary.verdict?.withheld ?? false)),
            ] + thresholds(summary.checks))
    }

    /// `thresholds`, when any were checked.
    static func thresholds(_ checks: [ThresholdResult]) -> [(String, JSONValue)] {
        guard !checks.isEmpty else { return [] }
        let items: [JSONValue] = checks.map { c in
            let value: JSONValue = c.value.map { .double(round3($0)) } ?? .null
            return .object([
                ("threshold", .string(c.threshold.expression)), ("metric", .string(c.threshold.metricName)),
                ("value", value), ("limit", .double(round3(c.threshold.limit))), ("passed", .bool(c.passed)),
            ])
        }
        return [("thresholds", .array(items))]
    }

    /// `null` without timeouts; otherwise `{"p50": ms}` or `{"at_least": ms}`.
    static func censored(_ value: CensoredMedian?) -> JSONValue {
        switch value {
        case nil: .null
        case .value(let ms): .object([("p50", .double(round3(ms)))])
        case .atLeast(let ms): .object([("at_least", ms.isFinite ? .double(round3(ms)) : .null)])
        }
    }

    static func round3(_ v: Double) -> Double { (v * 1000).rounded() / 1000 }

    // MARK: the comparison

    /// A regression check.
    package static func check(_ check: RegressionCheck) -> JSONValue {
        func number(_ v: Double?) -> JSONValue { v.map { .double(($0 * 1000).rounded() / 1000) } ?? .null }
        let metrics: [JSONValue] = check.metrics.map { m in
            .object([
                ("metric", .string(m.metric)), ("baseline_ms", number(m.baseline)),
                ("candidate_ms", number(m.candidate)),
                ("difference_ms", number(m.difference)),
                ("ci95_ms", m.ci95.map { .array([number($0.low), number($0.high)]) } ?? .null),
                ("tolerance_ms", number(m.toleranceMs)), ("verdict", .string(m.outcome.rawValue)),
                ("trials", .array([.int(Int64(m.counts.baseline)), .int(Int64(m.counts.candidate))])),
            ])
        }
        return .object([
            ("baseline", .string(check.baseline.source)), ("candidate", .string(check.candidate.source)),
            ("baseline_run", .int(check.baseline.run.id)), ("candidate_run", .int(check.candidate.run.id)),
            ("regressed", .bool(!check.regressed.isEmpty)),
            ("verdict", .string(TableRenderer.headline(check))),
            (
                "mismatches",
                .array(
                    check.mismatches.map {
                        .object([
                            ("fact", .string($0.fact)), ("baseline", .string($0.baseline)),
                            ("candidate", .string($0.candidate)),
                        ])
                    })
            ),
            ("metrics", .array(metrics)),
        ])
    }

    // MARK: a load group

    /// Which run contributed what.
    package static func group(_ group: LoadGroup) -> JSONValue {
        let (name, contributions, trials) = (group.name, group.contributions, group.trials)
        return .object([
            ("name", .string(name)),
            (
                "runs",
                .array(
                    contributions.map { c in
                        .object([
                            ("run_id", .int(c.run.id ?? 0)), ("hostname", .string(c.run.hostname)),
                            ("status", .string(c.run.status.rawValue)),
                            ("started_at", .string(c.run.startedAt)), ("trials", .int(Int64(c.trials))),
                            ("ok", .int(Int64(c.ok))),
                            ("failed", .int(Int64(c.failed))), ("invalid", .int(Int64(c.invalid))),
                            (
                                "p50_ms",
                                .object(
                                    c.p50.map {
                                        ($0.transport, $0.ms.map { .double(($0 * 1000).rounded() / 1000) } ?? .null)
                                    })
                            ),
                        ])
                    })
            ),
            ("trials", .int(Int64(trials.count))),
        ])
    }
}
