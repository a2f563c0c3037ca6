import Prometheus
import Statistics
import Storage
import Synchronization

/// ttfa's metric families, in one Prometheus registry: what `ttfa monitor` serves on `/metrics`
/// and `ttfa report --format openmetrics` writes for one run. Units are seconds (Prometheus's
/// base unit); every family starts with `ttfa_`.
///
/// | family | type | labels |
/// |---|---|---|
/// | `ttfa_time_to_first_audio_seconds` | histogram | transport, endpoint, recording, connection |
/// | `ttfa_phase_seconds` | histogram | transport, endpoint, phase |
/// | `ttfa_trials_total` | counter | transport, endpoint, status |
/// | `ttfa_last_round_ttfa_p50_seconds`, `…_p95_seconds` | gauge | transport, endpoint |
/// | `ttfa_endpoint_up` | gauge | transport, endpoint |
/// | `ttfa_threshold_breached` | gauge | threshold |
/// | `ttfa_rounds_total` | counter | result |
/// | `ttfa_last_round_end_timestamp_seconds`, `ttfa_last_round_duration_seconds` | gauge | |
/// | `ttfa_recording_labels_folded` | gauge | |
/// | `ttfa_build_info` | gauge | version, commit |
///
/// The histograms hold measured `ok` trials only (as the statistics do); the counter holds
/// every stored trial, warm-ups included, by its stored status (`ok`, `invalid`, or the failure
/// kind), so its sum over statuses equals the rows stored.
package final class TTFAMetrics: Sendable {
    /// 10 ms to 10 s, finer where voice answers fall (200 ms – 2 s).
    package static let defaultBuckets: [Double] = [
        0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6, 0.7, 0.8, 0.9, 1, 1.25, 1.5,
        1.75, 2, 2.5, 3, 4, 5, 7.5, 10,
    ]
    /// Phases run from fractions of a millisecond (a warm connection's encode) to seconds.
    package static let phaseBuckets: [Double] = [
        0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10,
    ]
    /// Distinct recordings labelled by name before the rest are folded into `other`.
    package static let defaultRecordingLimit = 20

    package let registry = PrometheusCollectorRegistry()
    package let buckets: [Double]
    /// Where the same figures are pushed over OTLP, if anywhere.
    package let otlp: OTLPExport?
    private let state: Mutex<State>
    private let scrapes = Atomic<Int>(0)

    private struct State: Sendable {
        var recordings: LabelBudget
        var foldNoted = false
        var series: Set<[String]> = []
        var thresholds: Set<String> = []
    }

    /// The families' names, units and help texts.
    enum Family {
        static var ttfa: MetricNameDescriptor {
            MetricNameDescriptor(
                namespace: "ttfa", metricName: "time_to_first_audio", unitName: "seconds",
                helpText: "Time to first audio of measured ok trials, from the scheduled end of speech.")
        }
        static var phase: MetricNameDescriptor {
            MetricNameDescriptor(
                namespace: "ttfa", metricName: "phase", unitName: "seconds",
                helpText:
                    "Phases of measured ok trials: set-up steps and encode as durations, the others since the scheduled end of speech."
            )
        }
        static var trials: MetricNameDescriptor {
            MetricNameDescriptor(
                namespace: "ttfa", metricName: "trials", unitName: "total",
                helpText: "Trials stored, warm-ups included, by status (ok, invalid or the failure kind).")
        }
        static var p50: MetricNameDescriptor {
            MetricNameDescriptor(
                namespace: "ttfa", metricName: "last_round_ttfa_p50", unitName: "seconds",
                helpText: "Median TTFA of the last round's measured ok trials (NaN when none was ok).")
        }
        static var p95: MetricNameDescriptor {
            MetricNameDescriptor(
                namespace: "ttfa", metricName: "last_round_ttfa_p95", unitName: "seconds",
                helpText: "95th percentile TTFA of the last round's measured ok trials (NaN when none was ok).")
        }
        static var up: MetricNameDescriptor {
            MetricNameDescriptor(
                namespace: "ttfa", metricName: "endpoint_up", unitName: "",
                helpText: "1 when the last round had an ok measured trial of this transport and endpoint, else 0.")
        }
        static var breached: MetricNameDescriptor {
            MetricNameDescriptor(
                namespace: "ttfa", metricName: "threshold_breached", unitName: "",
                helpText: "1 when the threshold failed on the last round, else 0.")
        }
        static var rounds: MetricNameDescriptor {
            MetricNameDescriptor(
                namespace: "ttfa", metricName: "rounds", unitName: "total",
                helpText:
                    "Monitor rounds by result: complete, failed (trials failed or too many were invalid), error (nothing measured), interrupted."
            )
        }
        static var roundEnd: MetricNameDescriptor {
            MetricNameDescriptor(
                namespace: "ttfa", metricName: "last_round_end_timestamp", unitName: "seconds",
                helpText: "When the last round ended, Unix time.")
        }
        static var roundDuration: MetricNameDescriptor {
            MetricNameDescriptor(
                namespace: "ttfa", metricName: "last_round_duration", unitName: "seconds",
                helpText: "How long the last round took.")
        }
        static var folded: MetricNameDescriptor {
            MetricNameDescriptor(
                namespace: "ttfa", metricName: "recording_labels_folded", unitName: "",
                helpText: "Distinct recordings whose trials are labelled recording=\"other\" (the label's cap).")
        }
        static var build: MetricNameDescriptor {
            MetricNameDescriptor(
                namespace: "ttfa", metricName: "build_info", unitName: "",
                helpText: "The ttfa build: version and commit.")
        }
    }

    /// - Parameters:
    ///   - buckets: upper bounds of the TTFA histogram's buckets, seconds, ascending.
    ///   - recordingLimit: distinct `recording` label values before the rest become `other`.
    package init(
        buckets: [Double] = TTFAMetrics.defaultBuckets, recordingLimit: Int = TTFAMetrics.defaultRecordingLimit,
        version: String, commit: String?, otlp: OTLPExport? = nil
    ) {
        self.buckets = buckets
        self.otlp = otlp
        state = Mutex(State(recordings: LabelBudget(limit: recordingLimit)))
        registry.makeGauge(
            descriptor: Family.build, labels: [("version", version), ("commit", commit ?? "unknown")]
        ).set(to: 1)
        registry.makeGauge(descriptor: Family.folded).set(to: 0)
    }

    /// Counts one stored trial and, when it is a measured ok trial, adds its TTFA and phases to
    /// the histograms. Returns a note the first time a recording is folded into `other`.
    @discardableResult
    package func record(_ trial: TrialRecord, endpoint: String) -> String? {
        let (recording, note, folded) = state.withLock { state -> (String, String?, Int) in
            let label = state.recordings.label(trial.recording)
            var note: String?
            if label == LabelBudget.other && trial.recording != LabelBudget.other && !state.foldNoted {
                state.foldNoted = true
                note =
                    "more than \(state.recordings.limit) distinct recordings: the metrics label the trials of \(trial.recording) and every later one recording=\"other\" (each trial is still stored under its own name)"
            }
            state.series.insert([trial.transport, endpoint])
            return (label, note, state.recordings.folded.count)
        }
        registry.makeGauge(descriptor: Family.folded).set(to: Double(folded))
        let series = [("transport", trial.transport), ("endpoint", endpoint)]
        registry.makeCounter(descriptor: Family.trials, labels: series + [("status", trial.status.rawValue)])
            .increment()
        otlp?.record(trial, endpoint: endpoint, recording: recording)
        guard !trial.warmup, trial.status == .ok, let ttfa = trial.ttfaNs else { return note }
        registry.makeValueHistogram(
            descriptor: Family.ttfa, labels: series + [("recording", recording), ("connection", trial.connection)],
            buckets: buckets
        ).record(Double(ttfa) / 1e9)
        for phase in Phase.allCases {
            guard let value = trial.phaseNs(phase), value >= 0 else { continue }
            registry.makeValueHistogram(
                descriptor: Family.phase, labels: series + [("phase", phase.rawValue)], buckets: Self.phaseBuckets
            ).record(Double(value) / 1e9)
        }
        return note
    }

    /// Records a round's stored trials (`record(_:endpoint:)` each) and returns their series
    /// with the TTFA of each one's measured ok trials, for `record(_ round:)`, and the notes to
    /// print.
    package func record(
        trials: [TrialRecord], endpoint: (TrialRecord) -> String
    ) -> (series: [Round.Series], notes: [String]) {
        var series: [String: Round.Series] = [:]
        var order: [String] = []
        var notes: [String] = []
        for trial in trials {
            let label = endpoint(trial)
            if let note = record(trial, endpoint: label) { notes.append(note) }
            let key = "\(trial.transport) \(label)"
            if series[key] == nil {
                series[key] = Round.Series(transport: trial.transport, endpoint: label, ttfaSeconds: [])
                order.append(key)
            }
            if !trial.warmup, trial.status == .ok, let ttfa = trial.ttfaNs {
                series[key]!.ttfaSeconds.append(Double(ttfa) / 1e9)
            }
        }
        return (order.map { series[$0]! }, notes)
    }

    /// A round's results, for the gauges and the rounds counter.
    package struct Round: Sendable {
        package enum Result: String, Sendable, CaseIterable {
            /// Every measured trial ok (invalid ones within the allowance).
            case complete
            /// Measured, but trials failed or too many were invalid: the endpoint is (partly) down.
            case failed
            /// Nothing could be measured (the store refused the run, a server could not start).
            case error
            /// Stopped by SIGINT or SIGTERM; its completed trials are kept.
            case interrupted
        }

        package struct Series: Sendable {
            package var transport: String
            package var endpoint: String
            /// TTFA of the measured ok trials, seconds.
            package var ttfaSeconds: [Double]

            package init(transport: String, endpoint: String, ttfaSeconds: [Double]) {
                self.transport = transport
                self.endpoint = endpoint
                self.ttfaSeconds = ttfaSeconds
            }
        }

        package var result: Result
        package var endedAt: Double
        package var durationSeconds: Double
        package var series: [Series]
        /// Threshold expression → whether it passed.
        package var thresholds: [(expression: String, passed: Bool)]

        package init(
            result: Result, endedAt: Double, durationSeconds: Double, series: [Series],
            thresholds: [(expression: String, passed: Bool)]
        ) {
            self.result = result
            self.endedAt = endedAt
            self.durationSeconds = durationSeconds
            self.series = series
            self.thresholds = thresholds
        }
    }

    /// Sets the last round's gauges and counts it. A series the round did not measure (it could
    /// not run) is marked down.
    package func record(_ round: Round) {
        for result in Round.Result.allCases {
            _ = registry.makeCounter(descriptor: Family.rounds, labels: [("result", result.rawValue)])
        }
        registry.makeCounter(descriptor: Family.rounds, labels: [("result", round.result.rawValue)])
            .increment()
        registry.makeGauge(descriptor: Family.roundEnd).set(to: round.endedAt)
        registry.makeGauge(descriptor: Family.roundDuration).set(to: round.durationSeconds)
        let known = state.withLock { state in
            for s in round.series { state.series.insert([s.transport, s.endpoint]) }
            for t in round.thresholds { state.thresholds.insert(t.expression) }
            return state.series
        }
        let gauges = known.map { key in
            let values = round.series.first { $0.transport == key[0] && $0.endpoint == key[1] }?.ttfaSeconds ?? []
            return SeriesGauges(
                labels: [("transport", key[0]), ("endpoint", key[1])], up: !values.isEmpty,
                p50: Self.quantile(0.5, of: values), p95: Self.quantile(0.95, of: values))
        }
        otlp?.record(round, gauges: gauges)
        for series in gauges {
            registry.makeGauge(descriptor: Family.up, labels: series.labels).set(to: series.up ? 1 : 0)
            registry.makeGauge(descriptor: Family.p50, labels: series.labels).set(to: series.p50 ?? .nan)
            registry.makeGauge(descriptor: Family.p95, labels: series.labels).set(to: series.p95 ?? .nan)
        }
        for threshold in round.thresholds {
            registry.makeGauge(descriptor: Family.breached, labels: [("threshold", threshold.expression)])
                .set(to: threshold.passed ? 0 : 1)
        }
    }

    /// The page in `format`. Counted before it is read, so a page served after `scrapeCount`
    /// went up holds everything recorded before.
    package func exposition(_ format: ExpositionFormat) -> String {
        scrapes.add(1, ordering: .sequentiallyConsistent)
        return format.render(registry.emitToString())
    }

    /// Pages served so far.
    package var scrapeCount: Int { scrapes.load(ordering: .sequentiallyConsistent) }

    /// What a round says of one series seen so far (its transport and endpoint labels): whether it
    /// measured an ok trial, and its p50 and p95 (nil when it did not).
    struct SeriesGauges {
        var labels: [(String, String)]
        var up: Bool
        var p50: Double?
        var p95: Double?
    }

    /// The q-quantile of `values`, as the run summaries compute it.
    static func quantile(_ q: Double, of values: [Double]) -> Double? {
        values.isEmpty ? nil : Summary.percentile(values.sorted(), q)
    }
}
