import CoreMetrics
import Foundation
import OTel
import ServiceLifecycle
import Storage
import TTFASupport
import Tracing

/// The monitor's metrics pushed over OTLP/HTTP (swift-otel) — the families of `TTFAMetrics`
/// under OpenTelemetry's names (`ttfa.time_to_first_audio`, unit `s`, …) — and, optionally, one
/// trace per trial whose spans are where its time to first audio went.
///
/// The standard `OTEL_*` environment variables apply on top of the flags (for example
/// `OTEL_EXPORTER_OTLP_HEADERS` for a collector's credentials, which never belong on a command
/// line, `OTEL_EXPORTER_OTLP_PROTOCOL=http/json`, `OTEL_METRIC_EXPORT_INTERVAL` in ms).
package final class OTLPExport: Sendable {
    /// What to export where.
    package struct Settings: Sendable {
        /// The collector's OTLP/HTTP base URL (`http://collector:4318`); metrics go to
        /// `/v1/metrics`, traces to `/v1/traces`.
        package var endpoint: String
        /// One trace per trial.
        package var traces: Bool
        /// Resource attributes: `host.name`, `service.version`, `ttfa.run.label`.
        package var resource: [String: String]
        /// How often the metrics are pushed.
        package var interval: Duration = .seconds(15)
        /// The TTFA histogram's bucket bounds, seconds.
        package var buckets: [Double]

        package init(endpoint: String, traces: Bool, resource: [String: String], buckets: [Double]) {
            self.endpoint = endpoint
            self.traces = traces
            self.resource = resource
            self.buckets = buckets
        }
    }

    /// OpenTelemetry's names of the families, and their units (UCUM: `s`, `1`, `{trial}`).
    package enum Name {
        package static let ttfa = ("ttfa.time_to_first_audio", "s")
        package static let phase = ("ttfa.phase", "s")
        package static let trials = ("ttfa.trials", "{trial}")
        package static let p50 = ("ttfa.last_round.ttfa.p50", "s")
        package static let p95 = ("ttfa.last_round.ttfa.p95", "s")
        package static let up = ("ttfa.endpoint.up", "1")
        package static let breached = ("ttfa.threshold.breached", "1")
        package static let rounds = ("ttfa.rounds", "{round}")
        package static let roundDuration = ("ttfa.last_round.duration", "s")
    }

    let factory: any MetricsFactory
    let tracer: (any Tracer)?
    /// The exporters, to run beside the monitor (they push the last figures when they stop).
    package let services: [any Service]

    /// - Throws: `MonitorInputError` when the endpoint is not an http(s) URL.
    package init(_ settings: Settings) throws(MonitorInputError) {
        let shown = settings.endpoint.contains("@") ? "(a URL with credentials)" : settings.endpoint
        guard let url = URLComponents(string: settings.endpoint), ["http", "https"].contains(url.scheme ?? ""),
            url.host?.isEmpty == false
        else {
            throw MonitorInputError(
                "--otlp-endpoint \(shown): give the collector's OTLP/HTTP address, for example http://127.0.0.1:4318"
            )
        }
        if url.user != nil || url.password != nil {
            throw MonitorInputError(
                "--otlp-endpoint: leave credentials out of the URL (command lines are stored and seen by other users); put them in OTEL_EXPORTER_OTLP_HEADERS, e.g. OTEL_EXPORTER_OTLP_HEADERS='Authorization=Basic …'"
            )
        }
        let base = settings.endpoint.hasSuffix("/") ? String(settings.endpoint.dropLast()) : settings.endpoint
        var configuration = OTel.Configuration.default
        configuration.serviceName = "ttfa"
        configuration.resourceAttributes = settings.resource
        configuration.logs.enabled = false
        configuration.diagnosticLogLevel = .error
        configuration.metrics.enabled = true
        configuration.metrics.exportInterval = settings.interval
        configuration.metrics.otlpExporter.protocol = .httpProtobuf
        configuration.metrics.otlpExporter.endpoint = base + "/v1/metrics"
        configuration.metrics.valueHistogramBuckets = [
            Name.ttfa.0: settings.buckets, Name.phase.0: TTFAMetrics.phaseBuckets,
        ]
        configuration.traces.enabled = settings.traces
        configuration.traces.otlpExporter.protocol = .httpProtobuf
        configuration.traces.otlpExporter.endpoint = base + "/v1/traces"
        configuration.traces.sampler = .alwaysOn
        do {
            let metrics = try OTel.makeMetricsBackend(configuration: configuration)
            factory = metrics.factory
            var services: [any Service] = [metrics.service]
            if settings.traces {
                let tracing = try OTel.makeTracingBackend(configuration: configuration)
                tracer = tracing.factory
                services.append(tracing.service)
            } else {
                tracer = nil
            }
            self.services = services
        } catch {
            throw MonitorInputError("--otlp-endpoint \(shown): the exporter cannot start (\(error))")
        }
    }

    private func dimensions(_ labels: [(String, String)], _ name: (String, String)) -> [(String, String)] {
        labels + [("unit", name.1)]
    }

    /// One stored trial (see `TTFAMetrics.record(_:endpoint:)`).
    func record(_ trial: TrialRecord, endpoint: String, recording: String) {
        let series = [("transport", trial.transport), ("endpoint", endpoint)]
        Counter(
            label: Name.trials.0, dimensions: dimensions(series + [("status", trial.status.rawValue)], Name.trials),
            factory: factory
        ).increment()
        guard !trial.warmup, trial.status == .ok, let ttfa = trial.ttfaNs else { return }
        Recorder(
            label: Name.ttfa.0,
            dimensions: dimensions(series + [("recording", recording), ("connection", trial.connection)], Name.ttfa),
            aggregate: true, factory: factory
        ).record(Double(ttfa) / 1e9)
        for phase in Phase.allCases {
            guard let value = trial.phaseNs(phase), value >= 0 else { continue }
            Recorder(
                label: Name.phase.0, dimensions: dimensions(series + [("phase", phase.rawValue)], Name.phase),
                aggregate: true, factory: factory
            ).record(Double(value) / 1e9)
        }
    }

    /// A round's gauges and its count.
    func record(_ round: TTFAMetrics.Round, gauges: [TTFAMetrics.SeriesGauges]) {
        Counter(
            label: Name.rounds.0, dimensions: dimensions([("result", round.result.rawValue)], Name.rounds),
            factory: factory
        ).increment()
        Gauge(label: Name.roundDuration.0, dimensions: dimensions([], Name.roundDuration), factory: factory)
            .record(round.durationSeconds)
        for series in gauges {
            Gauge(label: Name.up.0, dimensions: dimensions(series.labels, Name.up), factory: factory)
                .record(series.up ? 1 : 0)
            if let p50 = series.p50, let p95 = series.p95 {
                Gauge(label: Name.p50.0, dimensions: dimensions(series.labels, Name.p50), factory: factory).record(p50)
                Gauge(label: Name.p95.0, dimensions: dimensions(series.labels, Name.p95), factory: factory).record(p95)
            }
        }
        for threshold in round.thresholds {
            Gauge(
                label: Name.breached.0, dimensions: dimensions([("threshold", threshold.expression)], Name.breached),
                factory: factory
            ).record(threshold.passed ? 0 : 1)
        }
    }

    /// One trace for an ok measured trial: a root span `ttfa.trial` from the scheduled end of
    /// speech to the first audio, and a child span per part of where the time went, back to
    /// back, adding up to the TTFA.
    package func trace(_ trial: TrialRecord, endpoint: String, parts: [(name: String, ms: Double)]) {
        guard let tracer, !trial.warmup, trial.status == .ok, let ttfa = trial.ttfaNs,
            let started = Self.epochNanoseconds(trial.startedAt)
        else { return }
        let speechEnd = started + UInt64(max(0, trial.speechEndNs))
        let root = tracer.startSpan(
            "ttfa.trial", context: ServiceContext.topLevel, ofKind: .client, at: EpochInstant(speechEnd))
        root.attributes["ttfa.transport"] = trial.transport
        root.attributes["ttfa.endpoint"] = endpoint
        root.attributes["ttfa.recording"] = trial.recording
        root.attributes["ttfa.connection"] = trial.connection
        root.attributes["ttfa.run_id"] = Int(trial.runID)
        root.attributes["ttfa.trial"] = trial.seq
        root.attributes["ttfa.ttfa_ms"] = Double(ttfa) / 1e6
        // Back to back from the end of speech; the last part ends at the first audio, so the
        // children add up to the root's length exactly (the parts are rounded to nanoseconds).
        let end = speechEnd + UInt64(ttfa)
        var at = speechEnd
        for (index, part) in parts.enumerated() where at < end {
            let length = UInt64(max(0, (part.ms * 1e6).rounded()))
            let next = index == parts.count - 1 ? end : min(end, at + length)
            let span = tracer.startSpan(part.name, context: root.context, ofKind: .internal, at: EpochInstant(at))
            span.attributes["ttfa.ms"] = part.ms
            span.end(at: EpochInstant(next))
            at = next
        }
        root.end(at: EpochInstant(end))
    }

    /// Nanoseconds since 1970 of an ISO 8601 time as stored (`2026-12-07T10:00:00.123Z`).
    static func epochNanoseconds(_ text: String) -> UInt64? {
        guard let date = Timestamp.parse(text) else { return nil }
        return UInt64(max(0, date.timeIntervalSince1970 * 1e9))
    }
}

/// A moment as nanoseconds since 1970, for spans placed where the trial's stored times say.
struct EpochInstant: TracerInstant {
    let nanosecondsSinceEpoch: UInt64
    init(_ nanoseconds: UInt64) { nanosecondsSinceEpoch = nanoseconds }
    static func < (a: Self, b: Self) -> Bool { a.nanosecondsSinceEpoch < b.nanosecondsSinceEpoch }
}
