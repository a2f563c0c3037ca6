import TTFASupport
import VoiceTransport

/// One row of `runs`: a `ttfa run` invocation. See results/README.md.
///
/// Each stored property is a column, named in snake case (`RecordColumns`): this declaration is
/// the table's, the CSV's and the schema document's single source.
package struct RunRecord: Codable, Sendable, Equatable {
    package static let tableName = "runs"

    package var id: Int64?
    package var status: RunStatus
    /// ISO 8601 UTC.
    package var startedAt: String
    package var endedAt: String?
    package var label: String?
    package var hostname: String
    package var os: String
    package var cpuModel: String
    package var cpuCount: Int
    package var swiftVersion: String
    package var curlVersion: String
    package var opensslVersion: String
    /// The database engine's version ("3.40.1", "PostgreSQL 15.18"); `sqlite_version` before
    /// migration v6.
    package var databaseVersion: String
    package var ttfaVersion: String
    package var gitCommit: String?
    /// The command line, secrets replaced by ***.
    package var commandLine: String
    /// The full configuration as JSON, secrets replaced by ***.
    package var configJSON: String
    /// Seed of the bootstrap confidence intervals.
    package var seed: Int64
    /// The load group the run belongs to (`ttfa run --group`): runs of one group, from any
    /// number of machines, are reported together.
    package var groupName: String?

    package init(
        id: Int64? = nil, status: RunStatus, startedAt: String, endedAt: String? = nil, label: String?,
        hostname: String, os: String, cpuModel: String, cpuCount: Int, swiftVersion: String, curlVersion: String,
        opensslVersion: String, databaseVersion: String, ttfaVersion: String, gitCommit: String?,
        commandLine: String, configJSON: String, seed: Int64, groupName: String? = nil
    ) {
        self.groupName = groupName
        self.id = id
        self.status = status
        self.startedAt = startedAt
        self.endedAt = endedAt
        self.label = label
        self.hostname = hostname
        self.os = os
        self.cpuModel = cpuModel
        self.cpuCount = cpuCount
        self.swiftVersion = swiftVersion
        self.curlVersion = curlVersion
        self.opensslVersion = opensslVersion
        self.databaseVersion = databaseVersion
        self.ttfaVersion = ttfaVersion
        self.gitCommit = gitCommit
        self.commandLine = commandLine
        self.configJSON = configJSON
        self.seed = seed
    }

}

/// One row of `trials`: one turn through one transport. Times are nanoseconds relative to the
/// trial's scheduled start (chunk 0 due), except durations (`*_ns` of setup phases).
package struct TrialRecord: Codable, Sendable, Equatable {
    package static let tableName = "trials"

    package var id: Int64?
    package var runID: Int64
    /// Order in which the run's trials finished (1, 2, …); with `--concurrency 1` the order
    /// they ran in.
    package var seq: Int
    package var transport: String
    /// Endpoint URL, secrets replaced by ***.
    package var endpoint: String
    /// `warm` or `cold`.
    package var connection: String
    package var recording: String
    package var recordingNs: Int64
    /// Round number (1-based); warm-up rounds come first.
    package var trial: Int
    package var warmup: Bool
    package var status: TrialStatus
    package var errorKind: ErrorKind?
    package var errorMessage: String?
    /// Wall-clock time the trial started, ISO 8601 UTC.
    package var startedAt: String
    package var ttfaNs: Int64?
    package var speechEndNs: Int64
    package var dnsNs: Int64?
    package var connectNs: Int64?
    package var tlsNs: Int64?
    package var upgradeNs: Int64?
    package var connectionReused: Bool?
    package var uploadDoneNs: Int64?
    package var responseHeadersNs: Int64?
    package var firstByteNs: Int64?
    package var firstEventNs: Int64?
    package var firstAudioNs: Int64?
    package var lastAudioNs: Int64?
    package var doneNs: Int64?
    package var audioBytes: Int
    package var audioEvents: Int
    package var maxAudioGapNs: Int64?
    package var underruns: Int
    package var underrunNs: Int64
    package var maxSendLagNs: Int64?
    package var chunksSent: Int
    package var curlNamelookupNs: Int64?
    package var curlConnectNs: Int64?
    package var curlAppconnectNs: Int64?
    package var curlPretransferNs: Int64?
    package var curlStarttransferNs: Int64?
    package var curlTotalNs: Int64?
    package var httpVersion: String?
    /// Client work after the end of speech (request body; commit framing), a duration.
    package var encodeNs: Int64?
    /// Time writes waited for a full socket: the network's backpressure.
    package var uploadBlockedNs: Int64?
    /// Harness lateness that can move the TTFA (decides `invalid`).
    package var speechEndLagNs: Int64?
    /// Id of the answer the audio came from (Realtime response id; Chat Completions chunk id).
    package var responseID: String?
    /// Protocol anomalies set aside during the trial.
    package var anomalies: Int
    /// Clumps of audio events that arrived together (a buffering proxy's signature).
    package var audioBursts: Int?
    /// The reference server's own record of this trial's answer, when the run measured the
    /// embedded server: when it had the complete request and when its first audio left
    /// (relative to the trial's start, the same clock), and how it spent the time in between.
    package var serverRequestNs: Int64?
    package var serverFirstAudioNs: Int64?
    package var serverEdgeNs: Int64?
    package var serverIngestNs: Int64?
    package var serverModelNs: Int64?

    /// Open load model: how late the session started after its scheduled arrival (nil in the
    /// closed model).
    package var startLateNs: Int64? = nil

    /// WebRTC: the steps of setting up the call, durations — inside the trial for a cold one
    /// (a warm trial's call was set up before it): the client secret from the edge, the SDP
    /// offer (with its ICE candidates) and answer, ICE, DTLS, the data channel opening, and
    /// the first RTP packet after DTLS.
    package var secretNs: Int64? = nil
    package var offerAnswerNs: Int64? = nil
    package var iceNs: Int64? = nil
    package var dtlsNs: Int64? = nil
    package var datachannelNs: Int64? = nil
    package var firstRtpNs: Int64? = nil
    /// WebRTC: when a receiver with the run's jitter buffer would start playing the first
    /// audio, since the trial's start.
    package var playoutNs: Int64? = nil

    /// A trial that has its identity and nothing measured yet: the caller sets what it measured.
    package init(
        runID: Int64, seq: Int, transport: String, endpoint: String, connection: String, recording: String,
        recordingNs: Int64, trial: Int, warmup: Bool, status: TrialStatus, startedAt: String, speechEndNs: Int64
    ) {
        self.runID = runID
        self.seq = seq
        self.transport = transport
        self.endpoint = endpoint
        self.connection = connection
        self.recording = recording
        self.recordingNs = recordingNs
        self.trial = trial
        self.warmup = warmup
        self.status = status
        self.startedAt = startedAt
        self.speechEndNs = speechEndNs
        audioBytes = 0
        audioEvents = 0
        underruns = 0
        underrunNs = 0
        chunksSent = 0
        anomalies = 0
    }

    /// Whether the trial counts in statistics: measured (not warm-up) and `ok`.
    package var isMeasuredOK: Bool { !warmup && status == .ok }

    /// A failure that is not the harness's (`invalid`) — what the exit code counts.
    package var isFailure: Bool { status.errorKind != nil }

    /// A timeout before any audio: its TTFA is only known to exceed the timeout.
    package var isCensored: Bool { status == .failed(.timeout) && ttfaNs == nil }
}

