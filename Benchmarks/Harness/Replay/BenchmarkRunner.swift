import Foundation
import Synchronization
import VoiceTransport

/// What `ttfa run` measures.
public struct BenchmarkConfiguration: Sendable {
    /// Transports in interleaving order (A B A B …).
    public var transports: [TransportSettings]
    public var recordings: [Recording]
    /// Measured trials per transport and recording.
    public var trials: Int
    /// Warm-up rounds before them (stored, flagged, left out of statistics).
    public var warmup: Int
    public var chunkMs: Int
    /// Sessions running at once.
    public var concurrency: Int
    /// How long after speech end an answer may take, nanoseconds.
    public var timeout: Int64
    /// Largest send lag before a trial is `invalid`, nanoseconds.
    public var lagBudget: Int64
    /// Seed of the bootstrap confidence intervals.
    public var seed: UInt64
    public var label: String?

    public init(transports: [TransportSettings], recordings: [Recording], trials: Int = 5, warmup: Int = 1,
                chunkMs: Int = 50, concurrency: Int = 1, timeout: Int64 = .seconds(30),
                lagBudget: Int64 = .milliseconds(5), seed: UInt64 = 1, label: String? = nil) {
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
    }

    /// Trials the run will perform, warm-ups included.
    public var totalTrials: Int { (trials + warmup) * recordings.count * transports.count }

    /// The configuration as stored with the run (secrets already masked).
    public func json(redactor: SecretRedactor) -> JSONValue {
        .object([
            ("transports", .array(transports.map { t in
                .object([
                    ("transport", .string(t.kind.rawValue)),
                    ("endpoint", .string(t.endpoint.redacted)),
                    ("connection", .string(t.connection.rawValue)),
                    ("headers", .array(t.headers.map { .string("\($0.name): \(SecretRedactor.mask)") })),
                    ("model", .string(t.kind == .sse ? t.chat.model : "(from the URL)")),
                    ("voice", .string(t.kind == .sse ? t.chat.voice : t.realtime.voice)),
                    ("verify_tls", .bool(t.verifyTLS)),
                ])
            })),
            ("recordings", .array(recordings.map { r in
                .object([("name", .string(r.name)), ("duration_ms", .double(r.durationMs)),
                         ("speech_start_ms", .int(Int64(r.speechStartMs))), ("speech_end_ms", .int(Int64(r.speechEndMs)))])
            })),
            ("trials", .int(Int64(trials))), ("warmup", .int(Int64(warmup))), ("chunk_ms", .int(Int64(chunkMs))),
            ("concurrency", .int(Int64(concurrency))), ("timeout_ms", .ms(timeout)), ("lag_budget_ms", .ms(lagBudget)),
            ("seed", .int(Int64(bitPattern: seed))), ("label", .optional(label)),
        ])
    }
}

/// Progress after each stored trial.
public struct TrialProgress: Sendable {
    public var trial: TrialRecord
    public var completed: Int
    public var total: Int
    /// Live p50 TTFA (ms) of measured ok trials, per transport in configuration order.
    public var liveP50: [(transport: String, p50: Double?)]
}

/// Runs the benchmark: every trial replayed in real time, interleaved across transports,
/// stored the moment it finishes.
public final class BenchmarkRunner: Sendable {
    public let configuration: BenchmarkConfiguration
    private let store: ResultsStore
    private let runID: Int64
    private let interrupted = Atomic(false)
    private let active = LockedBox<[ObjectIdentifier: any VoiceTransport]>([:])
    private let progressState = LockedBox(ProgressState())

    private struct ProgressState: Sendable {
        var completed = 0
        var seq = 0
        var ttfas: [String: [Double]] = [:]
    }

    public init(configuration: BenchmarkConfiguration, store: ResultsStore, runID: Int64) {
        self.configuration = configuration
        self.store = store
        self.runID = runID
    }

    /// One trial to run.
    struct Item: Sendable {
        var round: Int
        var recording: Int
        var transport: Int
    }

    /// The schedule: warm-up rounds first; in each round every recording through every
    /// transport, transports alternating (A B A B …) so drift hits both alike.
    var schedule: [Item] {
        var items: [Item] = []
        for round in 0..<(configuration.warmup + configuration.trials) {
            for recording in configuration.recordings.indices {
                for transport in configuration.transports.indices {
                    items.append(Item(round: round, recording: recording, transport: transport))
                }
            }
        }
        return items
    }

    /// Stops after the trial in flight: that trial is abandoned (not stored).
    public func interrupt() {
        interrupted.store(true, ordering: .sequentiallyConsistent)
        for transport in active.withLock({ Array($0.values) }) {
            transport.abort(TransportError(.internal, "interrupted"))
        }
    }

    public var wasInterrupted: Bool { interrupted.load(ordering: .sequentiallyConsistent) }

