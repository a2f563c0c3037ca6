import GRDB
import TTFASupport

/// One row of `runs`: a `ttfa run` invocation. See results/README.md.
public struct RunRecord: Codable, Sendable, Equatable, FetchableRecord, MutablePersistableRecord {
    public static let databaseTableName = "runs"

    public var id: Int64?
    /// `running`, `complete` or `interrupted`.
    public var status: String
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
    public var sqliteVersion: String
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

    enum CodingKeys: String, CodingKey {
        case id, status, label, hostname, os, seed, groupName = "group_name"
        case startedAt = "started_at", endedAt = "ended_at", cpuModel = "cpu_model", cpuCount = "cpu_count"
        case swiftVersion = "swift_version", curlVersion = "curl_version", opensslVersion = "openssl_version"
        case sqliteVersion = "sqlite_version", ttfaVersion = "ttfa_version", gitCommit = "git_commit"
        case commandLine = "command_line", configJSON = "config_json"
    }

    public init(
        id: Int64? = nil, status: String, startedAt: String, endedAt: String? = nil, label: String?,
        hostname: String, os: String, cpuModel: String, cpuCount: Int, swiftVersion: String, curlVersion: String,
        opensslVersion: String, sqliteVersion: String, ttfaVersion: String, gitCommit: String?,
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
        self.sqliteVersion = sqliteVersion
        self.ttfaVersion = ttfaVersion
        self.gitCommit = gitCommit
        self.commandLine = commandLine
        self.configJSON = configJSON
        self.seed = seed
    }

    public mutating func didInsert(_ inserted: InsertionSuccess) {
        id = inserted.rowID
    }
}

/// One row of `trials`: one turn through one transport. Times are nanoseconds relative to the
/// trial's scheduled start (chunk 0 due), except durations (`*_ns` of setup phases).
public struct TrialRecord: Codable, Sendable, Equatable, FetchableRecord, MutablePersistableRecord {
    public static let databaseTableName = "trials"

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
    /// `ok`, `invalid`, or an error kind.
    public var status: String
    public var errorKind: String?
    public var errorMessage: String?
    /// Wall-clock time the trial started, ISO 8601 UTC.
    public var startedAt: String
    public var speechEndNs: Int64
    public var ttfaNs: Int64?
    public var dnsNs: Int64?
    public var connectNs: Int64?
    public var tlsNs: Int64?
    public var upgradeNs: Int64?
    public var connectionReused: Bool?
    public var responseHeadersNs: Int64?
    public var uploadDoneNs: Int64?
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

    enum CodingKeys: String, CodingKey {
        case startLateNs = "start_late_ns"
        case id, seq, transport, endpoint, connection, recording, trial, warmup, status, underruns
        case runID = "run_id", recordingNs = "recording_ns", errorKind = "error_kind", errorMessage = "error_message"
        case startedAt = "started_at", speechEndNs = "speech_end_ns", ttfaNs = "ttfa_ns", dnsNs = "dns_ns"
        case connectNs = "connect_ns", tlsNs = "tls_ns", upgradeNs = "upgrade_ns", connectionReused = "connection_reused"
        case responseHeadersNs = "response_headers_ns", uploadDoneNs = "upload_done_ns", firstByteNs = "first_byte_ns"
        case firstEventNs = "first_event_ns", firstAudioNs = "first_audio_ns", lastAudioNs = "last_audio_ns"
        case doneNs = "done_ns", audioBytes = "audio_bytes", audioEvents = "audio_events", maxAudioGapNs = "max_audio_gap_ns"
        case underrunNs = "underrun_ns", maxSendLagNs = "max_send_lag_ns", chunksSent = "chunks_sent"
        case curlNamelookupNs = "curl_namelookup_ns", curlConnectNs = "curl_connect_ns", curlAppconnectNs = "curl_appconnect_ns"
        case curlPretransferNs = "curl_pretransfer_ns", curlStarttransferNs = "curl_starttransfer_ns", curlTotalNs = "curl_total_ns"
        case httpVersion = "http_version"
        case encodeNs = "encode_ns", uploadBlockedNs = "upload_blocked_ns", speechEndLagNs = "speech_end_lag_ns"
        case responseID = "response_id", anomalies, audioBursts = "audio_bursts"
        case serverRequestNs = "server_request_ns", serverFirstAudioNs = "server_first_audio_ns", serverEdgeNs = "server_edge_ns"
        case serverIngestNs = "server_ingest_ns", serverModelNs = "server_model_ns"
    }

    /// A trial that has its identity and nothing measured yet: the caller sets what it measured.
    public init(runID: Int64, seq: Int, transport: String, endpoint: String, connection: String, recording: String,
                recordingNs: Int64, trial: Int, warmup: Bool, status: String, startedAt: String, speechEndNs: Int64) {
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

    public mutating func didInsert(_ inserted: InsertionSuccess) {
        id = inserted.rowID
    }

    /// Whether the trial counts in statistics: measured (not warm-up) and `ok`.
    public var isMeasuredOK: Bool { !warmup && status == "ok" }

    /// A failure that is not the harness's (`invalid`) — what the exit code counts.
    public var isFailure: Bool { status != "ok" && status != "invalid" }

    /// A timeout before any audio: its TTFA is only known to exceed the timeout.
    public var isCensored: Bool { status == "timeout" && ttfaNs == nil }
}

/// One row of `trial_events`: the arrival time of a key event of a trial, so reports can
/// draw the timeline and every figure can be recomputed.
public struct TrialEventRecord: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "trial_events"

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

    enum CodingKeys: String, CodingKey {
        case seq, kind, value, detail
        case trialID = "trial_id", tNs = "t_ns"
    }

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
public struct SeriesRecord: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "run_series"

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

    enum CodingKeys: String, CodingKey {
        case transport, second, offered, started, late, active, completed, ok, errors, invalid
        case runID = "run_id", ttfaP50Ns = "ttfa_p50_ns", ttfaP99Ns = "ttfa_p99_ns", maxSendLagNs = "max_send_lag_ns"
    }

    public init(runID: Int64, transport: String, second: Int, offered: Int = 0, started: Int = 0, late: Int = 0, active: Int = 0,
                completed: Int = 0, ok: Int = 0, errors: Int = 0, invalid: Int = 0,
                ttfaP50Ns: Int64? = nil, ttfaP99Ns: Int64? = nil, maxSendLagNs: Int64? = nil) {
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
    public static let columns = ["second", "offered", "started", "late", "active", "completed", "ok", "errors", "invalid",
                                 "ttfa_p50_ms", "ttfa_p99_ms", "max_send_lag_ms"]

    public static func encode(_ rows: [SeriesRecord]) -> JSONValue {
        var transports: [String] = []
        for row in rows where !transports.contains(row.transport) { transports.append(row.transport) }
        func ms(_ ns: Int64?) -> JSONValue { ns.map { .double((Double($0) / 1000).rounded() / 1000) } ?? .null }
        return .object([("columns", .array(columns.map { .string($0) }))] + transports.map { name in
            (name, JSONValue.array(rows.filter { $0.transport == name }.map { r in
                .array([.int(Int64(r.second)), .int(Int64(r.offered)), .int(Int64(r.started)), .int(Int64(r.late)), .int(Int64(r.active)),
                        .int(Int64(r.completed)), .int(Int64(r.ok)), .int(Int64(r.errors)), .int(Int64(r.invalid)),
                        ms(r.ttfaP50Ns), ms(r.ttfaP99Ns), ms(r.maxSendLagNs)])
            }))
        })
    }
}