/// One row of `trial_events`: the arrival time of a key event of a trial, so reports can
/// draw the timeline and every figure can be recomputed.
package struct TrialEventRecord: Codable, Sendable, Equatable {
    package static let tableName = "trial_events"

    package var trialID: Int64
    package var seq: Int
    /// Nanoseconds since the trial's scheduled start.
    package var tNs: Int64
    /// Event kind (see results/README.md).
    package var kind: String
    /// A number that goes with the kind (bytes, lag ns, status, close code).
    package var value: Int64?
    /// Short text (event type, error message). Never a payload, never a secret.
    package var detail: String?

    package init(trialID: Int64, seq: Int, tNs: Int64, kind: String, value: Int64?, detail: String?) {
        self.trialID = trialID
        self.seq = seq
        self.tNs = tNs
        self.kind = kind
        self.value = value
        self.detail = detail
    }
}

/// One row of `run_series`: one second of a run for one transport — the offered load, what
/// started and finished in it, and the TTFA percentiles of the trials that finished in it.
package struct SeriesRecord: Codable, Sendable, Equatable {
    package static let tableName = "run_series"

    package var runID: Int64
    package var transport: String
    /// Seconds since the run's first session was due (0-based).
    package var second: Int
    /// Sessions due to start in this second (open model: the arrival schedule; closed model:
    /// those that started).
    package var offered: Int
    package var started: Int
    /// Sessions that started later than the lag budget after their scheduled arrival.
    package var late: Int
    /// Sessions in flight at the end of the second.
    package var active: Int
    package var completed: Int
    package var ok: Int
    package var errors: Int
    package var invalid: Int
    package var ttfaP50Ns: Int64?
    package var ttfaP99Ns: Int64?
    package var maxSendLagNs: Int64?

    package init(
        runID: Int64, transport: String, second: Int, offered: Int = 0, started: Int = 0, late: Int = 0,
        active: Int = 0,
        completed: Int = 0, ok: Int = 0, errors: Int = 0, invalid: Int = 0,
        ttfaP50Ns: Int64? = nil, ttfaP99Ns: Int64? = nil, maxSendLagNs: Int64? = nil
    ) {
        self.runID = runID
        self.transport = transport
        self.second = second
        self.offered = offered
        self.started = started
        self.late = late
        self.active = active
        self.completed = completed
        self.ok = ok
        self.errors = errors
        self.invalid = invalid
        self.ttfaP50Ns = ttfaP50Ns
        self.ttfaP99Ns = ttfaP99Ns
        self.maxSendLagNs = maxSendLagNs
    }
}

/// A run's time series in JSON: per transport, one row per second as an array in `columns`
/// order (compact for long runs).
package enum SeriesJSON {
    package static let columns = [
        "second", "offered", "started", "late", "active", "completed", "ok", "errors", "invalid",
        "ttfa_p50_ms", "ttfa_p99_ms", "max_send_lag_ms",
    ]

    package static func encode(_ rows: [SeriesRecord]) -> JSONValue {
        var transports: [String] = []
        for row in rows where !transports.contains(row.transport) { transports.append(row.transport) }
        func ms(_ ns: Int64?) -> JSONValue { ns.map { .double((Double($0) / 1000).rounded() / 1000) } ?? .null }
        return .object(
            [("columns", .array(columns.map { .string($0) }))]
                + transports.map { name in
                    (
                        name,
                        JSONValue.array(
                            rows.filter { $0.transport == name }.map { r in
                                .array([
                                    .int(Int64(r.second)), .int(Int64(r.offered)), .int(Int64(r.started)),
                                    .int(Int64(r.late)), .int(Int64(r.active)),
                                    .int(Int64(r.completed)), .int(Int64(r.ok)), .int(Int64(r.errors)),
                                    .int(Int64(r.invalid)),
                                    ms(r.ttfaP50Ns), ms(r.ttfaP99Ns), ms(r.maxSendLagNs),
                                ])
                            })
                    )
                })
    }
}
