import Synchronization

/// A voice dialect over HTTP POST + Server-Sent Events — by default OpenAI Chat Completions
/// audio, as an edge function proxies it: the recording is captured on the replay schedule,
/// then — once the user stops — encoded by the dialect (WAV + base64 + JSON) and POSTed whole;
/// audio streams back as SSE.
///
/// One instance serves many turns; each turn is one request, and every event of a request
/// carries its turn. Warm: the kept-alive connection of the previous request is reused. Cold
/// (`freshConnectionPerRequest`): every request opens and closes its own.
public final class SSEVoiceTransport: VoiceTransport {
    public let kind = TransportKind.sse
    public var endpoint: Endpoint { client.configuration.endpoint }
    public let events: TransportEventStream
    public let dialect: any SSEDialect
    public let turnIsRequest = true
    public var inputFormat: AudioFormat { dialect.inputFormat }

    private let client: SSEClient
    private let state: LockedBox<State>

    private struct State: Sendable {
        /// PCM captured per turn, until its end of speech.
        var captured: [Int: [UInt8]] = [:]
        var closed = false
        var finished = false
        var finishWaiters: [CheckedContinuation<Void, Never>] = []
    }

    public convenience init(configuration: SSEClientConfiguration, options: ChatCompletionsOptions = ChatCompletionsOptions()) {
        self.init(configuration: configuration, dialect: ChatCompletionsDialect(options: options))
    }

    public init(configuration: SSEClientConfiguration, dialect: any SSEDialect) {
        let (stream, continuation) = AsyncStream.makeStream(of: TimedEvent.self, bufferingPolicy: .unbounded)
        let batcher = EventBatcher { continuation.yield($0) }
        let state = LockedBox(State())
        self.state = state
        self.dialect = dialect
        self.events = TransportEventStream(base: stream, interpreter: dialect.makeInterpreter())
        self.client = SSEClient(
            configuration: configuration,
            makeRequest: { audio, turn in dialect.request(audio: audio, turn: turn) },
            emit: { batcher.emit($0) },
            onFinish: {
                batcher.flush()
                continuation.finish()
                let waiters = state.withLock { s in
                    s.finished = true
                    defer { s.finishWaiters = [] }
                    return s.finishWaiters
                }
                for waiter in waiters { waiter.resume() }
            }
        )
    }

    public var isOpen: Bool { state.withLock { !$0.closed } && !client.connectionLost }

    /// Starts the worker thread. Warm: also opens the kept-alive connection now (an `OPTIONS`
    /// request), as a WebSocket is opened before the user speaks. Cold: every POST connects.
    public func open() async throws(TransportError) {
        client.start()
        guard !client.configuration.freshConnectionPerRequest else { return }
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            client.prime { done.resume() }
        }
    }

    public func sendAudio(_ chunk: AudioChunk) {
        client.start()  // idempotent: a transport used without open() still runs
        state.withLock { $0.captured[chunk.turn, default: []].append(contentsOf: chunk.pcm) }
        client.capture(index: chunk.index, turn: chunk.turn, due: chunk.due)
    }

    /// POSTs the turn's recording at `due`; the body is built then, on the I/O thread.
    public func endSpeech(turn: Int, at due: Int64, deadline: Int64) {
        let pcm = state.withLock { $0.captured.removeValue(forKey: turn) ?? [] }
        client.post(pcm: pcm, turn: turn, due: due, deadline: deadline)
    }

    /// Chat Completions keeps no conversation between requests: nothing to send.
    public func sendControl(_ messages: [String]) {}

    /// The request is over by the time a turn is; captures still queued are dropped.
    public func finishTurn(_ turn: Int) {
        state.withLock { _ = $0.captured.removeValue(forKey: turn) }
        client.discard(turn: turn)
    }

    public func abort(_ error: TransportError, turn: Int?) {
        client.abort(error, turn: turn)
    }

    public func close() async {
        let started = state.withLock { s -> Bool in
            defer { s.closed = true }
            return !s.closed
        }
        guard started else { return }
        client.shutdown()
        client.start()  // a never-started worker starts, sees the shutdown and finishes
        await withCheckedContinuation { (waiter: CheckedContinuation<Void, Never>) in
            let done = state.withLock { s -> Bool in
                if s.finished { return true }
                s.finishWaiters.append(waiter)
                return false
            }
            if done { waiter.resume() }
        }
    }
}
