import Foundation
import Monitoring
import Storage
import TTFASupport

/// The run's trials as `ttfa monitor` exports a round's — the same metric families — in the
/// Prometheus text format (for node_exporter's textfile collector) or OpenMetrics: one file a CI
/// job leaves behind for the monitoring stack to pick up.
package struct MetricsRenderer: ReportRenderer {
    let format: ExpositionFormat

    package init(format: ExpositionFormat) {
        self.format = format
    }

    package func render(_ report: Report) -> String {
        let metrics = TTFAMetrics(version: TTFAInfo.version, commit: TTFAInfo.build?.commit)
        guard let summary = report.summaries.last else { return metrics.exposition(format) }
        let config =
            (try? JSONSerialization.jsonObject(with: Data(summary.run.configJSON.utf8))) as? [String: Any] ?? [:]
        let embedded = config["reference_server"] is [String: Any]
        func label(_ trial: TrialRecord) -> String {
            let host = URLComponents(string: trial.endpoint)?.host ?? ""
            return embedded && ["127.0.0.1", "localhost", "::1", "[::1]"].contains(host)
                ? EndpointLabel.embedded(trial.endpoint) : EndpointLabel.of(trial.endpoint)
        }
        let series = metrics.record(trials: report.trials, endpoint: label).series
        let started = Timestamp.parse(summary.run.startedAt)
        let ended = summary.run.endedAt.flatMap(Timestamp.parse) ?? started
        let result: TTFAMetrics.Round.Result =
            summary.run.status == .interrupted ? .interrupted : summary.health.passed ? .complete : .failed
        metrics.record(
            TTFAMetrics.Round(
                result: result, endedAt: ended?.timeIntervalSince1970 ?? 0,
                durationSeconds: started.flatMap { s in ended.map { $0.timeIntervalSince(s) } } ?? 0,
                series: series,
                thresholds: report.thresholds.map { ($0.threshold.expression, $0.passed) }))
        return metrics.exposition(format)
    }
}
