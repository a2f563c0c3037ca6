import Checks
import Foundation
import Statistics
import Storage
import TTFASupport
import VoiceTransport

/// A run's results per transport, computed from its stored trials only — so `ttfa run` and a
/// later `ttfa report` print the same figures.
package struct RunSummary: Sendable {
    package var run: RunRecord
    package var transports: [TransportSummary]
    package var comparisons: [Comparison]
    /// One verdict per transport after the first, each against the first (the baseline).
    package var verdicts: [Verdict]
    /// The first verdict: the run's one-line answer (nil with fewer than two transports).
    package var verdict: Verdict? { verdicts.first }
    /// Warm-up trials stored (not in statistics).
    package var warmups: Int
    /// The run's `--timeout`, milliseconds (from its stored configuration).
    package var timeoutMs: Double?
    /// `reset` (one-turn conversations) or `keep`, from the stored configuration.
    package var context: String?
    /// Thresholds checked against this run (`check(_:)`), in the order given.
    package var checks: [ThresholdResult] = []
    /// Whether every threshold checked passed.
    package var thresholdsPassed: Bool { checks.allSatisfy(\.passed) }

    /// Evaluates `thresholds` and keeps their results for the renderers.
    package mutating func check(_ thresholds: [Threshold]) {
        checks = thresholds.map { $0.evaluate(self) }
    }

    /// The transports and recordings the stored trials cover, for validating thresholds.
    package var recordingNames: [String] {
        var names: [String] = []
        for t in transports { for r in t.recordings where !names.contains(r.name) { names.append(r.name) } }
        return names
    }

    /// Phases reported, in the order a turn goes through them. Setup phases and `encode` are
    /// durations; the others are measured from the scheduled end of speech.
    package static let phaseNames = Phase.allCases.map(\.rawValue)

    /// The share of invalid trials the run allowed (`--max-invalid`, stored with it).
    package var maxInvalidShare: Double

    package init(run: RunRecord, trials: [TrialRecord]) {
        self.run = run
        let config = (try? JSONSerialization.jsonObject(with: Data(run.configJSON.utf8))) as? [String: Any]
        let timeout = config?["timeout_ms"] as? Double
        timeoutMs = timeout
        context = config?["context"] as? String
        maxInvalidShare = config?["max_invalid"] as? Double ?? 0.1
        warmups = trials.filter(\.warmup).count
        var order: [String] = []
        for trial in trials where !order.contains(trial.transport) { order.append(trial.transport) }
        transports = order.map { name in
            TransportSummary(transport: name, trials: trials.filter { $0.transport == name }, timeoutMs: timeout)
        }
        // Transports in their canonical order (websocket first): the baseline is the first.
        let ordered = transports.sorted { a, b in
            (TransportKind.all.firstIndex { $0.rawValue == a.transport } ?? .max)
                < (TransportKind.all.firstIndex { $0.rawValue == b.transport } ?? .max)
        }
        verdicts = ordered.dropFirst().map {
            Verdict(baseline: ordered[0].outcomes, candidate: $0.outcomes, seed: UInt64(bitPattern: run.seed))
        }
        comparisons = verdicts.compactMap(\.comparison)
    }

    /// Measured trials that failed or were invalid, across transports.
    package var unsuccessful: Int { transports.reduce(0) { $0 + $1.failed + $1.invalid } }

    /// Whether the run passes, and why not: failures the server caused fail it; trials the
    /// harness could not replay on schedule (`invalid`) fail it only beyond `maxInvalidShare`
    /// of a transport's trials or when they leave fewer than 3 valid ones; a transport whose
    /// every warm-up failed fails it.
    /// The run's health judged with the share of invalid trials it was run to allow.
    package var health: RunHealth { health(maxInvalidShare: maxInvalidShare) }

    package func health(maxInvalidShare: Double) -> RunHealth {
        var health = RunHealth()
        for t in transports {
            if t.failed > 0 {
                health.problems.append(
                    "\(t.transport): \(t.failed) of \(Format.count(t.trials, "trial")) failed (\(Format.kinds(t.errors.filter { $0.kind != "invalid" })))"
                )
            }
            if t.invalid > 0 {
                let share = Double(t.invalid) / Double(max(1, t.trials))
                let percent = "\(Int((share * 100).rounded()))%, allowed \(Int((maxInvalidShare * 100).rounded()))%"
                if share > maxInvalidShare {
                    health.problems.append(
                        "\(t.transport): \(t.invalid) of \(Format.count(t.trials, "trial")) invalid (\(percent)): the machine was too busy to replay on schedule"
                    )
                } else if t.trials - t.invalid < 3 {
                    health.problems.append(
                        "\(t.transport): only \(t.trials - t.invalid) valid trials left after \(t.invalid) invalid; at least 3 are needed"
                    )
                } else {
                    health.notes.append(
                        "\(t.transport): \(t.invalid) of \(Format.count(t.trials, "trial")) invalid (\(percent)), left out of the statistics"
                    )
                }
            }
            if t.warmup.trials > 0 && t.warmup.ok == 0 {
                health.problems.append("\(t.transport): every warm-up trial failed (\(Format.kinds(t.warmup.errors)))")
            }
        }
        return health
    }
}

