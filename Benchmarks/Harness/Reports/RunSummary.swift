import Foundation

/// A run's results per transport, computed from its stored trials only — so `ttfa run` and a
/// later `ttfa report` print the same figures.
public struct RunSummary: Sendable {
    public var run: RunRecord
    public var transports: [TransportSummary]
    public var comparisons: [Comparison]
    /// Warm-up trials stored (not in statistics).
    public var warmups: Int

    /// Phases reported, in the order a turn goes through them. Setup phases are durations;
    /// the others are measured from the scheduled end of speech.
    public static let phaseNames = [
        "dns", "connect", "tls", "upgrade", "upload", "response_headers", "first_byte", "first_event",
        "first_audio", "last_audio", "done",
    ]

    public init(run: RunRecord, trials: [TrialRecord]) {
        self.run = run
        warmups = trials.filter(\.warmup).count
        let measured = trials.filter { !$0.warmup }
        var order: [String] = []
        for trial in measured where !order.contains(trial.transport) { order.append(trial.transport) }
        transports = order.map { name in TransportSummary(transport: name, trials: measured.filter { $0.transport == name }) }
        comparisons = []
        if let ws = transports.first(where: { $0.transport == "websocket" }),
           let sse = transports.first(where: { $0.transport == "sse" }),
           let comparison = Comparison(baseline: "websocket", ws.ttfaValues, candidate: "sse", sse.ttfaValues, seed: UInt64(bitPattern: run.seed)) {
            comparisons = [comparison]
        }
    }

    /// Trials that failed or were invalid, across transports.
    public var unsuccessful: Int { transports.reduce(0) { $0 + $1.failed + $1.invalid } }

    /// The one-line answer, when there is a comparison.
    public var verdict: String? { comparisons.first?.verdict }
}

/// One transport's figures within a run (measured trials only).
public struct TransportSummary: Sendable {
    public var transport: String
    public var endpoint: String
    public var connection: String
    public var trials: Int
    public var ok: Int
    public var failed: Int
    public var invalid: Int
    /// Error kind → count.
    public var errors: [(kind: String, count: Int)]
    /// TTFA of ok trials, milliseconds.
    public var ttfaValues: [Double]
    public var ttfa: Summary?
    /// Phase name → summary (ms), for phases the transport has.
    public var phases: [(name: String, summary: Summary)]
    /// Per recording: name, duration (ms), TTFA summary of ok trials.
    public var recordings: [(name: String, durationMs: Double, ttfa: Summary?)]
    public var underruns: Int
    public var underrunMs: Double
    /// The most common error message per kind, to say why.
    public var exampleErrors: [(kind: String, message: String)]

    init(transport: String, trials: [TrialRecord]) {
        self.transport = transport
        endpoint = trials.first?.endpoint ?? ""
        connection = trials.first?.connection ?? ""
        self.trials = trials.count
        let okTrials = trials.filter { $0.status == "ok" }
        ok = okTrials.count
        invalid = trials.filter { $0.status == "invalid" }.count
        failed = trials.count - ok - invalid
        var counts: [String: Int] = [:]
        var examples: [String: String] = [:]
        for trial in trials where trial.status != "ok" {
            counts[trial.status, default: 0] += 1
            if examples[trial.status] == nil { examples[trial.status] = trial.errorMessage ?? "" }
        }
        errors = counts.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }.map { ($0.key, $0.value) }
        exampleErrors = errors.map { ($0.kind, examples[$0.kind] ?? "") }
        ttfaValues = okTrials.compactMap(\.ttfaNs).map { Double($0) / 1e6 }
        ttfa = Summary(ttfaValues)

        func ms(_ values: [Int64?]) -> Summary? { Summary(values.compactMap { $0 }.map { Double($0) / 1e6 }) }
        func afterSpeech(_ path: KeyPath<TrialRecord, Int64?>) -> Summary? {
            ms(okTrials.map { t in t[keyPath: path].map { $0 - t.speechEndNs } })
        }
        let candidates: [(String, Summary?)] = [
            ("dns", ms(okTrials.map(\.dnsNs))),
            ("connect", ms(okTrials.map(\.connectNs))),
            ("tls", ms(okTrials.map(\.tlsNs))),
            ("upgrade", ms(okTrials.map(\.upgradeNs))),
            ("upload", afterSpeech(\.uploadDoneNs)),
            ("response_headers", afterSpeech(\.responseHeadersNs)),
            ("first_byte", afterSpeech(\.firstByteNs)),
            ("first_event", afterSpeech(\.firstEventNs)),
            ("first_audio", afterSpeech(\.firstAudioNs)),
            ("last_audio", afterSpeech(\.lastAudioNs)),
            ("done", afterSpeech(\.doneNs)),
        ]
        phases = candidates.compactMap { name, summary in summary.map { (name, $0) } }

        var recordingOrder: [String] = []
        for trial in trials where !recordingOrder.contains(trial.recording) { recordingOrder.append(trial.recording) }
        recordings = recordingOrder.map { name in
            let these = trials.filter { $0.recording == name }
            return (name, Double(these.first?.recordingNs ?? 0) / 1e6,
                    Summary(these.filter { $0.status == "ok" }.compactMap(\.ttfaNs).map { Double($0) / 1e6 }))
        }
        underruns = okTrials.reduce(0) { $0 + $1.underruns }
        underrunMs = Double(okTrials.reduce(0) { $0 + $1.underrunNs }) / 1e6
    }

    public func phase(_ name: String) -> Summary? {
        phases.first { $0.name == name }?.summary
    }
}
