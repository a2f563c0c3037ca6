import Synchronization

/// OpenAI Chat Completions audio over HTTP POST + Server-Sent Events, as an edge function
/// proxies it: the recording is captured on the replay schedule, then POSTed whole at speech
/// end as base64 WAV; audio streams back as SSE.
///
/// One instance serves many turns. Warm: the kept-alive connection of the previous request is
/// reused. Cold (`freshConnectionPerRequest`): every request opens and closes its own.
public final class SSEVoiceTransport: VoiceTransport {
    public let kind = TransportKind.sse
    public var endpoint: Endpoint { client.configuration.endpoint }
    public let events: TransportEventStream
    public let options: ChatCompletionsOptions

    private let client: SSEClient
    private let continuation: AsyncStream<TimedEvent>.Continuation
    private let dialect: ChatCompletionsDialect
    private let state: LockedBox<State>

    private struct State: Sendable {
        var captured: [UInt8] = []
        var closed = false
        var finished = false
        var finishWaiters: [CheckedContinuation<Void, Never>] = []
    }

    public init(configuration: SSEClientConfiguration, options: ChatCompletionsOptions = ChatCompletionsOptions()) {
        let (stream, continuation) = AsyncStream.makeStream(of: TimedEvent.self, bufferingPolicy: .unbounded)
        let state = LockedBox(State())
        self.continuation = continuation
        self.state = state
        self.options = options
        self.dialect = ChatCompletionsDialect(options: options)
        self.events = TransportEventStream(base: stream, interpreter: ChatCompletionsDialect(options: options))
        self.client = SSEClient(
            configuration: configuration,
            emit: { continuation.yield($0) },
            onFinish: {
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

    public var isOpen: Bool { state.withLock { !$0.closed } }

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
        state.withLock { $0.captured.append(contentsOf: chunk.pcm) }
        client.capture(index: chunk.index, due: chunk.due)
    }

    /// Builds the request body now (before it is due, so the harness adds no encoding time
    /// after speech end) and POSTs it at `due`.
    public func endSpeech(at due: Int64, deadline: Int64) {
        let pcm = state.withLock { s in
            defer { s.captured = [] }
            return s.captured
        }
        client.post(body: dialect.requestBody(pcm: pcm), due: due, deadline: deadline)
    }

    public func abort(_ error: TransportError) {
        client.abort(error)
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
