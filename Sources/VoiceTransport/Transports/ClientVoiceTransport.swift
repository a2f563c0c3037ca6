import Synchronization

/// A transport's I/O client — the code that talks on the wire from an `IOLoop` — as
/// `ClientVoiceTransport` drives it. Every method may be called from any thread; the client
/// reports timestamped events and, once, that it is done, through the closures it was made with.
protocol TransportClient: AnyObject, Sendable {
    var endpoint: Endpoint { get }
    /// True once a connection it keeps between turns is gone (a failed transfer took a
    /// kept-alive HTTP connection with it).
    var connectionLost: Bool { get }
    /// Connects where the transport keeps a connection (WebSocket: until the session is ready;
    /// SSE, warm: the kept-alive connection) and calls `ready` once: nil when ready, or why not.
    func open(ready: @escaping @Sendable (TransportError?) -> Void)
    /// Schedules a chunk of speech at `chunk.due`.
    func send(_ chunk: AudioChunk)
    /// Schedules the end of speech of `turn` at `due`; the answer must be complete by `deadline`.
    func endSpeech(turn: Int, at due: Int64, deadline: Int64)
    /// Protocol messages to send now, outside any turn.
    func sendControl(_ messages: [String])
    /// Drops what `turn` still has queued.
    func discard(turn: Int)
    /// Fails `turn` (nil: whatever is in flight) now.
    func abort(_ error: TransportError, turn: Int?)
    /// Ends gracefully; the client then reports that it is done (at once if it never started).
    func shutdown()
}

/// The one `VoiceTransport` of every built-in transport: a `TransportClient` for the wire, its
/// events batched into one stream and read through the dialect's interpreter, and the waits of
/// `open()` and `close()`. What differs between transports is their client and their dialect.
final class ClientVoiceTransport: VoiceTransport {
    let kind: TransportKind
    let events: TransportEventStream
    let turnIsRequest: Bool
    let inputFormat: AudioFormat
    private let client: any TransportClient
    private let state: LockedBox<State>

    private struct State: Sendable {
        var opened = false
        var closed = false
        var finished = false
        var finishWaiters: [CheckedContinuation<Void, Never>] = []
    }

    /// - Parameters:
    ///   - turnIsRequest: every turn is one request that ends with `.transferEnd`.
    ///   - makeClient: the client, given where to report its events and that it is done.
    init(
        kind: TransportKind, inputFormat: AudioFormat, turnIsRequest: Bool, interpreter: any EventInterpreter,
        makeClient: (_ emit: @escaping @Sendable (TimedEvent) -> Void, _ onFinish: @escaping @Sendable () -> Void) ->
            any TransportClient
    ) {
        let (stream, continuation) = AsyncStream.makeStream(of: TimedEvent.self, bufferingPolicy: .unbounded)
        let batcher = EventBatcher { continuation.yield($0) }
        let state = LockedBox(State())
        self.kind = kind
        self.inputFormat = inputFormat
        self.turnIsRequest = turnIsRequest
        self.state = state
        self.events = TransportEventStream(base: stream, interpreter: interpreter)
        self.client = makeClient(
            { batcher.emit($0) },
            {
                batcher.flush()
                continuation.finish()
                let waiters = state.withLock { s in
                    s.finished = true
                    defer { s.finishWaiters = [] }
                    return s.finishWaiters
                }
                for waiter in waiters { waiter.resume() }
            })
    }

    var endpoint: Endpoint { client.endpoint }

    var isOpen: Bool { state.withLock { !$0.closed && !$0.finished } && !client.connectionLost }

    func open() async throws(TransportError) {
        let first = state.withLock { s in
            defer { s.opened = true }
            return !s.opened
        }
        guard first else { throw TransportError(.internal, "open() called twice on one \(kind) transport") }
        let failure = await withCheckedContinuation { (ready: CheckedContinuation<TransportError?, Never>) in
            client.open { ready.resume(returning: $0) }
        }
        if let failure { throw failure }
    }

    func sendAudio(_ chunk: AudioChunk) { client.send(chunk) }

    func endSpeech(turn: Int, at due: Int64, deadline: Int64) {
        client.endSpeech(turn: turn, at: due, deadline: deadline)
    }

    func sendControl(_ messages: [String]) { client.sendControl(messages) }

    func finishTurn(_ turn: Int) { client.discard(turn: turn) }

    func abort(_ error: TransportError, turn: Int?) { client.abort(error, turn: turn) }

    func close() async {
        let first = state.withLock { s in
            defer { s.closed = true }
            return !s.closed
        }
        guard first else { return }
        client.shutdown()
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
