import Foundation
import Synchronization

/// OpenAI Realtime over WebSocket (RFC 6455 on a libcurl connection).
///
/// One instance is one connection. It opens with `session.update` and waits for
/// `session.updated` before any audio leaves. Audio streams while the user speaks (`append`
/// per chunk); at the end of speech it sends `commit` + `response.create`. For warm runs keep
/// the instance across turns; for cold runs make one per turn.
public final class WebSocketVoiceTransport: VoiceTransport {
    public let kind = TransportKind.websocket
    public var endpoint: Endpoint { client.configuration.endpoint }
    public let events: TransportEventStream
    public let options: RealtimeOptions
    public let turnIsRequest = false

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

    public init(configuration: WebSocketClientConfiguration, options: RealtimeOptions = RealtimeOptions()) {
        let (stream, continuation) = AsyncStream.makeStream(of: TimedEvent.self, bufferingPolicy: .unbounded)
        let state = LockedBox(State())
        let dialect = RealtimeDialect(options: options)
        var configuration = configuration
        configuration.setupMessages = [dialect.sessionUpdate()]
        configuration.isSetupAcknowledgement = RealtimeDialect.isSessionAcknowledgement
        self.continuation = continuation
        self.state = state
        self.options = options
        self.events = TransportEventStream(base: stream, interpreter: dialect)
        self.client = WebSocketClient(
            configuration: configuration,
            emit: { event in
                continuation.yield(event)
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
        client.send(text: RealtimeDialect.append(pcm: chunk.pcm), due: chunk.due, tag: .audio(index: chunk.index), turn: chunk.turn)
    }

    /// Manual turns: commit and `response.create` at `due`. With server turn detection the
    /// server ends the turn by itself; `due` only marks the end of speech.
    public func endSpeech(turn: Int, at due: Int64, deadline: Int64) {
        let messages = options.turnDetection == nil ? [RealtimeDialect.commit, RealtimeDialect.responseCreate(turn: turn)] : []
        client.endSpeech(messages: messages, turn: turn, due: due)
    }

    public func sendControl(_ messages: [String]) {
        let now = MonotonicClock.now()
        for message in messages { client.send(text: message, due: now, tag: .other, turn: nil) }
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