/// Why a run fails (exit 3) or passes with remarks.
package struct RunHealth: Sendable {
    package var problems: [String] = []
    package var notes: [String] = []
    package var passed: Bool { problems.isEmpty }
}

/// One transport's figures within a run (measured trials only, warm-ups summarised apart).
package struct TransportSummary: Sendable {
    package var transport: String
    package var endpoint: String
    package var connection: String
    package var trials: Int
    package var ok: Int
    /// Failures (not `invalid`): the server's, the network's, or an attribution guard's.
    package var failed: Int
    package var invalid: Int
    /// Timeouts before any audio (right-censored).
    package var timeouts: Int
    /// Status → count for every trial that was not ok (`invalid` included).
    package var errors: [(kind: String, count: Int)]
    /// TTFA of ok trials, milliseconds.
    package var ttfaValues: [Double]
    package var ttfa: Summary?
    /// p50 counting timeouts as slower than every answer; nil without timeouts.
    package var ttfaWithTimeouts: CensoredMedian?
    /// Phase → summary (ms), for phases the transport has, in a turn's order.
    package var phases: [(phase: Phase, summary: Summary)]
    /// Per recording: name, duration (ms), TTFA summary of ok trials.
    package var recordings: [(name: String, durationMs: Double, ttfa: Summary?)]
    package var underruns: Int
    package var underrunMs: Double
    /// Protocol anomalies set aside (audio of other responses, events of other requests …).
    package var anomalies: Int
    /// Median clumps of audio events per ok trial, and whether most trials had several: the
    /// signature of a proxy or platform buffering the response.
    package var audioBurstsP50: Double?
    package var looksBuffered: Bool
    /// The most common error message per kind, to say why.
    package var exampleErrors: [(kind: String, message: String)]
    /// Warm-up trials: how many, how many ok, what failed.
    package var warmup: (trials: Int, ok: Int, errors: [(kind: String, count: Int)], example: String?)
    /// Where the median trial's time to first audio went, when the server's own record of it
    /// is known (runs against the embedded reference server).
    package var breakdown: Breakdown?
    /// Warm trials and whether their connection really was reused; `reconnected` trials paid
    /// for a new connection inside the trial (a server closed the kept-alive one).
    package var reuse: (warm: Int, reused: Int, reconnected: Int)
    /// What the verdict needs.
    package var outcomes: TransportOutcomes

    init(transport: String, trials allTrials: [TrialRecord], timeoutMs: Double?) {
        self.transport = transport
        let trials = allTrials.filter { !$0.warmup }
        let warmups = allTrials.filter(\.warmup)
        endpoint = allTrials.first?.endpoint ?? ""
        connection = allTrials.first?.connection ?? ""
        self.trials = trials.count
        let okTrials = trials.filter { $0.status == .ok }
        ok = okTrials.count
        invalid = trials.filter { $0.status == .invalid }.count
        failed = trials.count - ok - invalid
        timeouts = trials.filter(\.isCensored).count
        errors = Self.counts(trials.filter { $0.status != .ok })
        var examples: [String: String] = [:]
        for trial in trials where trial.status != .ok && examples[trial.status.rawValue] == nil {
            examples[trial.status.rawValue] = trial.errorMessage ?? ""
        }
        exampleErrors = errors.map { ($0.kind, examples[$0.kind] ?? "") }
        ttfaValues = okTrials.compactMap(\.ttfaNs).map { Double($0) / 1e6 }
        ttfa = Summary(ttfaValues)
        ttfaWithTimeouts = CensoredMedian(ok: ttfaValues, timeouts: timeouts, timeoutMs: timeoutMs)
        anomalies = trials.reduce(0) { $0 + $1.anomalies }
        let bursts = okTrials.compactMap(\.audioBursts)
        audioBurstsP50 = bursts.isEmpty ? nil : Summary.median(bursts.map(Double.init))
        // The diagnosis is of a proxy buffering an HTTP response: RTP crosses no such proxy, and
        // its packets' clumps are the network's or the sender's, which the jitter buffer absorbs.
        let overUDP = TransportKind(rawValue: transport)?.mediaOverUDP ?? false
        looksBuffered = !overUDP && !bursts.isEmpty && bursts.filter { $0 >= 2 }.count * 2 > bursts.count

        func ms(_ values: [Int64?]) -> Summary? { Summary(values.compactMap { $0 }.map { Double($0) / 1e6 }) }
        let blocked = okTrials.map(\.uploadBlockedNs)
        func summary(_ phase: Phase) -> Summary? {
            // Time blocked on a full socket is shown only when some trial had any.
            if phase == .uploadBlocked && !blocked.contains(where: { ($0 ?? 0) > 0 }) { return nil }
            return ms(okTrials.map { $0.phaseNs(phase) })
        }
        phases = Phase.allCases.compactMap { phase in summary(phase).map { (phase, $0) } }

        var recordingOrder: [String] = []
        for trial in trials where !recordingOrder.contains(trial.recording) { recordingOrder.append(trial.recording) }
        recordings = recordingOrder.map { name in
            let these = trials.filter { $0.recording == name }
            return (
                name, Double(these.first?.recordingNs ?? 0) / 1e6,
                Summary(these.filter { $0.status == .ok }.compactMap(\.ttfaNs).map { Double($0) / 1e6 })
            )
        }
        underruns = okTrials.reduce(0) { $0 + $1.underruns }
        underrunMs = Double(okTrials.reduce(0) { $0 + $1.underrunNs }) / 1e6

        let failedWarmups = warmups.filter { $0.status != .ok }
        warmup = (
            warmups.count, warmups.count - failedWarmups.count, Self.counts(failedWarmups),
            failedWarmups.first?.errorMessage
        )
        breakdown = Breakdown(median: okTrials, transport: TransportKind(rawValue: transport))
        let warm = trials.filter { $0.connection == "warm" }
        reuse = (
            warm.count, warm.filter { $0.connectionReused == true }.count,
            warm.filter { $0.connectionReused == false }.count
        )

        let failures = trials.filter(\.isFailure)
        outcomes = TransportOutcomes(
            name: transport,
            okByRecording: recordingOrder.map { name in
                okTrials.filter { $0.recording == name }.compactMap(\.ttfaNs).map { Double($0) / 1e6 }
            },
            trials: trials.count, timeouts: timeouts,
            otherFailures: Self.counts(failures.filter { !$0.isCensored }),
            invalid: invalid)
    }

    /// Status → count, most frequent first.
    static func counts(_ trials: [TrialRecord]) -> [(kind: String, count: Int)] {
        var counts: [String: Int] = [:]
        for trial in trials { counts[trial.status.rawValue, default: 0] += 1 }
        return counts.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }.map { ($0.key, $0.value) }
    }

    package func phase(_ phase: Phase) -> Summary? {
        phases.first { $0.phase == phase }?.summary
    }
}

