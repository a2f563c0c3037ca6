import ArgumentParser
import Checks
import Foundation
import LinkEmulator
import ReferenceServer
import Replay
import Reports
import Storage
import Synchronization
import TTFASupport
import VoiceTransport

/// Which transports to measure: `all`, or names separated by commas.
struct TransportChoice: ExpressibleByArgument, Equatable {
    var kinds: [TransportKind]
    var isAll: Bool

    static let all = TransportChoice(kinds: TransportKind.all, isAll: true)

    init(kinds: [TransportKind], isAll: Bool) {
        self.kinds = kinds
        self.isAll = isAll
    }

    init?(argument: String) {
        if argument == "all" {
            self = .all
            return
        }
        var kinds: [TransportKind] = []
        for name in argument.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) {
            guard let kind = TransportKind(rawValue: name) else { return nil }
            if !kinds.contains(kind) { kinds.append(kind) }
        }
        guard !kinds.isEmpty else { return nil }
        self.init(kinds: TransportKind.all.filter(kinds.contains), isAll: false)
    }

    static var allValueStrings: [String] { TransportKind.all.map(\.rawValue) + ["all"] }

    var defaultValueDescription: String { isAll ? "all" : kinds.map(\.rawValue).joined(separator: ",") }
    var name: String { isAll ? "all" : kinds.map(\.rawValue).joined(separator: ",") }
}

extension ConnectionMode: ExpressibleByArgument {}
extension ContextMode: ExpressibleByArgument {}

struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Replay recordings through both transports, store every trial, print the comparison (the default command).",
        discussion: """
        With no --ws-url/--sse-url, ttfa starts its reference server in-process and measures \
        against it. Trials are interleaved (websocket, sse, websocket, …); warm-up rounds come \
        first and are stored but left out of the statistics. Every trial is stored in the \
        results database the moment it finishes.

        Examples:
          The default comparison against the embedded server:
            ttfa
          More trials, a machine-readable summary on stdout:
            ttfa run --trials 20 --json
          Real endpoints (the key is read from the environment, never stored):
            ttfa run --ws-url 'wss://api.openai.com/v1/realtime?model=gpt-realtime' \\
              --sse-url https://my-edge.example.com/v1/chat/completions \\
              --header 'Authorization: Bearer $OPENAI_API_KEY'

        Thresholds and A/B (see the README's CI section):
          ttfa run --threshold 'websocket.ttfa.p95 < 700ms' --threshold 'sse.failed < 5%' --junit ttfa.xml
          ttfa run --sse-profile edge-sse --candidate-sse-profile my-edge-v2.yaml

        Exit codes: 0 no trial failed (invalid trials within --max-invalid are only reported); \
        1 a threshold failed, or the A/B candidate regressed (ahead of 3); \
        2 bad input, nothing measured; 3 trials failed, too many were invalid, or every warm-up \
        of a transport failed; 130 interrupted (completed trials are kept).
        """
    )

    @Option(help: "Transports to measure: all, or names separated by commas (\(TransportKind.all.map(\.rawValue).joined(separator: ", "))).")
    var transport: TransportChoice = .all

    @Option(name: .customLong("ws-url"), help: "OpenAI Realtime endpoint (ws:// or wss://). Default: the embedded reference server.")
    var wsURL: String?

    @Option(name: .customLong("sse-url"), help: "Chat Completions audio endpoint (http:// or https://). Default: the embedded reference server.")
    var sseURL: String?

    @Option(name: .customLong("sse-stream-url"), help: "Streaming-upload endpoint: the recording as a chunked PCM16 body while the user speaks, the answer as Chat Completions SSE. Default: the embedded reference server.")
    var sseStreamURL: String?

    @Option(name: .customLong("header"), help: "Request header 'Name: value' for every transport (repeatable). $VAR expands from the environment; values are never stored or printed. ttfa sends User-Agent: ttfa/VERSION unless you give one.")
    var headers: [String] = []

    @Option(name: .customLong("ws-header"), help: "Request header for the WebSocket upgrade only (repeatable; as --header).")
    var wsHeaders: [String] = []

    @Option(name: .customLong("sse-header"), help: "Request header for the SSE requests only, sse and sse-stream (repeatable; as --header).")
    var sseHeaders: [String] = []

    @Option(name: .customLong("audio"), help: "A recording (repeatable): WAV at any rate, depth and channel count, FLAC, MP3 or Ogg — converted to PCM16 mono 24 kHz with libsndfile and libsoxr. A sidecar FILE.json may give speech_start_ms and speech_end_ms. Default: the bundled recordings (about 1, 4 and 10 s).")
    var audio: [String] = []

    @Option(help: "Measured trials per transport and recording.")
    var trials = 3

    @Flag(help: "A first number in under a minute: the short recording and 2 trials (+ 1 warm-up) per transport, unless --audio or --trials say otherwise.")
    var quick = false

    @Option(help: "Warm-up rounds before the measured trials (stored, flagged, not in statistics).")
    var warmup = 1

    @Option(name: .customLong("chunk-ms"), help: "Audio chunk length in milliseconds (chunk k is due at k × chunk-ms).")
    var chunkMs = 50

    @Option(help: "warm: connect before each trial and reuse connections; cold: a new connection inside every trial.")
    var connection: ConnectionMode = .warm

    @Option(help: "Closed load model: sessions running at once, each starting its next trial when its last one ended (up to 10000, as file descriptors allow; they start 1 ms apart unless --ramp-up spreads them).")
    var concurrency = 1

    @Option(name: .customLong("ramp-up"), help: ArgumentHelp("Closed load model: start the --concurrency sessions evenly spread over this long (2s, 500ms) instead of 1 ms apart. About one turn's length (speech plus answer) gives an even steady state; shorter makes the sessions' turns end in waves.", valueName: "duration"))
    var rampUp: String?

    @Option(help: ArgumentHelp("Open load model: new sessions per second per transport (50/s, 3000/m), each with one trial on a connection of its own, started on schedule whether or not earlier ones finished. Needs --duration or --stages.", valueName: "rate"))
    var rate: String?

    @Option(help: ArgumentHelp("Open load model: how long to keep --rate (60s, 2m, 1h).", valueName: "duration"))
    var duration: String?

    @Option(help: ArgumentHelp("Open load model: ramp stages DURATION:RATE,… (30s:10/s,2m:50/s); each moves the rate linearly from the last target (the first from --rate, else 0).", valueName: "stages"))
    var stages: String?

    @Option(name: .customLong("max-sessions"), help: "Open load model: most sessions in flight per transport; an arrival beyond it waits for a free one and is recorded as a late start.")
    var maxSessions = 5_000

    @Option(name: .customLong("io-priority"), help: "auto or realtime: the I/O loops run as real-time threads (SCHED_FIFO 1, where the system allows it: root, CAP_SYS_NICE or an RLIMIT_RTPRIO allowance; one loop fewer than cores), so a busy machine delays the replay clock and the timestamps of reads as little as it can; normal: ordinary threads, one loop per core.")
    var ioPriority: IOPriority = .auto

    enum IOPriority: String, ExpressibleByArgument, CaseIterable {
        case auto, realtime, normal
    }

    /// Whether this run's I/O loops ask for real-time priority: unless told not to. A single
    /// session needs it as much as a thousand: on a shared machine a thread woken by the run's
    /// own connect (a server, the kernel's work) otherwise takes the loop's core between the
    /// connect and the request for a few hundred microseconds, and that lands in TTFA.
    var realtimeIO: Bool { ioPriority != .normal }

    @Option(help: ArgumentHelp("Join a load group: runs of one group (from any number of machines writing to one --db) are reported together by `ttfa report --group NAME`.", valueName: "name"))
    var group: String?

    @Option(help: "Seconds after the end of speech to wait for the complete answer.")
    var timeout: Double = 30

    @Option(name: .customLong("lag-budget-ms"), help: "A trial whose end of speech left more than this late (ms) is invalid: the machine could not keep the replay on schedule.")
    var lagBudgetMs: Double = 5

    @Option(name: .customLong("max-invalid"), help: "Share of a transport's trials that may be invalid before the run fails (exit 3), e.g. 10% or 0.1. Invalid trials are always left out of the statistics.")
    var maxInvalid = "10%"

    @Option(help: "WebSocket conversations: reset deletes each turn's items so every trial answers a one-turn conversation (as every SSE request is); keep lets the conversation grow.")
    var context: ContextMode = .reset

    @Option(help: ArgumentHelp("A run file (YAML or JSON) with any of these options as keys; options on the command line win. Check one with `ttfa config check FILE`.", valueName: "file"))
    var config: String?

    @OptionGroup var database: DatabaseOptions

    @Option(help: "A label stored with the run (for example a branch or an experiment name).")
    var label: String?

    @Flag(help: "Print one JSON object with the results on stdout (progress stays on stderr).")
    var json = false

    @Flag(help: "No progress output.")
    var quiet = false

    @OptionGroup var profiles: ProfileOptions

    @OptionGroup var linkOptions: LinkOptions

    @OptionGroup var thresholdOptions: ThresholdOptions

    @OptionGroup(title: "Same-job A/B comparison") var candidate: CandidateOptions

    @Option(help: "Also write the summary (and thresholds) as Markdown to this file; appended to when it exists, as $GITHUB_STEP_SUMMARY is.")
    var markdown: String?

    @Option(help: "Also write JUnit XML to this file: a test case per transport's trials and per threshold.")
    var junit: String?

    @Option(help: ArgumentHelp("Also write the HTML report (as `ttfa report --format html`) to this file at the end; in an A/B run, the candidate against the baseline.", valueName: "file.html"))
    var report: String?

    @OptionGroup var turnOptions: TurnOptions

    @Option(name: [.customLong("sse-model"), .customLong("model")], help: "Model named in the SSE request body (--model is the same). Default: gpt-audio, or a dialect file's defaults.model.")
    var model: String?

    @Option(name: .customLong("ws-model"), help: "Model of the WebSocket session: sets ?model= on --ws-url (default: whatever the URL says).")
    var wsModel: String?

    @Option(name: .customLong("ws-voice"), help: "Voice of the WebSocket session's answers. Default: marin, or a dialect file's defaults.voice.")
    var wsVoice: String?

    @Option(name: .customLong("sse-voice"), help: "Voice asked for in the SSE request body. Default: alloy, or a dialect file's defaults.voice.")
    var sseVoice: String?

    @OptionGroup(title: "Dialect files") var dialectOptions: DialectOptions

    @Option(help: "Seed of the bootstrap confidence intervals.")
    var seed: UInt64 = 1

    @Flag(help: "Do not verify TLS certificates (self-signed test servers only).")
    var insecure = false

    @Option(name: .customLong("cacert"), help: "PEM file of CA certificates to trust (a private CA), instead of the system's. The embedded server's own CA is trusted without it.")
    var caFile: String?

    @Flag(help: "The embedded reference server speaks plain ws:// and http:// instead of TLS.")
    var plain = false

    /// `--max-invalid` as a fraction: "10%", "10" (percent) or "0.1".
    static func share(_ text: String) -> Double? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if trimmed.hasSuffix("%") { return Double(trimmed.dropLast()).map { $0 / 100 } }
        guard let value = Double(trimmed) else { return nil }
        return value > 1 ? value / 100 : value
    }

    mutating func validate() throws {
        if quick {
            if audio.isEmpty { audio = ["short.wav"] }
            if trials == 3 { trials = 2 }
        }
        guard trials >= 1 else { throw ValidationError("--trials must be at least 1, got \(trials)") }
        guard trials <= 100_000 else { throw ValidationError("--trials \(trials) is more than 100000") }
        guard warmup >= 0 else { throw ValidationError("--warmup cannot be negative, got \(warmup)") }
        guard (10...1000).contains(chunkMs) else { throw ValidationError("--chunk-ms must be between 10 and 1000, got \(chunkMs)") }
        guard (1...10_000).contains(concurrency) else { throw ValidationError("--concurrency must be between 1 and 10000, got \(concurrency)") }
        guard (1...10_000).contains(maxSessions) else { throw ValidationError("--max-sessions must be between 1 and 10000, got \(maxSessions)") }
        do {
            if try arrivalSchedule() != nil, concurrency != 1 {
                throw ValidationError("--concurrency (the closed model) and --rate/--stages (the open model) exclude each other; give one")
            }
        } catch let error as ArrivalSchedule.ScheduleError {
            throw ValidationError(error.description)
        }
        if rampUp != nil {
            if rate != nil || stages != nil {
                throw ValidationError("--ramp-up spreads the start of the closed model's --concurrency sessions; with --rate/--stages the arrival schedule says when sessions start (ramp the rate with --stages)")
            }
            do { _ = try rampUpNs() } catch { throw ValidationError(error.description) }
        }
        if let group {
            guard !group.isEmpty, group.count <= 100, !group.contains(where: { $0.isNewline }) else {
                throw ValidationError("--group \"\(group)\" must be a name of 1 to 100 characters on one line")
            }
        }
        guard timeout > 0, timeout <= 3600 else { throw ValidationError("--timeout must be between 0 and 3600 seconds, got \(timeout)") }
        guard lagBudgetMs > 0 else { throw ValidationError("--lag-budget-ms must be positive, got \(lagBudgetMs)") }
        guard let share = Self.share(maxInvalid), (0...1).contains(share) else {
            throw ValidationError("--max-invalid \(maxInvalid) is not a share between 0% and 100% (write 10% or 0.1)")
        }
        if let caFile, !FileManager.default.isReadableFile(atPath: caFile) {
            throw ValidationError("--cacert \(caFile): no readable file there; give a PEM file of CA certificates")
        }
        let given = urls
        if !given.isEmpty {
            let missing = kinds.filter { given[$0] == nil }
            if transport.isAll && !missing.isEmpty {
                let flags = TransportKind.all.filter { !$0.isVariant }.map(\.urlFlag)
                throw ValidationError("--transport all needs \(flags.joined(separator: " and ")) (or none of them, to use the embedded reference server); to measure only what you gave, add --transport \(TransportKind.all.filter { given[$0] != nil }.map(\.rawValue).joined(separator: ","))")
            }
            if let first = missing.first {
                throw ValidationError("--transport \(first.rawValue) needs \(first.urlFlag) when another endpoint URL is given")
            }
        }
        if !given.isEmpty && plain {
            throw ValidationError("--plain applies to the embedded reference server only; the scheme of your URLs decides TLS")
        }
        if dialectOptions.wsDialect != nil && turnOptions.turn == .vad {
            throw ValidationError("--turn vad asks the built-in Realtime dialect for server_vad; a --ws-dialect file says its own set-up (leave its end_of_speech empty when the server finds the end itself)")
        }
        if !given.isEmpty && !profiles.isDefault {
            throw ValidationError("--profile, --ws-profile and --sse-profile apply to the embedded reference server only; drop them or drop the endpoint URLs")
        }
    }

    /// The transports to measure. Against your own endpoints, `all` means the main transports
    /// plus the variants whose URL was given.
    var kinds: [TransportKind] {
        guard transport.isAll, !urls.isEmpty else { return transport.kinds }
        return TransportKind.all.filter { !$0.isVariant || urls[$0] != nil }
    }

    /// The endpoint URLs given on the command line, by transport.
    var urls: [TransportKind: String] { TransportKind.urls(websocket: wsURL, sse: sseURL, sseStream: sseStreamURL) }

    /// --ramp-up in nanoseconds, if given.
    func rampUpNs() throws(ArrivalSchedule.ScheduleError) -> Int64? {
        try rampUp.map { (text) throws(ArrivalSchedule.ScheduleError) in try ArrivalSchedule.parseDuration(text, flag: "--ramp-up") }
    }

    /// The open model's schedule, if --rate or --stages asked for it.
    func arrivalSchedule() throws(ArrivalSchedule.ScheduleError) -> ArrivalSchedule? {
        try ArrivalSchedule.from(rate: rate, duration: duration, stages: stages)
    }

    func run() async throws {
        IOLoopGroup.configure(realtime: realtimeIO)
        // Input first: nothing is measured or stored until everything checks out.
        let endpointProfiles = try profiles.load()
        let thresholds = try thresholdOptions.load()
        let candidatePlan = try candidate.plan(baseline: endpointProfiles, baselineURLs: urls, kinds: kinds)
        let dialectFiles = try dialectOptions.load()
        let wsDialect: FileWebSocketDialect?, sseDialect: FileSSEDialect?
        do {
            wsDialect = try dialectFiles.websocket.map { (file) throws(TransportError) in try FileWebSocketDialect(file, values: FileDialectValues(model: wsModel, voice: wsVoice)) }
            sseDialect = try dialectFiles.sse.map { (file) throws(TransportError) in try FileSSEDialect(file, values: FileDialectValues(model: model, voice: sseVoice)) }
        } catch {
            throw CommandFailure.input(error)
        }
        // The seed scenario plays a broadband link in front of the embedded server; your own
        // endpoints get the network they are on, unless --link says otherwise.
        let linkSpec = try linkOptions.spec() ?? (urls.isEmpty ? .broadband : nil)
        var redactor = SecretRedactor()
        let parsedHeaders: [(name: String, value: String)]
        let wsOnly: [(name: String, value: String)], sseOnly: [(name: String, value: String)]
        let recordings: [Recording]
        do {
            parsedHeaders = try headers.map { (raw) throws(TransportError) in try HeaderParser.parse(raw) }
            wsOnly = try wsHeaders.map { (raw) throws(TransportError) in try HeaderParser.parse(raw, flag: "--ws-header") }
            sseOnly = try sseHeaders.map { (raw) throws(TransportError) in try HeaderParser.parse(raw, flag: "--sse-header") }
            for header in parsedHeaders + wsOnly + sseOnly { redactor.add(header.value) }
            for value in sseDialect?.headerValues ?? [] { redactor.add(value) }
            for url in urls.values { redactor.addCredentials(fromURL: url) }
            redactor.addCredentials(fromURL: database.location)
            for url in candidatePlan?.urls.values ?? [:].values { redactor.addCredentials(fromURL: url) }
            if audio.isEmpty {
                recordings = try BundledRecordings.load()
            } else {
                recordings = try audio.map { (path) throws(TransportError) in try BundledRecordings.recording(path) }
            }
            // URLs are checked before anything starts.
            for (kind, url) in urls { _ = try Endpoint(url, for: kind) }
            for (kind, url) in candidatePlan?.urls ?? [:] { _ = try Endpoint(url, for: kind) }
        } catch {
            throw CommandFailure.input(error)
        }
        try ThresholdOptions.validate(thresholds, transports: kinds.map(\.rawValue), recordings: recordings.map(\.name))
        let tolerances = try candidate.tolerances()
        // Enough file descriptors and ports for every connection at once, or a clear stop now.
        let arrivals = try? arrivalSchedule()
        let sessions = arrivals.map { min(maxSessions, max(1, $0.arrivals().count)) }
            ?? min(concurrency, max(1, trials + warmup) * recordings.count * (candidatePlan == nil ? 1 : 2) * kinds.count)
        let need = LoadCapacity.need(sessions: sessions, transports: kinds.count * (candidatePlan == nil ? 1 : 2),
                                     embeddedServer: kinds.contains { urls[$0] == nil }, linkEmulator: linkSpec != nil)
        do {
            try LoadCapacity.check(need, what: arrivals == nil ? "--concurrency \(concurrency)" : "--max-sessions \(maxSessions) (the open model's most sessions in flight)")
        } catch {
            throw CommandFailure.input(error)
        }
        let store = try database.open(create: true)
        let progressMode: ProgressPrinter.Mode = quiet ? .quiet : (Terminal.stderrIsTTY ? .bar : .lines)

        // The embedded reference server(s): one per side that needs it (an A/B comparison of
        // two profiles runs two, each with its own answer log).
        var sides: [Side] = [Side(variant: candidatePlan == nil ? nil : "baseline", urls: urls, profiles: endpointProfiles)]
        if let candidatePlan {
            sides.append(Side(variant: "candidate", urls: candidatePlan.urls, profiles: candidatePlan.profiles))
        }
        var embeddedCA: String?
        var tls: ServerTLS?
        do {
            for index in sides.indices where kinds.contains(where: { sides[index].urls[$0] == nil }) {
                if !plain && tls == nil {
                    tls = try ServerTLS.generated()
                    embeddedCA = try tls?.authority?.writeCA()
                }
                sides[index].server = try await ReferenceServer.start(.init(port: 0, profiles: sides[index].profiles, tls: plain ? nil : tls,
                                                                            dialects: [dialectFiles.websocket, dialectFiles.sse].compactMap { $0 }))
            }
        } catch {
            for side in sides { await side.server?.stop() }
            throw CommandFailure(message: "the embedded reference server could not start: \(error)", exitCode: ExitCodes.usage)
        }
        defer { if let embeddedCA { try? FileManager.default.removeItem(atPath: embeddedCA) } }
        if !quiet {
            // Only models of endpoints you name: the embedded server ignores them.
            var named: [(String, String)] = []
            if let url = urls[.websocket], let realtime = wsModel ?? ModelLifecycle.model(inURL: url) { named.append(("--ws-model", realtime)) }
            if urls[.sse] != nil || urls[.sseStream] != nil {
                if let name = model ?? (dialectFiles.sse.map { $0.defaultModel } ?? ChatCompletionsOptions().model) { named.append(("--sse-model", name)) }
            }
            for (flag, name) in named {
                if let warning = ModelLifecycle.warning(for: name, flag: flag) { Terminal.error("ttfa: warning: \(warning)\n") }
            }
        }
        for file in [dialectFiles.websocket, dialectFiles.sse].compactMap({ $0 }) where !quiet && !file.name.hasPrefix("openai-")
            && ReferenceServer.builtInPaths.contains(file.path) && sides.contains(where: { $0.server != nil }) {
            Terminal.error("ttfa: warning: \(file.source): its path \(file.path) is a built-in endpoint of the embedded server, which answers there with the built-in dialect; give the file another path\n")
        }
        if insecure && !quiet {
            Terminal.error("ttfa: warning: --insecure: TLS certificates are not verified (stored with the run as verify_tls false); use --cacert FILE to trust a private CA instead\n")
        }
        let exitCode: Int32
        do {
            exitCode = try await measure(sides: sides, store: store, recordings: recordings, dialects: (wsDialect, sseDialect),
                                         headers: HeaderSet(common: parsedHeaders, websocket: wsOnly, sse: sseOnly), redactor: redactor,
                                         caFile: embeddedCA ?? caFile, link: linkSpec, thresholds: thresholds, tolerances: tolerances,
                                         progressMode: progressMode)
        } catch {
            for side in sides { await side.server?.stop() }
            throw error
        }
        for side in sides { await side.server?.stop() }
        if exitCode != ExitCodes.success { throw ExitCode(exitCode) }
    }

    /// "about 4 min (ttfa --quick: a first number in about 30 s)": what the first line says of
    /// the run's length. Answers of the embedded server come from its profiles; an endpoint's
    /// own are guessed at 2 s, and the line says so.
    static func expectedLength(_ configuration: BenchmarkConfiguration, sides: [Side], link: LinkSpec?, quick: Bool) -> String {
        var guessed = false
        let rtt = link?.rttMs ?? 0
        let seconds = configuration.estimatedSeconds { settings, recording in
            guard let side = sides.first(where: { $0.variant == settings.variant }), side.server != nil, side.urls[settings.kind] == nil else {
                guessed = true
                return 2000
            }
            let profile = settings.kind == .websocket ? side.profiles.realtime : side.profiles.chatCompletions
            return profile.expectedAnswerMs(audioSeconds: Double(recording.durationNs) / 1e9) + rtt
        }
        let length = seconds < 90 ? "about \(Int(seconds.rounded())) s" : "about \(Int((seconds / 60).rounded())) min"
        var note = length + (guessed ? " (your endpoints' answers guessed at 2 s each)" : "")
        if !quick && seconds > 60 && configuration.arrivals == nil {
            note += "; ttfa --quick gives a first number in under a minute"
        }
        return note
    }

    /// One configuration to measure: the run itself, or one side of a same-job A/B comparison.
    struct Side {
        var variant: String?
        /// Endpoints given by URL; the other transports go to `server`.
        var urls: [TransportKind: String]
        var profiles: EndpointProfiles
        var server: RunningReferenceServer?
        var settings: [TransportSettings] = []
        var runID: Int64 = 0

        init(variant: String?, urls: [TransportKind: String], profiles: EndpointProfiles) {
            self.variant = variant
            self.urls = urls
            self.profiles = profiles
        }
    }

    private func measure(sides: [Side], store: ResultsStore, recordings: [Recording], dialects: (websocket: FileWebSocketDialect?, sse: FileSSEDialect?), headers: HeaderSet,
                         redactor: SecretRedactor, caFile: String?, link: LinkSpec?, thresholds: [Threshold],
                         tolerances: Tolerances, progressMode: ProgressPrinter.Mode) async throws -> Int32 {
        var sides = sides
        for index in sides.indices {
            sides[index].settings = try kinds.map { kind -> TransportSettings in
                let dialectPath = kind == .websocket ? dialects.websocket?.file.path : kind == .sse ? dialects.sse?.file.path : nil
                var url = sides[index].urls[kind] ?? TransportSettings.referenceURL(of: kind, on: sides[index].server!, path: dialectPath)
                if kind.usesWebSocket, let wsModel { url = HeaderSet.settingQuery(url, "model", to: wsModel) }
                let endpoint: Endpoint
                do throws(TransportError) {
                    endpoint = try Endpoint(url, for: kind)
                } catch {
                    throw CommandFailure.input(error)
                }
                var settings = TransportSettings(
                    kind: kind, endpoint: endpoint, headers: headers.for(kind), connection: connection,
                    verifyTLS: !insecure, caFile: caFile, redactor: redactor,
                    realtime: RealtimeOptions(voice: wsVoice ?? RealtimeOptions().voice, turnDetection: turnOptions.parameters),
                    chat: ChatCompletionsOptions(model: model ?? ChatCompletionsOptions().model, voice: sseVoice ?? ChatCompletionsOptions().voice))
                settings.wsDialect = dialects.websocket
                settings.sseDialect = dialects.sse
                settings.variant = sides[index].variant
                return settings
            }
        }
        // The emulated network: a relay in front of each endpoint, reached with CONNECT_TO.
        var relays = LinkRelays()
        if let link {
            let endpoints = sides.flatMap { $0.settings.map(\.endpoint) }
            let (started, via) = try await LinkRelays.start(link, for: endpoints)
            relays = started
            var next = 0
            for side in sides.indices {
                for index in sides[side].settings.indices {
                    sides[side].settings[index].connectVia = via[next]
                    next += 1
                }
            }
        }
        do {
            let code = try await measure(sides: sides, store: store, recordings: recordings, redactor: redactor, link: link,
                                         thresholds: thresholds, tolerances: tolerances, progressMode: progressMode)
            await relays.stop()
            return code
        } catch {
            await relays.stop()
            throw error
        }
    }

    private func configuration(_ side: Side, transports: [TransportSettings], recordings: [Recording], link: LinkSpec?) -> BenchmarkConfiguration {
        BenchmarkConfiguration(
            transports: transports, recordings: recordings, trials: trials, warmup: warmup, chunkMs: chunkMs,
            concurrency: concurrency, timeout: .seconds(timeout), lagBudget: .seconds(lagBudgetMs / 1000),
            seed: seed, label: side.variant.map { "\(label ?? "A/B") (\($0))" } ?? label, context: context,
            maxInvalidShare: Self.share(maxInvalid) ?? 0.1,
            referenceServer: side.server.map { _ in
                .object([("profiles", .object([
                    ("websocket", JSONValue(any: side.profiles.realtime.jsonObject)),
                    ("sse", JSONValue(any: side.profiles.chatCompletions.jsonObject)),
                ]))])
            },
            link: link.map { JSONValue(any: $0.jsonObject) }, vad: turnOptions.parameters,
            arrivals: try? arrivalSchedule(), maxSessions: maxSessions,
            io: .object([("loops", .int(Int64(IOLoopGroup.loopCount))), ("realtime_requested", .bool(IOLoopGroup.realtimeRequested))]),
            rampUp: try? rampUpNs())
    }

    private func measure(sides: [Side], store: ResultsStore, recordings: [Recording], redactor: SecretRedactor, link: LinkSpec?,
                         thresholds: [Threshold], tolerances: Tolerances,
                         progressMode: ProgressPrinter.Mode) async throws -> Int32 {
        var sides = sides
        let maxInvalidShare = Self.share(maxInvalid) ?? 0.1
        // One runner for every side, so their trials interleave; each side is stored as its own run.
        let combined = configuration(sides[0], transports: sides.flatMap(\.settings), recordings: recordings, link: link)
        let facts = HostFacts.current()
        for index in sides.indices {
            let own = configuration(sides[index], transports: sides[index].settings, recordings: recordings, link: link)
            do {
                sides[index].runID = try store.createRun(RunRecord(
                    id: nil, status: "running", startedAt: Timestamp.now(), endedAt: nil, label: own.label,
                    hostname: facts.hostname, os: facts.os, cpuModel: facts.cpuModel, cpuCount: facts.cpuCount,
                    swiftVersion: TTFAInfo.swiftVersion, curlVersion: LibraryVersions.curl,
                    opensslVersion: LibraryVersions.openSSL, sqliteVersion: (try? store.databaseVersion()) ?? "unknown",
                    ttfaVersion: TTFAInfo.version, gitCommit: facts.gitCommit,
                    commandLine: CommandLineRedaction.redacted(CommandLine.arguments, redactor: redactor),
                    configJSON: own.json(redactor: redactor).serialized(), seed: Int64(bitPattern: seed), groupName: group)).id!
            } catch {
                throw CommandFailure(message: "\(store.path): cannot store the run (\(error)); pass --db with a writable file", exitCode: ExitCodes.usage)
            }
        }
        let runIDs = sides.map(\.runID)

        let printer = ProgressPrinter(mode: progressMode, total: combined.totalTrials,
                                      perSecond: combined.arrivals != nil || combined.concurrency >= 20)
        let network = link.map { " through the \($0.name) link (\($0.description))" } ?? ""
        let places = sides.map { side -> String in
            let prefix = side.variant.map { "\($0) (run \(side.runID)): " } ?? ""
            let embedded = side.server.map { "the embedded reference server (\($0.baseURL); profiles: websocket \(side.profiles.realtime.name), sse \(side.profiles.chatCompletions.name))" }
            let own = side.settings.filter { side.urls[$0.kind] != nil }.map(\.endpoint.redacted)
            return prefix + ([embedded].compactMap { $0 } + own).joined(separator: " and ")
        }
        let runs = runIDs.count == 1 ? "ttfa run \(runIDs[0])" : "ttfa A/B runs \(runIDs.map(String.init).joined(separator: " and ")), trials interleaved"
        let plan = combined.arrivals.map { "\(combined.totalTrials) sessions of one trial (open model: \($0.summary) per transport, at most \(combined.maxSessions) in flight)" }
            ?? "\(combined.totalTrials) trials (\(trials) measured + \(warmup) warm-up per transport and recording\(concurrency > 1 ? ", \(concurrency) sessions at once" : ""))"
        printer.note("\(runs): \(plan) against \(places.joined(separator: "; "))\(network), storing in \(store.path)\(group.map { " (group \($0))" } ?? "")"
                     + "; " + Self.expectedLength(combined, sides: sides, link: link, quick: quick))

        let runner = BenchmarkRunner(configuration: combined, store: store,
                                     targets: sides.flatMap { side in side.settings.map { _ in BenchmarkRunner.Target(runID: side.runID, serverLog: side.server?.log) } })
        let signals = SignalWatcher { count in
            if count == 1 {
                printer.note("interrupted: stopping after abandoning the trial in flight (press Ctrl-C again to quit at once)")
                runner.interrupt()
            } else {
                for id in runIDs { try? store.finishRun(id: id, status: "interrupted", endedAt: Timestamp.now()) }
                Foundation.exit(ExitCodes.interrupted)
            }
        }
        let ticker = Task {
            while !Task.isCancelled {
                try await Task.sleep(for: .seconds(1))
                printer.redraw()
            }
        }
        var storeFailure: (any Error)?
        do {
            _ = try await runner.run(onTrial: { progress in printer.trialFinished(progress) },
                                     onSecond: { live, second in printer.second(live, at: second) })
        } catch {
            storeFailure = error
        }
        ticker.cancel()
        printer.finish()
        signals.stop()

        let status = runner.wasInterrupted || storeFailure != nil ? "interrupted" : "complete"
        for id in runIDs { try? store.finishRun(id: id, status: status, endedAt: Timestamp.now()) }
        if let storeFailure {
            Terminal.error("ttfa: could not store a trial in \(store.path): \(storeFailure); the run stops here (completed trials are kept)\n")
        }

        var summaries: [RunSummary] = []
        for id in runIDs {
            let stored = try store.run(id: id)!
            summaries.append(RunSummary(run: stored, trials: try store.trials(runID: id)))
        }
        // Thresholds judge the run, or the candidate of an A/B comparison.
        summaries[summaries.count - 1].check(thresholds)
        var check: RegressionCheck?
        if summaries.count == 2 {
            let trials = try runIDs.map { try store.trials(runID: $0) }
            check = RegressionCheck(baseline: Baseline(run: summaries[0].run, trials: trials[0]),
                                    candidate: Baseline(run: summaries[1].run, trials: trials[1]),
                                    tolerance: tolerances.overall, tolerances: tolerances.perMetric, seed: seed)
        }
        if json {
            var object = summaries.count == 1 ? SummaryRenderer.json(summaries[0], database: store.path)
                : JSONValue.object([("baseline", SummaryRenderer.json(summaries[0], database: store.path)),
                                    ("candidate", SummaryRenderer.json(summaries[1], database: store.path))])
            if let check { object = object.adding("compare", CheckRenderer.json(check)) }
            print(object.pretty())
            if !quiet { for summary in summaries { Terminal.error(SummaryRenderer.table(summary)) } }
            if !quiet, let check { Terminal.error(CheckRenderer.text(check)) }
        } else {
            for summary in summaries { print(SummaryRenderer.table(summary), terminator: "") }
            if let check { print(CheckRenderer.text(check), terminator: "") }
        }
        if let report {
            // Also for an interrupted run: the report says what was measured.
            let main = try ReportData.load(summaries[summaries.count - 1].run, from: store)
            let baseline = summaries.count == 2 ? try ReportData.load(summaries[0].run, from: store) : nil
            var data = main
            data.summary.checks = summaries[summaries.count - 1].checks
            try OutputFiles.write(HTMLReport.render(data, against: baseline), to: report, what: "the HTML report")
            if !quiet { Terminal.error("ttfa: report written to \(report)\n") }
        }
        if runner.wasInterrupted { return ExitCodes.interrupted }
        if storeFailure != nil { return ExitCodes.usage }
        let healths = summaries.map { $0.health(maxInvalidShare: maxInvalidShare) }
        let markdownText = summaries.map(SummaryRenderer.markdown).joined(separator: "\n") + (check.map { "\n" + CheckRenderer.markdown($0) } ?? "")
        try OutputFiles.write(markdown: markdown, markdownText, junit: junit,
                              CheckRenderer.junit(runs: zip(summaries, healths).map { ($0, $1) }, thresholds: summaries.last!.checks,
                                                  check: check, timestamp: OutputFiles.junitTimestamp()))
        if !quiet {
            for (summary, health) in zip(summaries, healths) {
                let who = summaries.count == 1 ? "" : "run \(summary.run.id!): "
                for note in health.notes { Terminal.error("ttfa: note: \(who)\(note)\n") }
                for problem in health.problems { Terminal.error("ttfa: \(who)\(problem)\n") }
            }
        }
        let failedChecks = summaries.last!.checks.filter { !$0.passed }
        if !failedChecks.isEmpty || !(check?.regressed.isEmpty ?? true) {
            if !quiet {
                if !failedChecks.isEmpty {
                    Terminal.error("ttfa: \(Format.count(failedChecks.count, "threshold")) failed: \(failedChecks.map(\.threshold.expression).joined(separator: "; "))\n")
                }
                if let check, !check.regressed.isEmpty { Terminal.error("ttfa: the candidate regressed: \(check.regressed.map(\.metric).joined(separator: ", "))\n") }
            }
            return ExitCodes.checkFailed
        }
        return healths.allSatisfy(\.passed) ? ExitCodes.success : ExitCodes.trialsFailed
    }
}

