import ArgumentParser
import Foundation
import LinkEmulator
import Replay
import RunSession
import TTFASupport
import VoiceTransport

extension ConnectionMode: ExpressibleByArgument {}
extension ContextMode: ExpressibleByArgument {}

/// What `ttfa run` measures and how, as flags: shared by `ttfa run` and `ttfa monitor` (whose
/// rounds are runs), and read from a run file by both.
struct RunOptions: ParsableArguments {
    @Option(
        help:
            "Transports to measure: all, or names separated by commas (\(TransportKind.all.map(\.rawValue).joined(separator: ", ")))."
    )
    var transport: TransportChoice = .all

    @OptionGroup(title: "Endpoints") var endpoints: EndpointOptions

    @Option(
        name: .customLong("audio"),
        help:
            "A recording (repeatable): WAV at any rate, depth and channel count, FLAC, MP3 or Ogg — converted to PCM16 mono 24 kHz with libsndfile and libsoxr. A sidecar FILE.json may give speech_start_ms and speech_end_ms. Default: the bundled recordings (about 1, 4 and 10 s)."
    )
    var audio: [String] = []

    @Option(help: "Measured trials per transport and recording.")
    var trials = 3

    @Flag(
        help:
            "A first number in under a minute: the short recording and 2 trials (+ 1 warm-up) per transport, unless --audio or --trials say otherwise."
    )
    var quick = false

    @Option(help: "Warm-up rounds before the measured trials (stored, flagged, not in statistics).")
    var warmup = 1

    @Option(name: .customLong("chunk-ms"), help: "Audio chunk length in milliseconds (chunk k is due at k × chunk-ms).")
    var chunkMs = 50

    @Option(help: "warm: connect before each trial and reuse connections; cold: a new connection inside every trial.")
    var connection: ConnectionMode = .warm

    @Option(
        help:
            "Closed load model: sessions running at once, each starting its next trial when its last one ended (up to 10000, as file descriptors allow; they start 1 ms apart unless --ramp-up spreads them)."
    )
    var concurrency = 1

    @Option(
        name: .customLong("ramp-up"),
        help: ArgumentHelp(
            "Closed load model: start the --concurrency sessions evenly spread over this long (2s, 500ms) instead of 1 ms apart. About one turn's length (speech plus answer) gives an even steady state; shorter makes the sessions' turns end in waves.",
            valueName: "duration"))
    var rampUp: String?

    @Option(
        help: ArgumentHelp(
            "Open load model: new sessions per second per transport (50/s, 3000/m), each with one trial on a connection of its own, started on schedule whether or not earlier ones finished. Needs --duration or --stages.",
            valueName: "rate"))
    var rate: String?

    @Option(help: ArgumentHelp("Open load model: how long to keep --rate (60s, 2m, 1h).", valueName: "duration"))
    var duration: String?

    @Option(
        help: ArgumentHelp(
            "Open load model: ramp stages DURATION:RATE,… (30s:10/s,2m:50/s); each moves the rate linearly from the last target (the first from --rate, else 0).",
            valueName: "stages"))
    var stages: String?

    @Option(
        name: .customLong("max-sessions"),
        help:
            "Open load model: most sessions in flight per transport; an arrival beyond it waits for a free one and is recorded as a late start."
    )
    var maxSessions = 5_000

    @Option(
        name: .customLong("io-priority"),
        help:
            "auto or realtime: the I/O loops run as real-time threads (SCHED_FIFO 1, where the system allows it: root, CAP_SYS_NICE or an RLIMIT_RTPRIO allowance; one loop fewer than cores), so a busy machine delays the replay clock and the timestamps of reads as little as it can; normal: ordinary threads, one loop per core."
    )
    var ioPriority: IOPriority = .auto

    enum IOPriority: String, ExpressibleByArgument, CaseIterable {
        case auto, realtime, normal
    }

    /// Whether this run's I/O loops ask for real-time priority: unless told not to. A single
    /// session needs it as much as a thousand: on a shared machine a thread woken by the run's
    /// own connect (a server, the kernel's work) otherwise takes the loop's core between the
    /// connect and the request for a few hundred microseconds, and that lands in TTFA.
    var realtimeIO: Bool { ioPriority != .normal }

    @Option(
        help: ArgumentHelp(
            "Join a load group: runs of one group (from any number of machines writing to one --db) are reported together by `ttfa report --group NAME`.",
            valueName: "name"))
    var group: String?

