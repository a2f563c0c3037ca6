import Foundation
import ReferenceServer
import SpeechDetection
import Storage
import Synchronization
import TTFASupport
import VoiceTransport

/// What a WebSocket session remembers between turns.
package enum ContextMode: String, Sendable, Codable, CaseIterable {
    /// Every turn answers a one-turn conversation: the items a turn added are deleted before
    /// the next one (`conversation.item.delete`), so every trial measures the same workload, as
    /// every SSE request does.
    case reset
    /// The conversation grows turn by turn (turn N is answered with N−1 earlier turns in
    /// context).
    case keep
}

/// What `ttfa run` measures.
package struct BenchmarkConfiguration: Sendable {
    /// Transports in interleaving order (A B A B …).
    package var transports: [TransportSettings]
    package var recordings: [Recording]
    /// Measured trials per transport and recording.
    package var trials: Int
    /// Warm-up rounds before them (stored, flagged, left out of statistics).
    package var warmup: Int
    package var chunkMs: Int
    /// Sessions running at once.
    package var concurrency: Int
    /// How long after speech end an answer may take, nanoseconds.
    package var timeout: Int64
    /// Largest send lag before a trial is `invalid`, nanoseconds.
    package var lagBudget: Int64
    /// Seed of the bootstrap confidence intervals.
    package var seed: UInt64
    package var label: String?
    /// WebSocket conversations: one turn each (default) or growing.
    package var context: ContextMode
    /// Share of a transport's measured trials that may be `invalid` before the run fails.
    package var maxInvalidShare: Double
    /// What the embedded reference server played (its profiles), when the run used it.
    package var referenceServer: JSONValue?
    /// The emulated link in front of the endpoints, if any.
    package var link: JSONValue?
    /// Voice activity detection ends turns (nil: manual turns, the end of the recording).
    package var vad: EnergyVAD.Parameters?
    /// The open load model: sessions arrive on this schedule (per transport), each runs one
    /// trial on a connection of its own. Nil: the closed model (`concurrency` sessions, each
    /// starting its next trial when the last one ends).
    package var arrivals: ArrivalSchedule?
    /// Open model: most sessions in flight per transport; an arrival beyond it waits for a free
    /// slot and is recorded as late.
    package var maxSessions: Int = 5_000
    /// The I/O loops the run asked for (how many, real-time or not), as stored.
    package var io: JSONValue?
    /// Closed model: the sessions start evenly spread over this many nanoseconds (session k of
    /// n at k × rampUp / n). Nil: one millisecond apart.
    package var rampUp: Int64?

    package init(
        transports: [TransportSettings], recordings: [Recording], trials: Int = 5, warmup: Int = 1,
        chunkMs: Int = 50, concurrency: Int = 1, timeout: Int64 = .seconds(30),
        lagBudget: Int64 = .milliseconds(5), seed: UInt64 = 1, label: String? = nil,
        context: ContextMode = .reset, maxInvalidShare: Double = 0.1, referenceServer: JSONValue? = nil,
        link: JSONValue? = nil,
        vad: EnergyVAD.Parameters? = nil, arrivals: ArrivalSchedule? = nil, maxSessions: Int = 5_000,
        io: JSONValue? = nil,
        rampUp: Int64? = nil
    ) {
        self.io = io
        self.rampUp = rampUp
        self.arrivals = arrivals
        self.maxSessions = maxSessions
        self.transports = transports
        self.recordings = recordings
        self.trials = trials
        self.warmup = warmup
        self.chunkMs = chunkMs
        self.concurrency = concurrency
        self.timeout = timeout
        self.lagBudget = lagBudget
        self.seed = seed
        self.label = label
        self.context = context
        self.maxInvalidShare = maxInvalidShare
        self.referenceServer = referenceServer
        self.link = link
        self.vad = vad
    }

    /// Closed model: when session `index` (from 0) starts, nanoseconds after the first. Spread
    /// evenly over `rampUp` when given, else one millisecond apart — so the sessions'
    /// microphones do not all hand over a chunk, nor their turns all end, at the same instant.
    package func sessionStart(_ index: Int) -> Int64 {
        guard let rampUp else { return Int64(index) * 1_000_000 }
        return rampUp * Int64(index) / Int64(closedSessions)
    }

    /// Closed model: the sessions that run (no more than there are trials).
    package var closedSessions: Int { max(1, min(concurrency, totalTrials)) }

    /// About how long the run will take, seconds: every trial replays its recording in real
    /// time and then waits for its answer (`answerMs` of the transport and recording: a profile's
    /// expectation, or a guess for an endpoint not known), the closed model's sessions side by
    /// side; the open model lasts its schedule plus the last answers.
    package func estimatedSeconds(answerMs: (TransportSettings, Recording) -> Double) -> Double {
        if let arrivals {
            let longest =
                transports.flatMap { t in recordings.map { r in Double(r.durationNs) / 1e9 + answerMs(t, r) / 1000 } }
                .max() ?? 0
            return Double(arrivals.durationNs) / 1e9 + longest
        }
        let perRound = transports.reduce(0.0) { sum, t in
            sum + recordings.reduce(0.0) { $0 + Double($1.durationNs) / 1e9 + answerMs(t, $1) / 1000 }
        }
        return perRound * Double(trials + warmup) / Double(closedSessions)
    }

    /// Trials the run will perform, warm-ups included.
    package var totalTrials: Int {
        if let arrivals { return arrivals.arrivals().count * transports.count }
        return (trials + warmup) * recordings.count * transports.count
    }

    /// The configuration as stored with the run (secrets already masked).
    /// A WebRTC call's settings as stored with the run (TURN credentials masked).
    static func json(_ w: WebRTCSettings, redactor: SecretRedactor) -> JSONValue {
        let secret: JSONValue
        switch w.secret {
        case .besideCalls: secret = .string("beside the calls URL")
        case .none: secret = .null
        case .url(let url): secret = .string(redactor.redactURL(url))
        }
        return .object([
            ("secret_url", secret), ("stun", .optional(w.stun)),
            ("turn", .optional(w.turn.map { redactor.redactURL($0) })),
            ("jitter_buffer_ms", .double(Double(w.jitterBufferNs) / 1e6)),
        ])
    }

    package func json(redactor: SecretRedactor) -> JSONValue {
        .object([
            (
                "transports",
                .array(
                    transports.map { t in
                        // Checked before the run (RunPlan): a dialect that cannot be made never gets here.
                        let dialect = try? t.dialect()
                        return .object(
                            [
                                ("transport", .string(t.kind.rawValue)),
                                ("endpoint", .string(t.endpoint.redacted)),
                                ("connection", .string(t.connection.rawValue)),
                                ("headers", .array(t.headers.map { .string("\($0.name): \(SecretRedactor.mask)") })),
                                ("model", .optional(dialect?.model)),
                                ("voice", .optional(dialect?.voice)),
                                (
                                    "dialect",
                                    .object([
                                        ("name", .optional(dialect?.name)),
                                        ("file", .optional(dialect?.file?.source)),
                                        ("sha256", .optional(dialect?.file?.sha256)),
                                        ("input", .optional(dialect?.input.description)),
                                    ])
                                ),
                                ("verify_tls", .bool(t.verifyTLS)),
                                ("ca_file", .optional(t.caFile)),
                            ] + (t.kind == .webrtc ? [("webrtc", Self.json(t.webRTC, redactor: redactor))] : []))
                    })
            ),
            (
                "recordings",
                .array(
                    recordings.map { r in
                        .object(
                            [
                                ("name", .string(r.name)), ("duration_ms", .double(r.durationMs)),
                                ("speech_start_ms", .int(Int64(r.speechStartMs))),
                                ("speech_end_ms", .int(Int64(r.speechEndMs))),
                            ]
                                + (r.source.map { source in
                                    [
                                        (
                                            "source",
                                            JSONValue.object([
                                                ("format", .string(source.format)),
                                                ("sample_rate", .int(Int64(source.sampleRate))),
                                                ("channels", .int(Int64(source.channels))),
                                                ("conversion", .string(source.conversion)),
                                            ])
                                        )
                                    ]
                                } ?? []))
                    })
            ),
            ("trials", .int(Int64(trials))), ("warmup", .int(Int64(warmup))), ("chunk_ms", .int(Int64(chunkMs))),
            ("concurrency", .int(Int64(concurrency))), ("timeout_ms", .ms(timeout)), ("lag_budget_ms", .ms(lagBudget)),
            ("seed", .int(Int64(bitPattern: seed))), ("label", .optional(label)),
            ("context", .string(context.rawValue)), ("max_invalid", .double(maxInvalidShare)),
            ("schedule", "microphone: chunk k due at (k+1) x chunk_ms; transports alternate A B, B A within rounds"),
            ("reference_server", referenceServer ?? .null),
            ("link", link ?? .null),
            (
                "load",
                arrivals.map { a in
                    .object([
                        ("model", "open"), ("schedule", .string(a.summary)), ("start_rate", .double(a.startRate)),
                        (
                            "stages",
                            .array(
                                a.stages.map {
                                    .object([("duration_ms", .ms($0.durationNs)), ("rate_per_s", .double($0.rate))])
                                })
                        ),
                        ("arrivals_per_transport", .int(Int64(a.arrivals().count))),
                        ("max_sessions", .int(Int64(maxSessions))),
                    ])
                }
                    ?? .object([
                        ("model", "closed"), ("concurrency", .int(Int64(concurrency))),
                        ("ramp_up_ms", .ms(rampUp ?? Int64(closedSessions) * 1_000_000)),
                    ])
            ),
            ("io", io ?? .null),
            (
                "turn",
                vad.map { v in
                    .object([
                        ("detection", "vad"), ("threshold", .double(v.threshold)),
                        ("prefix_padding_ms", .int(Int64(v.prefixPaddingMs))),
                        ("silence_duration_ms", .int(Int64(v.silenceDurationMs))),
                    ])
                }
                    ?? .object([("detection", "manual")])
            ),
        ])
    }
}

