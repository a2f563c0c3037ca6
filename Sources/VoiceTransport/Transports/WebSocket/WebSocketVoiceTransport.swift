import Foundation
import Synchronization

/// A voice dialect over WebSocket (RFC 6455 on a libcurl connection) — by default OpenAI
/// Realtime.
///
/// One instance is one connection. It opens with the dialect's set-up (Realtime:
/// `session.update`) and waits for its acknowledgement (`session.updated`) before any audio
/// leaves. Audio streams while the user speaks (one message per chunk); at the end of speech it
/// sends the dialect's end-of-speech messages (`commit` + `response.create`). For warm runs keep
/// the instance across turns; for cold runs make one per turn.
public final class WebSocketVoiceTransport: VoiceTransport {
    public let kind = TransportKind.websocket
    public var endpoint: Endpoint { client.configuration.endpoint }
    public let events: TransportEventStream
    public let dialect: any WebSocketDialect
    public let turnIsRequest = false
    public var inputFormat: AudioFormat { dialect.inputFormat }

    private let client: WebSocketClient
    private let continuation: AsyncStream<TimedEvent>.Continuation
    private let state: LockedBox<State>

    private struct State: Sendable {
        var phase = Phase.idle
        var openWaiter: CheckedContinuation<Void, any Error>?
        var finishWaiters: [CheckedContinuation<Void, Never>] = []
    }

    private enum Phase {
        case idle, opening, open, finished
    }

    public convenience init(configuration: WebSocketClientConfiguration, options: RealtimeOptions = RealtimeOptions()) {
        self.init(configuration: configuration, dialect: RealtimeDialect(options: options))
    }

    public init(configuration: WebSocketClientConfiguration, dialect: any WebSocketDialect) {
        let (stream, continuation) = AsyncStream.makeStream(of: TimedEvent.self, bufferingPolicy: .unbounded)
        let batcher = EventBatcher { continuation.yield($0) }
        let state = LockedBox(State())
        var configuration = configuration
        configuration.setupMessages = dialect.setupMessages()
        configuration.isSetupAcknowledgement = dialect.setupAcknowledgement
        self.continuation = continuation
        self.state = state
        self.dialect = dialect
        self.events = TransportEventStream(base: stream, interpreter: dialect.makeInterpreter())
        self.client = WebSocketClient(
            configuration: configuration,
            emit: { event in
                batcher.emit(event)
                let waiter: CheckedContinuation<Void, any Error>?
                let result: TransportError?
                switch event.event {
                case .sessionReady:
                    (waiter, result) = state.withLock { s in
                        defer { s.openWaiter = nil }
                        if s.phase == .opening { s.phase = .open }
                        return (s.openWaiter, nil)
                    }
                case .failure(let error):
                    (waiter, result) = state.withLock { s in
                        defer { s.openWaiter = nil }
                        return (s.openWaiter, error)
                    }
                default:
                    return
                }
                if let result { waiter?.resume(throwing: result) } else { waiter?.resume() }
            },
            onFinish: {
                batcher.flush()
                continuation.finish()
                let (openWaiter, finishWaiters) = state.withLock { s in
                    s.phase = .finished
                    defer { s.openWaiter = nil; s.finishWaiters = [] }
                    return (s.openWaiter, s.finishWaiters)
                }
                openWaiter?.resume(throwing: TransportError(.closed, "the connection ended before the WebSocket session was ready"))
                for waiter in finishWaiters { waiter.resume() }
            }
        )
    }

    public var isOpen: Bool {
        state.withLock { $0.phase == .open || $0.phase == .opening || $0.phase == .idle }
    }

    /// Connects, upgrades, sends `session.update` and returns once the server acknowledged it.
    public func open() async throws(TransportError) {
        do {
            try await withCheckedThrowingContinuation { (waiter: CheckedContinuation<Void, any Error>) in
                let start = state.withLock { s -> Bool in
                    guard s.phase == .idle else { return false }
                    s.phase = .opening
                    s.openWaiter = waiter
                    return true
                }
                if start {
                    client.start()
                } else {
                    waiter.resume(throwing: TransportError(.internal, "open() called twice on one WebSocket transport"))
                }
            }
        } catch let error as TransportError {
            throw error
        } catch {
            throw TransportError(.internal, "\(error)")
        }
    }

    public func sendAudio(_ chunk: AudioChunk) {
        client.send(dialect.audioMessage(chunk.pcm, turn: chunk.turn), due: chunk.due, tag: .audio(index: chunk.index), turn: chunk.turn)
    }

    /// The dialect's end-of-speech messages at `due` (Realtime, manual turns: commit and
    /// `response.create`). With none — the server finds the end itself — `due` only marks it.
    public func endSpeech(turn: Int, at due: Int64, deadline: Int64) {
        client.endSpeech(messages: dialect.endOfSpeechMessages(turn: turn), turn: turn, due: due)
    }

    public func sendControl(_ messages: [String]) {
        let now = MonotonicClock.now()
        for message in messages { client.send(.text(message), due: now, tag: .other, turn: nil) }
    }

    public func finishTurn(_ turn: Int) {
        client.discard(turn: turn)
    }

    public func abort(_ error: TransportError, turn: Int?) {
        client.abort(error, turn: turn)
    }

    public func close() async {
        let running = state.withLock { s -> Bool in
            if s.phase == .idle { s.phase = .finished; return false }
            return s.phase != .finished
        }
        guard running else {
            continuation.finish()
            return
        }
        client.close()
        await withCheckedContinuation { (waiter: CheckedContinuation<Void, Never>) in
            let done = state.withLock { s -> Bool in
                if s.phase == .finished { return true }
                s.finishWaiters.append(waiter)
                return false
            }
            if done { waiter.resume() }
        }
    }
}