    @Option(help: "Seconds after the end of speech to wait for the complete answer.")
    var timeout: Double = 30

    @Option(
        name: .customLong("lag-budget-ms"),
        help:
            "A trial whose end of speech left more than this late (ms) is invalid: the machine could not keep the replay on schedule."
    )
    var lagBudgetMs: Double = 5

    @Option(
        name: .customLong("max-invalid"),
        help:
            "Share of a transport's trials that may be invalid before the run fails (exit 3), e.g. 10% or 0.1. Invalid trials are always left out of the statistics."
    )
    var maxInvalid = "10%"

    @Option(
        help:
            "WebSocket conversations: reset deletes each turn's items so every trial answers a one-turn conversation (as every SSE request is); keep lets the conversation grow."
    )
    var context: ContextMode = .reset

    @Option(
        help: ArgumentHelp(
            "A run file (YAML or JSON) with any of these options as keys; options on the command line win. Check one with `ttfa config check FILE`.",
            valueName: "file"))
    var config: String?

    @OptionGroup var database: DatabaseOptions

    @Option(help: "A label stored with the run (for example a branch or an experiment name).")
    var label: String?

    @Flag(help: "Print one JSON object with the results on stdout (progress stays on stderr).")
    var json = false

    @Flag(help: "No progress output.")
    var quiet = false

    @OptionGroup var linkOptions: LinkOptions

    @OptionGroup var thresholdOptions: ThresholdOptions

    @Option(
        help:
            "Also write the summary (and thresholds) as Markdown to this file; appended to when it exists, as $GITHUB_STEP_SUMMARY is."
    )
    var markdown: String?

    @Option(help: "Also write JUnit XML to this file: a test case per transport's trials and per threshold.")
    var junit: String?

    @Option(
        help: ArgumentHelp(
            "Also write the HTML report (as `ttfa report --format html`) to this file at the end; in an A/B run, the candidate against the baseline.",
            valueName: "file.html"))
    var report: String?

    @OptionGroup var turnOptions: TurnOptions

    @OptionGroup(title: "WebRTC") var webRTCOptions: WebRTCOptions

    @Option(help: "Seed of the bootstrap confidence intervals.")
    var seed: UInt64 = 1

    @Flag(help: "Do not verify TLS certificates (self-signed test servers only).")
    var insecure = false

    @Option(
        name: .customLong("cacert"),
        help:
            "PEM file of CA certificates to trust (a private CA), instead of the system's. The embedded server's own CA is trusted without it."
    )
    var caFile: String?

    @Flag(help: "The embedded reference server speaks plain ws:// and http:// instead of TLS.")
    var plain = false

    @OptionGroup(title: "Same-job A/B comparison") var candidate: CandidateOptions

    mutating func validate() throws {
        if quick {
            if audio.isEmpty { audio = ["short.wav"] }
            if trials == 3 { trials = 2 }
        }
    }

    /// The flags as a request (`ttfa config check` reads the same).
    func request() throws -> RunRequest {
        var r = RunRequest()
        r.transports = transport.isAll ? nil : transport.kinds
        try endpoints.apply(to: &r)
        r.candidate = try candidate.request()
        r.audio = audio
        r.trials = trials
        r.warmup = warmup
        r.chunkMs = chunkMs
        r.connection = connection
        r.concurrency = concurrency
        r.rampUp = rampUp
        r.rate = rate
        r.duration = duration
        r.stages = stages
        r.maxSessions = maxSessions
        r.realtimeIO = ioPriority != .normal
        r.group = group
        r.timeoutSeconds = timeout
        r.lagBudgetMs = lagBudgetMs
        r.maxInvalid = maxInvalid
        r.context = context
        r.database = database.location
        r.label = label
        r.link = linkOptions.link
        r.thresholds = thresholdOptions.expressions
        r.thresholdsFile = thresholdOptions.file
        r.tolerance = candidate.tolerance
        r.metricTolerances = candidate.metricTolerances
        r.turnDetection = turnOptions.parameters
        r.webRTC = try webRTCOptions.settings()
        r.seed = seed
        r.insecure = insecure
        r.caFile = caFile
        r.plain = plain
        r.quick = quick
        r.outputs.json = json
        r.outputs.quiet = quiet
        r.outputs.markdown = markdown
        r.outputs.junit = junit
        r.outputs.html = report
        return r
    }
}
