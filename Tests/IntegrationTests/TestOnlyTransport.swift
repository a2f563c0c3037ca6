import DialectSpec
import Foundation
import Reports
import RunSession
import Storage
import StorageSQLite
import Synchronization
import TestSupport
import Testing
import VoiceTransport

/// A transport defined here and nowhere else: an in-process "model" that answers each turn
/// `answerAfterMs` after its end of speech with three audio events. It registers itself below,
/// and `ttfa run`'s machinery — the plan, the replay schedule, the store, the summary, CSV and
/// HTML — takes it as it takes the built-in ones: the proof that the transport seam is one file.
final class LoopbackModelTransport: VoiceTransport {
    static let answerAfterMs: Int64 = 40

    static let descriptor = TransportKind(
        name: "loopback-model", summary: "an in-process model for the tests", keepsOneConnection: true,
        serverDetectsEndOfSpeech: false,
        schemes: ["loop": "loop"], exampleURL: "loop://model", referencePath: "/", profileSlot: "realtime",
        builtInDialect: "loopback",
        dialect: { _ in DialectInfo(name: "loopback", input: .pcm16At24k, model: "loopback", voice: "none") },
        make: { settings in LoopbackModelTransport(endpoint: settings.endpoint) })

    let kind = LoopbackModelTransport.descriptor
    let endpoint: Endpoint
    let events: TransportEventStream
    let turnIsRequest = false
    let inputFormat = AudioFormat.pcm16At24k
    private let continuation: AsyncStream<TimedEvent>.Continuation
    private let closed = Mutex(false)

    init(endpoint: Endpoint) {
        self.endpoint = endpoint
        let (stream, continuation) = AsyncStream.makeStream(of: TimedEvent.self)
        self.continuation = continuation
        events = TransportEventStream(base: stream, interpreter: PassThrough())
    }

    var isOpen: Bool { closed.withLock { !$0 } }
    func open() async throws(TransportError) {}

    /// Each chunk "leaves" at its due time, stamped there.
    func sendAudio(_ chunk: AudioChunk) {
        emit(at: chunk.due, turn: chunk.turn) { t in
            .chunkSent(index: chunk.index, scheduled: chunk.due, lagNs: t - chunk.due, blockedNs: 0)
        }
    }

    func endSpeech(turn: Int, at due: Int64, deadline: Int64) {
        emit(at: due, turn: turn) { t in .speechEnd(scheduled: due, lagNs: t - due, blockedNs: 0) }
        let answer = due + Self.answerAfterMs * 1_000_000
        emit(at: answer, turn: turn) { _ in .responseStarted(id: "loop-\(turn)") }
        for index in 0..<3 {
            emit(at: answer + Int64(index) * 20_000_000, turn: turn) { _ in
                .audio(bytes: 4800, response: "loop-\(turn)")
            }
        }
        emit(at: answer + 60_000_000, turn: turn) { _ in .responseDone(id: "loop-\(turn)") }
        emit(at: answer + 60_000_000, turn: turn) { _ in .turnEnd }
    }

    func sendControl(_ messages: [String]) {}
    func finishTurn(_ turn: Int) {}
    func abort(_ error: TransportError, turn: Int?) {
        continuation.yield(TimedEvent(t: MonotonicClock.now(), .failure(error), turn: turn))
    }

    func close() async {
        closed.withLock { $0 = true }
        continuation.finish()
    }

    private func emit(at due: Int64, turn: Int, _ event: @escaping @Sendable (Int64) -> TransportEvent) {
        let continuation = continuation
        Task.detached {
            let wait = due - MonotonicClock.now()
            if wait > 0 { try? await Task.sleep(for: .nanoseconds(wait)) }
            let t = MonotonicClock.now()
            continuation.yield(TimedEvent(t: t, event(t), turn: turn))
        }
    }

    /// Its events are already what a dialect would make of a wire.
    struct PassThrough: EventInterpreter {
        mutating func interpret(_ event: TransportEvent) -> [TransportEvent] { [] }
        mutating func beginTurn(_ turn: Int) {}
    }
}

@Suite("A transport defined in a test", .serialized)
struct TestOnlyTransportTests {
    @Test func runsThroughThePlanTheStoreTheSummaryCSVAndHTML() async throws {
        TransportKind.register(LoopbackModelTransport.descriptor)
        let scratch = try Scratch()
        var request = RunRequest()
        request.transports = [LoopbackModelTransport.descriptor]
        request.urls = [LoopbackModelTransport.descriptor: "loop://model"]
        request.audio = [scratch.audio]
        request.trials = 3
        request.warmup = 0
        // This transport's "wire" is the test process's own task pool, shared with every test
        // running beside it: its lateness is the pool's, not ttfa's, and not what this test checks.
        request.lagBudgetMs = 10_000
        request.database = scratch.database
        request.outputs.quiet = true
        request.commandLine = ["ttfa", "run", "--url", "loopback-model=loop://model"]
        let plan = try RunPlan.make(request)
        let store = try SQLiteStore(path: scratch.database)
        let outcome = try await RunSession(plan: plan, store: store, progress: .quiet).run()

        // Stored, as every trial is.
        let trials = try await store.trials(runID: 1)
        #expect(
            trials.count == 3 && trials.allSatisfy { $0.status == .ok && $0.transport == "loopback-model" },
            "\(trials.map { "\($0.status) \($0.errorMessage ?? "")" })")
        #expect(
            trials.allSatisfy { ($0.ttfaNs ?? 0) >= LoopbackModelTransport.answerAfterMs * 1_000_000 },
            "never before its own answer")
        let config = try #require(try await store.run(id: 1)?.configJSON)
        #expect(
            config.contains(#""transport":"loopback-model""#) && config.contains(#""name":"loopback""#), "\(config)")
        // Summarized, exported and charted like the others.
        let summary = try #require(outcome.summaries.first)
        #expect(summary.transports.map(\.transport) == ["loopback-model"] && summary.transports.first?.ok == 3)
        #expect(TableRenderer.summary(summary).contains("loopback-model"))
        let csv = CSVRenderer.header + trials.map(CSVRenderer.row).joined()
        #expect(csv.split(separator: "\r\n").count == 4 && csv.contains(",loopback-model,"), "\(csv)")
        let html = HTMLRenderer.render(try await ReportData.load(summary.run, from: store))
        #expect(html.contains("loopback-model") && html.contains("<svg"))
    }
}
