/// One chunk of microphone audio and the instant it is due to leave.
package struct AudioChunk: Sendable {
    /// The turn (utterance) it belongs to.
    package var turn: Int
    /// Position in the utterance (0-based).
    package var index: Int
    /// The audio in the transport's `inputFormat` (PCM16 little-endian 24 kHz mono for
    /// OpenAI's dialects).
    package var pcm: [UInt8]
    /// Scheduled time (monotonic ns). A microphone hands over chunk k — the audio from
    /// k × chunk_ms to (k+1) × chunk_ms — only once it has been recorded, at start +
    /// (k+1) × chunk_ms; the last, shorter chunk at the end of the recording.
    package var due: Int64

    package init(turn: Int, index: Int, pcm: [UInt8], due: Int64) {
        self.turn = turn
        self.index = index
        self.pcm = pcm
        self.due = due
    }
}

/// A way to send speech to a voice assistant and hear its answer: the one interface the
/// benchmark drives, whichever protocol is underneath.
///
/// Lifecycle: `open()` (connect where the transport keeps a connection), then per turn — each
/// with its own number — `sendAudio` for each chunk and `endSpeech`, while a single consumer
/// iterates `events` (calling `beginTurn` on its iterator first) until the answer ends or
/// fails; finally `close()`. Sends are *scheduled*: each carries a due time and the
/// transport's I/O thread sends it then, recording the lag — the replay clock runs at the I/O
/// boundary, not in the caller's task.
///
/// All methods are thread-safe. `events` must be iterated by one consumer only.
///
/// ```swift
/// let transport = WebSocketVoiceTransport(configuration: .init(endpoint: try Endpoint(url, for: .websocket)))
/// var events = transport.events.makeAsyncIterator()
/// try await transport.open()
/// events.beginTurn(1)
/// let start = MonotonicClock.now() + .milliseconds(20)
/// for (k, pcm) in recording.chunks(chunkMs: 100).enumerated() {
///     transport.sendAudio(AudioChunk(turn: 1, index: k, pcm: pcm, due: start + Int64(k + 1) * .milliseconds(100)))
/// }
/// transport.endSpeech(turn: 1, at: start + recording.durationNs, deadline: start + recording.durationNs + .seconds(30))
/// while let event = await events.next() { … }
/// ```
package protocol VoiceTransport: AnyObject, Sendable {
    var kind: TransportKind { get }
    var endpoint: Endpoint { get }
    /// Timestamped wire, replay and dialect events in arrival order. Ends after the transport
    /// is closed or its connection is gone.
    var events: TransportEventStream { get }
    /// False once the connection is gone (a WebSocket closed; a kept-alive HTTP connection
    /// broken by a failed transfer) or the transport is closed; open a new one then.
    var isOpen: Bool { get }
    /// True when every turn is one request whose last event is `.transferEnd` (SSE).
    var turnIsRequest: Bool { get }
    /// The audio format `sendAudio` takes (the dialect's input; PCM16 24 kHz for OpenAI's).
    var inputFormat: AudioFormat { get }
    /// Connects (WebSocket: TCP/TLS, upgrade, `session.update`, `session.updated`). Returns
    /// when ready to send.
    func open() async throws(TransportError)
    /// Schedules a chunk of speech to leave at `chunk.due`.
    func sendAudio(_ chunk: AudioChunk)
    /// Schedules the end of speech of `turn` at `due`; the answer must be complete by
    /// `deadline`. The client's work for it (request body; commit) starts at `due`.
    func endSpeech(turn: Int, at due: Int64, deadline: Int64)
    /// Sends protocol messages now, outside any turn (conversation clean-up). No-op where the
    /// protocol has no such messages.
    func sendControl(_ messages: [String])
    /// The turn is over: what it still had queued (microphone audio after the end of speech)
    /// is dropped, so nothing of it reaches the next turn.
    func finishTurn(_ turn: Int)
    /// Fails `turn` (nil: whatever is in flight) now with `error`: timeouts, interrupts. An
    /// abort for a turn that is over is ignored.
    func abort(_ error: TransportError, turn: Int?)
    /// Closes gracefully and waits until the I/O thread is done.
    func close() async
}

/// A transport's events with the dialect's interpretation interleaved: each wire event is
/// followed by the dialect events it implies (`audio`, `turnEnd`, …), all with the wire
/// event's timestamp and turn.
package struct TransportEventStream: AsyncSequence, Sendable {
    package typealias Element = TimedEvent

    let base: AsyncStream<TimedEvent>
    let interpreter: any EventInterpreter

    /// The stream of a transport: its events as they arrive, read through its dialect's interpreter.
    package init(base: AsyncStream<TimedEvent>, interpreter: any EventInterpreter) {
        self.base = base
        self.interpreter = interpreter
    }

    package struct AsyncIterator: AsyncIteratorProtocol {
        var base: AsyncStream<TimedEvent>.AsyncIterator
        var interpreter: any EventInterpreter
        var pending: [TimedEvent] = []
        var pendingIndex = 0
        var turn: Int?

        /// Starts consuming `turn`: the dialect forgets the previous turn, and events that
        /// belong to another turn's request arrive wrapped in `.stale`, uninterpreted.
        package mutating func beginTurn(_ turn: Int) {
            self.turn = turn
            interpreter.beginTurn(turn)
        }

        /// Whether dialect events derived from the last wire event are still to come.
        package var hasPending: Bool { pendingIndex < pending.count }

        /// Messages that remove what the last turn added to the conversation (empty when the
        /// protocol keeps no conversation). The dialect then reports `.contextCleared`.
        package mutating func cleanupMessages() -> [String] {
            interpreter.cleanupMessages()
        }

        package mutating func next() async -> TimedEvent? {
            if pendingIndex < pending.count {
                defer { pendingIndex += 1 }
                return pending[pendingIndex]
            }
            guard let event = await base.next() else { return nil }
            if let owner = event.turn, let turn, owner != turn {
                return TimedEvent(t: event.t, .stale(turn: owner, event: event.event), turn: owner)
            }
            pending = interpreter.interpretTimed(event)
            pendingIndex = 0
            return event
        }
    }

    package func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(base: base.makeAsyncIterator(), interpreter: interpreter)
    }
}