/// Masks secrets in the command line before it is stored.
enum CommandLineRedaction {
    /// Flags whose values are request headers (secrets).
    static let headerFlags = ["--header", "--ws-header", "--sse-header"]

    static func redacted(_ arguments: [String], redactor: SecretRedactor) -> String {
        var out: [String] = []
        var maskNext = false
        for argument in arguments {
            var shown = argument
            if maskNext {
                shown = maskHeader(argument)
                maskNext = false
            } else if headerFlags.contains(argument) {
                maskNext = true
            } else if let flag = headerFlags.first(where: { argument.hasPrefix($0 + "=") }) {
                shown = flag + "=" + maskHeader(String(argument.dropFirst(flag.count + 1)))
            } else if argument.contains("://") {
                if let equals = argument.firstIndex(of: "="), argument.hasPrefix("--") {
                    shown = String(argument[...equals]) + redactor.redactURL(String(argument[argument.index(after: equals)...]))
                } else {
                    shown = redactor.redactURL(argument)
                }
            }
            shown = redactor.redact(shown)
            out.append(shown.contains(where: { " '\"$\\".contains($0) }) ? "'" + shown.replacingOccurrences(of: "'", with: "'\\''") + "'" : shown)
        }
        return out.joined(separator: " ")
    }

    static func maskHeader(_ header: String) -> String {
        guard let colon = header.firstIndex(of: ":") else { return SecretRedactor.mask }
        return String(header[...colon]) + " " + SecretRedactor.mask
    }
}