    /// Runs every trial. Returns the number of trials stored.
    /// - Parameter onTrial: called after each stored trial (from a worker task).
    /// - Throws: when a trial cannot be stored (the database failed).
    public func run(onTrial: @escaping @Sendable (TrialProgress) -> Void = { _ in }) async throws -> Int {
        let queue = WorkQueue(schedule)
        let workers = max(1, min(configuration.concurrency, schedule.count))
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<workers {
                group.addTask { try await self.worker(queue: queue, onTrial: onTrial) }
            }
            try await group.waitForAll()
        }
        return progressState.withLock { $0.completed }
    }

    // MARK: worker

    /// A worker's connection to one transport, reused across its warm trials.
    private final class Session {
        let settings: TransportSettings
        var transport: (any VoiceTransport)?
        var events: TransportEventStream.AsyncIterator?

        init(settings: TransportSettings) {
            self.settings = settings
        }
    }

    private func worker(queue: WorkQueue<Item>, onTrial: @escaping @Sendable (TrialProgress) -> Void) async throws {
        let sessions = configuration.transports.map(Session.init)
        do {
            try await work(sessions: sessions, queue: queue, onTrial: onTrial)
        } catch {
            for session in sessions { await session.transport?.close() }
            throw error
        }
        for session in sessions { await session.transport?.close() }
    }

    private func work(sessions: [Session], queue: WorkQueue<Item>, onTrial: @escaping @Sendable (TrialProgress) -> Void) async throws {
        while !wasInterrupted, let item = await queue.next() {
            let session = sessions[item.transport]
            let recording = configuration.recordings[item.recording]
            let startedAt = Date()
            let timeline = await runTrial(session: session, recording: recording)
            if wasInterrupted, timeline.outcome != .ok { break }  // abandoned mid-trial
            let seq = progressState.withLock { s in
                s.seq += 1
                return s.seq
            }
            let context = TrialRecorder.Context(
                runID: runID, seq: seq, settings: session.settings, recording: recording,
                round: item.round + 1, warmup: item.round < configuration.warmup,
                startedAt: startedAt, lagBudgetNs: configuration.lagBudget)
            let (trial, events, _) = TrialRecorder.records(for: timeline, context: context)
            try store.insertTrial(trial, events: events)
            let progress = progressState.withLock { s -> TrialProgress in
                s.completed += 1
                if trial.isMeasuredOK, let ttfa = trial.ttfaNs {
                    s.ttfas[trial.transport, default: []].append(Double(ttfa) / 1e6)
                }
                let live = configuration.transports.map { t in
                    (t.kind.rawValue, s.ttfas[t.kind.rawValue].map(Summary.median))
                }
                return TrialProgress(trial: trial, completed: s.completed, total: configuration.totalTrials, liveP50: live)
            }
            onTrial(progress)
        }
    }

    /// Plays one trial on `session`, opening or reopening connections as the mode requires.
    private func runTrial(session: Session, recording: Recording) async -> TurnTimeline {
        let settings = session.settings
        let cold = settings.connection == .cold && settings.kind == .websocket
        if session.transport == nil || !(session.transport!.isOpen) || cold {
            if let old = session.transport { await old.close() }
            let transport = settings.makeTransport()
            session.transport = transport
            session.events = transport.events.makeAsyncIterator()
            if !cold {
                // Warm: connect before the trial, outside its timing (interruptible meanwhile).
                let openedAt = MonotonicClock.now()
                let id = ObjectIdentifier(transport)
                active.withLock { $0[id] = transport }
                let opening = Task { try await transport.open() }
                let result = await opening.result
                active.withLock { _ = $0.removeValue(forKey: id) }
                if case .failure = result {
                    return await failedOpening(session: session, recording: recording, at: openedAt)
                }
            }
        }
        let transport = session.transport!
        let id = ObjectIdentifier(transport)
        active.withLock { $0[id] = transport }
        defer { active.withLock { _ = $0.removeValue(forKey: id) } }
        if wasInterrupted { transport.abort(TransportError(.internal, "interrupted")) }
        var events = session.events!
        let timeline = await TurnRunner.run(
            transport: transport, events: &events, recording: recording, chunkMs: configuration.chunkMs,
            start: MonotonicClock.now() + .milliseconds(50), timeout: configuration.timeout, openInside: cold)
        session.events = events
        if cold || timeline.outcome != .ok, settings.kind == .websocket {
            // A failed WebSocket turn leaves the connection in an unknown state: start afresh.
            await transport.close()
            session.transport = nil
            session.events = nil
        }
        return timeline
    }

    /// A warm connection that could not be opened is this trial's failure.
    private func failedOpening(session: Session, recording: Recording, at start: Int64) async -> TurnTimeline {
        var timeline = TurnTimeline(start: start, speechEnd: start + recording.durationNs, chunkMs: configuration.chunkMs, events: [], outcome: .ok)
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
        await session.transport?.close()
        session.transport = nil
        session.events = nil
        return timeline
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