/// Where one trial's time to first audio went, from the end of speech on. The parts add up to
/// its TTFA exactly: the client's work, the request on the wire (with a new connection's set-up
/// when it lay on the path — a cold WebRTC call's steps from the client secret to the data
/// channel, as far as they outlasted the speech), the server's own record of its time (edge
/// function overhead, ingest, model), and the answer's way back.
package struct Breakdown: Sendable {
    /// The trial (its `seq`): the one with the median TTFA among the ok trials.
    package var trial: Int
    package var ttfaMs: Double
    /// (name, milliseconds) in order: encode, connection_setup, upload, edge, ingest, model, network.
    package var parts: [(name: String, ms: Double)]

    package static let labels: [String: String] = [
        "encode": "client encode", "connection_setup": "connection set-up", "upload": "upload (request on the wire)",
        "edge": "edge function overhead", "ingest": "ingest", "model": "model to first audio",
        "network": "network (answer on the wire)",
    ]

    /// The breakdown of the median of `trials` (ok trials of one transport), if the server's
    /// record of it is there.
    init?(median trials: [TrialRecord], transport: TransportKind?) {
        let known = trials.filter { $0.ttfaNs != nil && $0.serverRequestNs != nil && $0.serverFirstAudioNs != nil }
            .sorted { $0.ttfaNs! < $1.ttfaNs! }
        guard !known.isEmpty else { return nil }
        self.init(trial: known[(known.count - 1) / 2], transport: transport)
    }

    /// The breakdown of one ok trial, if the server's record of it is there.
    package init?(trial t: TrialRecord, transport: TransportKind?) {
        guard t.ttfaNs != nil, t.serverRequestNs != nil, t.serverFirstAudioNs != nil else { return nil }
        func ms(_ ns: Int64?) -> Double { Double(ns ?? 0) / 1e6 }
        let encode = ms(t.encodeNs)
        let toServer = ms(t.serverRequestNs! - t.speechEndNs) - encode
        // A WebRTC call set up inside the trial (cold): what of its steps lay past the end of
        // speech held the microphone's last frames and the commit back.
        let call = [t.secretNs, t.offerAnswerNs, t.iceNs, t.dtlsNs, t.datachannelNs].compactMap { $0 }
        let setup =
            (transport?.requestsAtEndOfSpeech ?? false) && t.connectionReused == false
            ? min(toServer, ms(t.dnsNs) + ms(t.connectNs) + ms(t.tlsNs))
            : t.offerAnswerNs != nil ? min(toServer, max(0, ms(call.reduce(0, +) - t.speechEndNs))) : 0
        let serverMs = ms(t.serverFirstAudioNs! - t.serverRequestNs!)
        let edge = ms(t.serverEdgeNs)
        let ingest = ms(t.serverIngestNs)
        trial = t.seq
        ttfaMs = ms(t.ttfaNs)
        parts = [
            ("encode", encode), ("connection_setup", setup), ("upload", toServer - setup),
            ("edge", edge), ("ingest", ingest), ("model", serverMs - edge - ingest),
            ("network", ms(t.firstAudioNs) - ms(t.serverFirstAudioNs)),
        ]
    }

    /// The parts' sum (equal to the TTFA up to rounding).
    package var totalMs: Double { parts.reduce(0) { $0 + $1.ms } }
}
