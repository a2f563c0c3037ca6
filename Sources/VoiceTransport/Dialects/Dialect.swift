@_exported import DialectSpec

/// One message a client sends on a WebSocket.
package enum OutgoingMessage: Sendable, Equatable {
    case text(String)
    case binary([UInt8])
}

/// What a WebSocket dialect says on the wire — session set-up, each chunk of audio, the end of
/// speech — and how it reads the answer (`makeInterpreter`). The built-in OpenAI Realtime
/// dialect and every WebSocket dialect file are this one protocol, so the transport is the
/// same code for both.
package protocol WebSocketDialect: Sendable {
    /// The name stored with a run ("openai-realtime", a dialect file's `name`).
    var name: String { get }
    /// The audio format the endpoint takes; the recording is converted to it before the replay.
    var inputFormat: AudioFormat { get }
    /// Sent right after the upgrade, before any audio.
    func setupMessages() -> [OutgoingMessage]
    /// Whether a received text message acknowledges the set-up (audio waits for it); nil:
    /// audio may follow the set-up at once.
    var setupAcknowledgement: (@Sendable (String) -> Bool)? { get }
    /// One chunk of audio, already in `inputFormat`.
    func audioMessage(_ audio: [UInt8], turn: Int) -> OutgoingMessage
    /// Sent at the end of speech of `turn` (empty when the server finds the end itself).
    func endOfSpeechMessages(turn: Int) -> [OutgoingMessage]
    /// A fresh reader of the server's messages.
    func makeInterpreter() -> any EventInterpreter
}

/// An HTTP request a dialect builds from a turn's recording.
package struct DialectRequest: Sendable, Equatable {
    /// "POST", "PUT" …
    package var method: String
    /// Header lines besides those of the command line (`Content-Type`, the dialect's own).
    package var headers: [String]
    package var body: [UInt8]

    package init(method: String = "POST", headers: [String], body: [UInt8]) {
        self.method = method
        self.headers = headers
        self.body = body
    }
}

/// How an SSE dialect's request carries the recording.
package enum SSEUpload: Sendable, Equatable {
    /// The whole recording, in a body built once the user has stopped.
    case whole
    /// The audio itself as a chunked body that streams while the user speaks, ended at the end
    /// of speech.
    case streamed
}

/// What an SSE dialect sends — one request per turn — and how it reads the event stream
/// (`makeInterpreter`). The built-in Chat Completions dialects and every SSE dialect file are
/// this one protocol, and one request driver serves them all.
package protocol SSEDialect: Sendable {
    var name: String { get }
    /// The audio format the endpoint takes; the recording is converted to it before the replay.
    var inputFormat: AudioFormat { get }
    /// Whole (the default) or streamed.
    var upload: SSEUpload { get }
    /// The request for `turn`'s recording (`audio`, in `inputFormat`). `.whole`: runs on the
    /// I/O thread at the end of speech, so its cost is the client's encoding time. `.streamed`:
    /// called with no audio when the first chunk is due; its method and headers start the
    /// request, and the audio follows as the body.
    func request(audio: [UInt8], turn: Int) -> DialectRequest
    /// A fresh reader of the event stream.
    func makeInterpreter() -> any EventInterpreter
}

extension SSEDialect {
    package var upload: SSEUpload { .whole }
}
