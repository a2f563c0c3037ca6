import Synchronization

/// The same SSE answer as `SSEVoiceTransport`, but the recording streams up while the user
/// speaks: a POST with a chunked body of raw PCM16 24 kHz mono that starts with the first chunk
/// and ends at the end of speech. It tells whether the gap between the transports is HTTP
/// itself or uploading the recording only at the end.
///
/// One instance serves many turns, one request each. Warm: the kept-alive connection is reused
/// (opened with an `OPTIONS` request by `open()`); cold: every request connects.
public final class SSEStreamVoiceTransport: VoiceTransport {
    public let kind = TransportKind.sseStream
    public var endpoint: Endpoint { client.configuration.endpoint }
    public let events: TransportEventStream
    public let turnIsRequest = true
    public let inputFormat = AudioFormat.pcm16At24k

    private let client: SSEStreamClient
    private let state: LockedBox<State>

    private struct State: Sendable {
        var closed = false
        var finished = false
        var finishWaiters: [CheckedContinuation<Void, Never>] = []
    }

    public init(configuration: SSEClientConfiguration, options: ChatCompletionsOptions = ChatCompletionsOptions()) {
        let (stream, continuation) = AsyncStream.makeStream(of: TimedEvent.self, bufferingPolicy: .unbounded)
        let batcher = EventBatcher { continuation.yield($0) }
        let state = LockedBox(State())
        self.state = state
        self.events = TransportEventStream(base: stream, interpreter: ChatCompletionsDialect(options: options))
        self.client = SSEStreamClient(
            configuration: configuration,
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

    public func open() async throws(TransportError) {
        client.start()
        guard !client.configuration.freshConnectionPerRequest else { return }
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            client.prime { done.resume() }
        }
    }

    public func sendAudio(_ chunk: AudioChunk) {
        client.start()  // idempotent: a transport used without open() still runs
        client.send(pcm: chunk.pcm, index: chunk.index, turn: chunk.turn, due: chunk.due)
    }

    public func endSpeech(turn: Int, at due: Int64, deadline: Int64) {
        client.end(turn: turn, due: due)
    }

    public func sendControl(_ messages: [String]) {}

    public func finishTurn(_ turn: Int) {
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
        client.start()
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
