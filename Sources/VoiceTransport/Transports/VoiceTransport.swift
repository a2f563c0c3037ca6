/// One chunk of microphone audio and the instant it is due to leave.
public struct AudioChunk: Sendable {
    /// Position in the utterance (0-based).
    public var index: Int
    /// PCM16 little-endian, 24 kHz mono.
    public var pcm: [UInt8]
    /// Scheduled time (monotonic ns): chunk k of `chunk_ms` is due at start + k × chunk_ms.
    public var due: Int64

    public init(index: Int, pcm: [UInt8], due: Int64) {
        self.index = index
        self.pcm = pcm
        self.due = due
    }
}

/// A way to send speech to a voice assistant and hear its answer: the one interface the
/// benchmark drives, whichever protocol is underneath.
///
/// Lifecycle: `open()` (connect where the transport keeps a connection), then per turn
/// `sendAudio` for each chunk and `endSpeech`, while a single consumer iterates `events` until
/// `.turnEnd` or `.failure`; finally `close()`. Sends are *scheduled*: each carries a due time
/// and the transport's I/O thread sends it then, recording the lag — the replay clock runs at
/// the I/O boundary, not in the caller's task.
///
/// All methods are thread-safe. `events` must be iterated by one consumer only.
///
/// ```swift
/// let transport = WebSocketVoiceTransport(configuration: .init(endpoint: try Endpoint(url, for: .websocket)))
/// var events = transport.events.makeAsyncIterator()
/// try await transport.open()
/// let start = MonotonicClock.now() + .milliseconds(20)
/// for (k, pcm) in recording.chunks(chunkMs: 100).enumerated() {
///     transport.sendAudio(AudioChunk(index: k, pcm: pcm, due: start + Int64(k) * .milliseconds(100)))
/// }
/// transport.endSpeech(at: start + recording.durationNs, deadline: start + recording.durationNs + .seconds(30))
/// while let event = await events.next() { … }
/// ```
public protocol VoiceTransport: AnyObject, Sendable {
    var kind: TransportKind { get }
    var endpoint: Endpoint { get }
    /// Timestamped wire, replay and dialect events in arrival order. Ends after the transport
    /// is closed or its connection is gone.
    var events: TransportEventStream { get }
    /// False once the connection (WebSocket) or the transport is gone; open a new one then.
    var isOpen: Bool { get }
    /// Connects (WebSocket: TCP/TLS, upgrade, `session.update`). Returns when ready to send.
    func open() async throws(TransportError)
    /// Schedules a chunk of speech to leave at `chunk.due`.
    func sendAudio(_ chunk: AudioChunk)
    /// Schedules the end of speech at `due`; the answer must be complete by `deadline`.
    func endSpeech(at due: Int64, deadline: Int64)
    /// Fails the current turn now with `error` (emitted as `.failure`): timeouts, interrupts.
    func abort(_ error: TransportError)
    /// Closes gracefully and waits until the I/O thread is done.
    func close() async
}

/// A transport's events with the dialect's interpretation interleaved: each wire event is
/// followed by the dialect events it implies (`audio`, `turnEnd`, …), all with the wire
/// event's timestamp.
public struct TransportEventStream: AsyncSequence, Sendable {
    public typealias Element = TimedEvent

    let base: AsyncStream<TimedEvent>
    let interpreter: any EventInterpreter

    public struct AsyncIterator: AsyncIteratorProtocol {
        var base: AsyncStream<TimedEvent>.AsyncIterator
        var interpreter: any EventInterpreter
        var pending: [TimedEvent] = []
        var pendingIndex = 0

        public mutating func next() async -> TimedEvent? {
            if pendingIndex < pending.count {
                defer { pendingIndex += 1 }
                return pending[pendingIndex]
            }
            guard let event = await base.next() else { return nil }
            pending = interpreter.interpret(event.event).map { TimedEvent(t: event.t, $0) }
            pendingIndex = 0
            return event
        }
    }

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(base: base.makeAsyncIterator(), interpreter: interpreter)
    }
}
