import TTFASupport
import VoiceTransport

/// One row of `runs`: a `ttfa run` invocation. See results/README.md.
///
/// Each stored property is a column, named in snake case (`RecordColumns`): this declaration is
/// the table's, the CSV's and the schema document's single source.
public struct RunRecord: Codable, Sendable, Equatable {
    public static let tableName = "runs"

    public var id: Int64?
    public var status: RunStatus
    /// ISO 8601 UTC.
    public var startedAt: String
    public var endedAt: String?
    public var label: String?
    public var hostname: String
    public var os: String
    public var cpuModel: String
    public var cpuCount: Int
    public var swiftVersion: String
    public var curlVersion: String
    public var opensslVersion: String
    /// The database engine's version ("3.40.1", "PostgreSQL 15.18"); `sqlite_version` before
    /// migration v6.
    public var databaseVersion: String
    public var ttfaVersion: String
    public var gitCommit: String?
    /// The command line, secrets replaced by ***.
    public var commandLine: String
    /// The full configuration as JSON, secrets replaced by ***.
    public var configJSON: String
    /// Seed of the bootstrap confidence intervals.
    public var seed: Int64
    /// The load group the run belongs to (`ttfa run --group`): runs of one group, from any
    /// number of machines, are reported together.
    public var groupName: String?

    public init(
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
public struct TrialRecord: Codable, Sendable, Equatable {
    public static let tableName = "trials"

    public var id: Int64?
    public var runID: Int64
    /// Order in which the run's trials finished (1, 2, …); with `--concurrency 1` the order
    /// they ran in.
    public var seq: Int
    public var transport: String
    /// Endpoint URL, secrets replaced by ***.
    public var endpoint: String
    /// `warm` or `cold`.
    public var connection: String
    public var recording: String
    public var recordingNs: Int64
    /// Round number (1-based); warm-up rounds come first.
    public var trial: Int
    public var warmup: Bool
    public var status: TrialStatus
    public var errorKind: ErrorKind?
    public var errorMessage: String?
    /// Wall-clock time the trial started, ISO 8601 UTC.
    public var startedAt: String
    public var ttfaNs: Int64?
    public var speechEndNs: Int64
    public var dnsNs: Int64?
    public var connectNs: Int64?
    public var tlsNs: Int64?
    public var upgradeNs: Int64?
    public var connectionReused: Bool?
    public var uploadDoneNs: Int64?
    public var responseHeadersNs: Int64?
    public var firstByteNs: Int64?
    public var firstEventNs: Int64?
    public var firstAudioNs: Int64?
    public var lastAudioNs: Int64?
    public var doneNs: Int64?
    public var audioBytes: Int
    public var audioEvents: Int
    public var maxAudioGapNs: Int64?
    public var underruns: Int
    public var underrunNs: Int64
    public var maxSendLagNs: Int64?
    public var chunksSent: Int
    public var curlNamelookupNs: Int64?
    public var curlConnectNs: Int64?
    public var curlAppconnectNs: Int64?
    public var curlPretransferNs: Int64?
    public var curlStarttransferNs: Int64?
    public var curlTotalNs: Int64?
    public var httpVersion: String?
    /// Client work after the end of speech (request body; commit framing), a duration.
    public var encodeNs: Int64?
    /// Time writes waited for a full socket: the network's backpressure.
    public var uploadBlockedNs: Int64?
    /// Harness lateness that can move the TTFA (decides `invalid`).
    public var speechEndLagNs: Int64?
    /// Id of the answer the audio came from (Realtime response id; Chat Completions chunk id).
    public var responseID: String?
    /// Protocol anomalies set aside during the trial.
    public var anomalies: Int
    /// Clumps of audio events that arrived together (a buffering proxy's signature).
    public var audioBursts: Int?
    /// The reference server's own record of this trial's answer, when the run measured the
    /// embedded server: when it had the complete request and when its first audio left
    /// (relative to the trial's start, the same clock), and how it spent the time in between.
    public var serverRequestNs: Int64?
    public var serverFirstAudioNs: Int64?
    public var serverEdgeNs: Int64?
    public var serverIngestNs: Int64?
    public var serverModelNs: Int64?

    /// Open load model: how late the session started after its scheduled arrival (nil in the
    /// closed model).
    public var startLateNs: Int64? = nil

    /// A trial that has its identity and nothing measured yet: the caller sets what it measured.
    public init(
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
    public var isMeasuredOK: Bool { !warmup && status == .ok }

    /// A failure that is not the harness's (`invalid`) — what the exit code counts.
    public var isFailure: Bool { status.errorKind != nil }

    /// A timeout before any audio: its TTFA is only known to exceed the timeout.
    public var isCensored: Bool { status == .failed(.timeout) && ttfaNs == nil }
}

/// One row of `trial_events`: the arrival time of a key event of a trial, so reports can
/// draw the timeline and every figure can be recomputed.
public struct TrialEventRecord: Codable, Sendable, Equatable {
    public static let tableName = "trial_events"

    public var trialID: Int64
    public var seq: Int
    /// Nanoseconds since the trial's scheduled start.
    public var tNs: Int64
    /// Event kind (see results/README.md).
    public var kind: String
    /// A number that goes with the kind (bytes, lag ns, status, close code).
    public var value: Int64?
    /// Short text (event type, error message). Never a payload, never a secret.
    public var detail: String?

    public init(trialID: Int64, seq: Int, tNs: Int64, kind: String, value: Int64?, detail: String?) {
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
public struct SeriesRecord: Codable, Sendable, Equatable {
    public static let tableName = "run_series"

    public var runID: Int64
    public var transport: String
    /// Seconds since the run's first session was due (0-based).
    public var second: Int
    /// Sessions due to start in this second (open model: the arrival schedule; closed model:
    /// those that started).
    public var offered: Int
    public var started: Int
    /// Sessions that started later than the lag budget after their scheduled arrival.
    public var late: Int
    /// Sessions in flight at the end of the second.
    public var active: Int
    public var completed: Int
    public var ok: Int
    public var errors: Int
    public var invalid: Int
    public var ttfaP50Ns: Int64?
    public var ttfaP99Ns: Int64?
    public var maxSendLagNs: Int64?

    public init(
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
public enum SeriesJSON {
    public static let columns = [
        "second", "offered", "started", "late", "active", "completed", "ok", "errors", "invalid",
        "ttfa_p50_ms", "ttfa_p99_ms", "max_send_lag_ms",
    ]

    public static func encode(_ rows: [SeriesRecord]) -> JSONValue {
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