/// SIGINT/SIGTERM handling: the handler gets how many signals arrived so far.
/// (`@unchecked`: dispatch sources are thread-safe; the array is never mutated after init.)
final class SignalWatcher: @unchecked Sendable {
    private let sources: [any DispatchSourceSignal]

    init(handler: @escaping @Sendable (Int) -> Void) {
        let count = LockedCounter()
        sources = [SIGINT, SIGTERM].map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { handler(count.increment()) }
            source.resume()
            return source
        }
    }

    func stop() {
        for source in sources { source.cancel() }
    }
}

final class LockedCounter: Sendable {
    private let value = Mutex(0)
    func increment() -> Int { value.withLock { $0 += 1; return $0 } }
}


/// The request headers of a run: for every transport, for the WebSocket only, for the SSE
/// transports only; and ttfa's User-Agent unless one is given.
struct HeaderSet {
    var common: [(name: String, value: String)]
    var websocket: [(name: String, value: String)]
    var sse: [(name: String, value: String)]

    static let userAgent = (name: "User-Agent", value: "ttfa/\(TTFAInfo.version)")

    func `for`(_ kind: TransportKind) -> [(name: String, value: String)] {
        var headers = common + (kind.usesWebSocket ? websocket : sse)
        if !headers.contains(where: { $0.name.lowercased() == "user-agent" }) { headers.insert(Self.userAgent, at: 0) }
        return headers
    }

    /// `url` with the query parameter `name` set to `value` (replaced when present).
    static func settingQuery(_ url: String, _ name: String, to value: String) -> String {
        guard var components = URLComponents(string: url) else { return url }
        var items = (components.queryItems ?? []).filter { $0.name != name }
        items.append(URLQueryItem(name: name, value: value))
        components.queryItems = items
        return components.string ?? url
    }
}