/// Progress after each stored trial.
package struct TrialProgress: Sendable {
    package var trial: TrialRecord
    /// The trial's transport as people read it ("sse", or "sse (candidate)" in an A/B run).
    package var transport: String
    package var completed: Int
    package var total: Int
    /// Live p50 TTFA (ms) of measured ok trials, per transport in configuration order.
    package var liveP50: [(transport: String, p50: Double?)]
    /// Live load figures per transport (HDR histograms).
    package var live: [LoadMonitor.Live]
}

/// Runs the benchmark: every trial replayed in real time, interleaved across transports,
/// stored the moment it finishes.
package final class BenchmarkRunner: Sendable {
    package let configuration: BenchmarkConfiguration
    private let store: ResultsStore
    /// Where each transport's trials go (index-aligned with `configuration.transports`).
    private let targets: [Target]
    /// Why the run stops early (an interrupt, a storage failure): trials in flight are aborted
    /// with it and abandoned, never stored.
    private let stopReason = LockedBox<TransportError?>(nil)
    private let active = LockedBox<[ObjectIdentifier: any VoiceTransport]>([:])
    private let progressState = LockedBox(ProgressState())

    /// The error in-flight turns are aborted with when the user interrupts the run.
    package static let interruption = TransportError(.internal, "interrupted")

    /// Longest wait for the server to confirm a conversation clean-up.
    static let cleanupTimeout: Int64 = .seconds(5)

    private struct ProgressState: Sendable {
        var completed = 0
        /// Per run: trials stored so far (each run numbers its own trials from 1).
        var seq: [Int64: Int] = [:]
    }

    /// The run a transport's trials are stored in, and the reference server that answered them
    /// (for the per-phase breakdown). A same-job A/B comparison stores its two sides in two runs.
    package struct Target: Sendable {
        package var runID: Int64
        package var serverLog: ServerLog?

        package init(runID: Int64, serverLog: ServerLog? = nil) {
            self.runID = runID
            self.serverLog = serverLog
        }
    }

    static func answerLookup(_ log: ServerLog) -> @Sendable (String) -> ServerLog.Answer? {
        { id in log.answer(id: id) }
    }

    package convenience init(
        configuration: BenchmarkConfiguration, store: ResultsStore, runID: Int64, serverLog: ServerLog? = nil
    ) {
        self.init(
            configuration: configuration, store: store,
            targets: configuration.transports.map { _ in Target(runID: runID, serverLog: serverLog) })
    }

    /// - Parameter targets: one per transport of `configuration`, in the same order.
    package init(configuration: BenchmarkConfiguration, store: ResultsStore, targets: [Target]) {
        precondition(targets.count == configuration.transports.count, "one target per transport")
        self.configuration = configuration
        self.store = store
        self.targets = targets
    }

    /// One trial to run.
    struct Item: Sendable {
        var round: Int
        var recording: Int
        var transport: Int
    }

    /// The schedule: warm-up rounds first; in each round every recording through every
    /// transport. The transports' order alternates — A B for one recording, B A for the next,
    /// and the other way round in the next round — so neither always goes first and drift on
    /// a noisy machine hits both alike.
    var schedule: [Item] {
        var items: [Item] = []
        for round in 0..<(configuration.warmup + configuration.trials) {
            for recording in configuration.recordings.indices {
                var order = Array(configuration.transports.indices)
                if (round + recording) % 2 == 1 { order.reverse() }
                for transport in order {
                    items.append(Item(round: round, recording: recording, transport: transport))
                }
            }
        }
        return items
    }

    /// Stops the run: the trials in flight are abandoned (not stored), no new ones start.
    package func interrupt() {
        stop(Self.interruption)
    }

    package var wasInterrupted: Bool { stopReason.withLock { $0 } == Self.interruption }

    private func stop(_ reason: TransportError) {
        let first = stopReason.withLock { current -> Bool in
            guard current == nil else { return false }
            current = reason
            return true
        }
        guard first else { return }
        for transport in active.withLock({ Array($0.values) }) {
            transport.abort(reason, turn: nil)
        }
    }

    private var stopping: TransportError? { stopReason.withLock { $0 } }

    /// The run's load, second by second (set when `run` starts).
    private let monitorBox = LockedBox<LoadMonitor?>(nil)
    var monitor: LoadMonitor? { monitorBox.withLock { $0 } }

    /// Runs every trial. Returns the number of trials stored.
    /// - Parameters:
    ///   - onTrial: called after each stored trial (from a worker task).
    ///   - onSecond: called once a second with the load's live figures (its time series is
    ///     stored with the run at the same moment).
    /// - Throws: when a trial cannot be stored (the database failed); the other sessions stop
    ///   at once and store nothing more.
    package func run(
        onTrial: @escaping @Sendable (TrialProgress) -> Void = { _ in },
        onSecond: @escaping @Sendable ([LoadMonitor.Live], Int) -> Void = { _, _ in }
    ) async throws -> Int {
        let origin = MonotonicClock.now() + .milliseconds(20)
        let monitor = LoadMonitor(
            transports: configuration.transports.map(\.displayName), origin: origin,
            lateAfterNs: configuration.lagBudget)
        monitorBox.withLock { $0 = monitor }
        let ticker = Task {
            var second = 1
            while !Task.isCancelled {
                let due = origin + Int64(second) * 1_000_000_000 + .milliseconds(5)
                try await Task.sleep(for: .nanoseconds(max(0, due - MonotonicClock.now())))
                await storeSeries(monitor.flush(runID: 0, now: MonotonicClock.now()))
                onSecond(monitor.live(), second)
                second += 1
            }
        }
        defer { ticker.cancel() }
        do {
            if let arrivals = configuration.arrivals {
                try await runOpen(arrivals, origin: origin, monitor: monitor, onTrial: onTrial)
            } else {
                try await runClosed(monitor: monitor, onTrial: onTrial)
            }
        } catch {
            // The ticker's last write lands before the final one, which replaces its seconds.
            ticker.cancel()
            _ = await ticker.result
            await storeSeries(monitor.flush(runID: 0, now: MonotonicClock.now(), final: true))
            throw error
        }
        ticker.cancel()
        _ = await ticker.result
        await storeSeries(monitor.flush(runID: 0, now: MonotonicClock.now(), final: true))
        return progressState.withLock { $0.completed }
    }

    /// Stores the time series rows once per run the transports are stored in (an A/B run has
    /// two). A failure to store them is not a reason to stop measuring: the trials are what
    /// count, and the series can be rebuilt from them.
    private func storeSeries(_ rows: [SeriesRecord]) async {
        guard !rows.isEmpty else { return }
        for (index, target) in targets.enumerated() {
            let name = configuration.transports[index].displayName
            let mine = rows.filter { $0.transport == name }.map { row -> SeriesRecord in
                var copy = row
                copy.runID = target.runID
                return copy
            }
            try? await store.insertSeries(mine)
        }
    }

    /// The closed model: `concurrency` sessions, each running its next trial when its last one
    /// ended.
    private func runClosed(monitor: LoadMonitor, onTrial: @escaping @Sendable (TrialProgress) -> Void) async throws {
        let queue = WorkQueue(schedule)
        let workers = configuration.closedSessions
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<workers {
                group.addTask {
                    let start = self.configuration.sessionStart(index)
                    if start > 0 { try? await Task.sleep(for: .nanoseconds(start)) }
                    try await self.worker(queue: queue, onTrial: onTrial)
                }
            }
            try await group.waitForAll()
        }
    }

    /// The open model: sessions arrive on the schedule whether or not earlier ones finished;
    /// each opens its own connection, runs one trial and closes. An arrival that cannot start
    /// on time (the machine was busy, or `maxSessions` were in flight) starts late and says so
    /// in its trial (`start_late_ns`) and the time series — never skipped.
    private func runOpen(
        _ arrivals: ArrivalSchedule, origin: Int64, monitor: LoadMonitor,
        onTrial: @escaping @Sendable (TrialProgress) -> Void
    ) async throws {
        let offsets = arrivals.arrivals()
        var plan: [(due: Int64, item: Item)] = []
        for transport in configuration.transports.indices {
            for (index, offset) in offsets.enumerated() {
                plan.append(
                    (
                        origin + offset,
                        Item(round: index, recording: index % configuration.recordings.count, transport: transport)
                    ))
                monitor.offer(configuration.transports[transport].displayName, at: origin + offset)
            }
        }
        plan.sort { $0.due != $1.due ? $0.due < $1.due : $0.item.transport < $1.item.transport }
        let slots = configuration.transports.map { _ in SessionSlots(configuration.maxSessions) }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (due, item) in plan {
                guard stopping == nil else { break }
                let wait = due - MonotonicClock.now()
                if wait > 0 { try? await Task.sleep(for: .nanoseconds(wait)) }
                await slots[item.transport].acquire()
                guard stopping == nil else { break }
                let late = max(0, MonotonicClock.now() - due)
                group.addTask {
                    defer { Task { await slots[item.transport].release() } }
                    let session = Session(settings: self.configuration.transports[item.transport])
                    try await self.perform(item, session: session, lateNs: late, onTrial: onTrial)
                    await session.discard()
                }
            }
            try await group.waitForAll()
        }
    }

    // MARK: worker

    /// A worker's connection to one transport, reused across its warm trials.
    private final class Session {
        let settings: TransportSettings
        var transport: (any VoiceTransport)?
        var events: TransportEventStream.AsyncIterator?
        /// Turns are numbered per session; every request and response is tagged with its turn.
        var nextTurn = 1

        init(settings: TransportSettings) {
            self.settings = settings
        }

        func discard() async {
            await transport?.close()
            transport = nil
            events = nil
        }
    }

    private func worker(queue: WorkQueue<Item>, onTrial: @escaping @Sendable (TrialProgress) -> Void) async throws {
        let sessions = configuration.transports.map(Session.init)
        do {
            try await work(sessions: sessions, queue: queue, onTrial: onTrial)
        } catch {
            for session in sessions { await session.discard() }
            throw error
        }
        for session in sessions { await session.discard() }
    }

    private func work(sessions: [Session], queue: WorkQueue<Item>, onTrial: @escaping @Sendable (TrialProgress) -> Void)
        async throws
    {
        while stopping == nil, let item = await queue.next() {
            guard try await perform(item, session: sessions[item.transport], lateNs: nil, onTrial: onTrial) else {
                break
            }
        }
    }

    /// Runs and stores one trial. Returns false when the run is stopping (the trial abandoned).
    @discardableResult
    private func perform(
        _ item: Item, session: Session, lateNs: Int64?, onTrial: @escaping @Sendable (TrialProgress) -> Void
    ) async throws -> Bool {
        do {
            let recording = configuration.recordings[item.recording]
            let startedAt = Date()
            let name = session.settings.displayName
            monitor?.started(name, at: MonotonicClock.now(), lateNs: lateNs, closed: lateNs == nil)
            let timeline = await runTrial(session: session, recording: recording)
            // A trial cut short because the run is stopping is abandoned; a real failure that
            // happened first is stored as what it was.
            if let reason = stopping, timeline.outcome.error == reason {
                monitor?.finished(name, at: MonotonicClock.now(), trial: nil)
                return false
            }
            let target = targets[item.transport]
            let seq = progressState.withLock { s in
                s.seq[target.runID, default: 0] += 1
                return s.seq[target.runID]!
            }
            let context = TrialRecorder.Context(
                runID: target.runID, seq: seq, settings: session.settings, recording: recording,
                round: item.round + 1, warmup: configuration.arrivals == nil && item.round < configuration.warmup,
                startedAt: startedAt, lagBudgetNs: configuration.lagBudget,
                server: target.serverLog.map(Self.answerLookup))
            var (trial, events, _) = TrialRecorder.records(for: timeline, context: context)
            trial.startLateNs = lateNs
            do {
                try await store.insertTrial(trial, events: events)
            } catch {
                monitor?.finished(name, at: MonotonicClock.now(), trial: nil)
                stop(TransportError(.internal, "the run is stopping: a trial could not be stored"))
                throw error
            }
            monitor?.finished(name, at: MonotonicClock.now(), trial: trial)
            let live = monitor?.live() ?? []
            let progress = progressState.withLock { s -> TrialProgress in
                s.completed += 1
                return TrialProgress(
                    trial: trial, transport: name, completed: s.completed, total: configuration.totalTrials,
                    liveP50: live.map { ($0.transport, $0.p50) }, live: live)
            }
            onTrial(progress)
            return true
        }
    }

    /// Plays one trial on `session`, opening or reopening connections as the mode requires.
    private func runTrial(session: Session, recording: Recording) async -> TurnTimeline {
        let settings = session.settings
        let turn = session.nextTurn
        session.nextTurn += 1
        let cold = settings.connection == .cold && settings.kind.keepsOneConnection
        if session.transport == nil || !(session.transport!.isOpen) || cold {
            await session.discard()
            let transport: any VoiceTransport
            do throws(TransportError) {
                transport = try settings.makeTransport()
            } catch {
                // The plan made this transport once before the run: only an internal fault gets here.
                return TurnTimeline(
                    turn: turn, start: MonotonicClock.now(), speechEnd: MonotonicClock.now() + recording.durationNs,
                    chunkMs: configuration.chunkMs,
                    expectedChunks: recording.chunks(chunkMs: configuration.chunkMs).count,
                    events: [], outcome: .failed(error))
            }
            session.transport = transport
            session.events = transport.events.makeAsyncIterator()
            if !cold {
                // Warm: connect before the trial, outside its timing (interruptible meanwhile).
                let openedAt = MonotonicClock.now()
                let result = await whileActive(transport) { () async -> Result<Void, TransportError> in
                    do throws(TransportError) {
                        try await transport.open()
                        return .success(())
                    } catch {
                        return .failure(error)
                    }
                }
                if case .failure = result {
                    return await failedOpening(session: session, turn: turn, recording: recording, at: openedAt)
                }
            }
        }
        let transport = session.transport!
        var events = session.events!
        let timeline = await whileActive(transport) {
            await TurnRunner.run(
                transport: transport, events: &events, turn: turn, recording: recording, chunkMs: configuration.chunkMs,
                start: MonotonicClock.now() + .milliseconds(50), timeout: configuration.timeout, openInside: cold,
                vad: configuration.vad)
        }
        session.events = events
        if cold || timeline.outcome != .ok || !transport.isOpen {
            // A failed turn leaves its connection in an unknown state: the next one starts afresh.
            await session.discard()
        } else if configuration.context == .reset, await !whileActive(transport, { await resetConversation(session) }) {
            // A conversation that could not be emptied is replaced by a new connection's.
            await session.discard()
        }
        return timeline
    }

    /// Runs `body` with `transport` registered, so `stop` can abort it.
    private func whileActive<T>(_ transport: any VoiceTransport, _ body: () async -> T) async -> T {
        let id = ObjectIdentifier(transport)
        active.withLock { $0[id] = transport }
        if let reason = stopping { transport.abort(reason, turn: nil) }
        defer { active.withLock { _ = $0.removeValue(forKey: id) } }
        return await body()
    }

    /// Deletes what the last turn added to the conversation, between trials (outside their
    /// timing). Returns whether the server confirmed it (trivially true for SSE).
    private func resetConversation(_ session: Session) async -> Bool {
        guard let transport = session.transport, var events = session.events else { return true }
        let messages = events.cleanupMessages()
        guard !messages.isEmpty else { return true }
        transport.sendControl(messages)
        let timer = Task {
            try await Task.sleep(for: .nanoseconds(Self.cleanupTimeout))
            transport.abort(TransportError(.timeout, "the server did not confirm the conversation clean-up"), turn: nil)
        }
        defer { timer.cancel() }
        var cleared = false
        while let event = await events.next() {
            if case .contextCleared(let ok, _) = event.event {
                cleared = ok
                break
            }
            if case .failure = event.event { break }
        }
        session.events = events
        return cleared
    }

    /// A warm connection that could not be opened is this trial's failure.
    private func failedOpening(session: Session, turn: Int, recording: Recording, at start: Int64) async -> TurnTimeline
    {
        var timeline = TurnTimeline(
            turn: turn, start: start, speechEnd: start + recording.durationNs, chunkMs: configuration.chunkMs,
            expectedChunks: recording.chunks(chunkMs: configuration.chunkMs).count, events: [], outcome: .ok)
        var failure = TransportError(.closed, "the connection ended while opening")
        if var events = session.events {
            while let event = await events.next() {
                timeline.events.append(event)
                if case .failure(let error) = event.event {
                    failure = error
                    break
                }
            }
        }
        timeline.outcome = .failed(failure)
        await session.discard()
        return timeline
    }
}

/// At most `limit` sessions of a transport in flight (the open model's cap).
actor SessionSlots {
    private var free: Int
    private var waiters: [CheckedContinuation<Void, Never>] = []

    init(_ limit: Int) {
        free = max(1, limit)
    }

    func acquire() async {
        if free > 0 {
            free -= 1
            return
        }
        await withCheckedContinuation { waiters.append($0) }
    }

    func release() {
        if waiters.isEmpty {
            free += 1
        } else {
            waiters.removeFirst().resume()
        }
    }
}

/// Hands out work items in order to concurrent workers.
actor WorkQueue<Item: Sendable> {
    private var items: [Item]
    private var index = 0

    init(_ items: [Item]) {
        self.items = items
    }

    func next() -> Item? {
        guard index < items.count else { return nil }
        defer { index += 1 }
        return items[index]
    }
}
