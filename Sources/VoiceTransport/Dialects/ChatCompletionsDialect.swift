import DialectSpec
import Foundation

/// Options for the Chat Completions audio dialect.
package struct ChatCompletionsOptions: Sendable, Equatable {
    package var model: String
    package var voice: String
    /// Ask for the usage chunk (`stream_options.include_usage`).
    package var includeUsage: Bool
    /// System prompt, if any.
    package var instructions: String?

    package init(
        model: String = "gpt-audio", voice: String = "alloy", includeUsage: Bool = true, instructions: String? = nil
    ) {
        self.model = model
        self.voice = voice
        self.includeUsage = includeUsage
        self.instructions = instructions
    }
}

/// OpenAI Chat Completions with audio, streamed over SSE (what an edge function proxies).
///
/// Request: the whole recording as a base64 WAV `input_audio` part, `modalities
/// ["text","audio"]`, `audio {voice, format: "pcm16"}`, `stream: true`.
/// First audio: the first chunk whose `choices[0].delta.audio.data` is non-empty
/// (transcript-only chunks come first and do not count). End of turn: `data: [DONE]`.
/// Each turn is its own HTTP request, so attribution is by request (events of other requests
/// never reach the dialect); the stream's chunk `id` names the answer.
package struct ChatCompletionsDialect: EventInterpreter, SSEDialect {
    package let options: ChatCompletionsOptions

    /// The request body around the audio, serialized once.
    private let envelope: (prefix: [UInt8], suffix: [UInt8])
    private var turnActive = false
    private var responseID: String?

    package init(options: ChatCompletionsOptions = ChatCompletionsOptions()) {
        self.options = options
        self.envelope = Self.envelope(options)
    }

    package var name: String { "openai-chat-completions" }
    package var inputFormat: AudioFormat { .pcm16At24k }

    package func request(audio: [UInt8], turn: Int) -> DialectRequest {
        DialectRequest(headers: ["Content-Type: application/json"], body: requestBody(pcm: audio))
    }

    package func makeInterpreter() -> any EventInterpreter { ChatCompletionsDialect(options: options) }

    /// The JSON request body for a recording, built the way a client must build it once the
    /// user stops speaking: PCM → WAV → base64 → JSON. The base64 text is spliced into a
    /// prepared envelope instead of going through a JSON serializer (it needs no escaping),
    /// so the cost is that of the encoding a client cannot avoid.
    package func requestBody(pcm: [UInt8]) -> [UInt8] {
        let audio = Data(WAVFile.encode(pcm: pcm)).base64EncodedData()
        var body = envelope.prefix
        body.reserveCapacity(envelope.prefix.count + audio.count + envelope.suffix.count)
        body.append(contentsOf: audio)
        body.append(contentsOf: envelope.suffix)
        return body
    }

    /// The request body around the audio (sorted keys), split where the audio goes.
    private static func envelope(_ options: ChatCompletionsOptions) -> (prefix: [UInt8], suffix: [UInt8]) {
        let marker = "@@TTFA_AUDIO@@"
        var messages: [[String: Any]] = []
        if let instructions = options.instructions {
            messages.append(["role": "system", "content": instructions])
        }
        messages.append([
            "role": "user",
            "content": [["type": "input_audio", "input_audio": ["data": marker, "format": "wav"]]],
        ])
        var object: [String: Any] = [
            "model": options.model,
            "modalities": ["text", "audio"],
            "audio": ["voice": options.voice, "format": "pcm16"],
            "stream": true,
            "messages": messages,
        ]
        if options.includeUsage { object["stream_options"] = ["include_usage": true] }
        // Cannot fail: the body holds only strings, booleans, arrays and dictionaries.
        let text = String(
            decoding: try! JSONSerialization.data(
                withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]), as: UTF8.self)
        let parts = text.components(separatedBy: marker)
        return (Array(parts[0].utf8), Array(parts[1].utf8))
    }

    package mutating func beginTurn(_ turn: Int) {
        turnActive = false
        responseID = nil
    }

    package mutating func interpret(_ event: TransportEvent) -> [TransportEvent] {
        switch event {
        case .speechEnd:
            turnActive = true
            return []
        case .sse(let sse):
            guard turnActive, sse.type == "message" else { return [] }
            return interpretData(sse.data)
        case .transferEnd(_, nil):
            guard turnActive else { return [] }
            turnActive = false
            return [.failure(TransportError(.closed, "the SSE stream ended without \"data: [DONE]\""))]
        case .failure, .transferEnd:
            turnActive = false
            return []
        default:
            return []
        }
    }

    /// The paths `interpretData` reads from a chunk.
    private static let chunkPaths: [[JSONSkim.Step]] = [
        [.key("error")], [.key("choices")], [.key("id")],
        [.key("choices"), .index(0), .key("delta"), .key("audio"), .key("transcript")],
        [.key("choices"), .index(0), .key("delta"), .key("audio"), .key("data")],
    ]

    private static func absentOrString(_ found: JSONSkim.Found?) -> Bool {
        guard let found else { return true }
        if case .string = found { return true }
        return false
    }

    /// An ordinary `chat.completion.chunk` read without building a dictionary (its audio is
    /// most of the stream): the same events as the full parse, or nil to take the full parse
    /// (not JSON, an error, no `choices`, a value that needs decoding).
    private mutating func interpretChunkFast(_ data: String) -> [TransportEvent]? {
        guard let found = JSONSkim.values(data, paths: Self.chunkPaths),
            found[0] == nil, found[1] == .array,
            [2, 3, 4].allSatisfy({ Self.absentOrString(found[$0]) })
        else { return nil }
        var events: [TransportEvent] = []
        if responseID == nil, case .string(let id) = found[2] {
            responseID = id
            events.append(.responseStarted(id: id))
        }
        if case .string(let transcript) = found[3], !transcript.isEmpty {
            events.append(.transcript(transcript))
        }
        if case .string(let payload) = found[4], !payload.isEmpty {
            guard let count = decodedBase64Count(payload) else {
                turnActive = false
                return [.failure(TransportError(.protocol, "delta.audio.data is not base64"))]
            }
            if count > 0 { events.append(.audio(bytes: count, response: responseID)) }
        }
        return events
    }

    private mutating func interpretData(_ data: String) -> [TransportEvent] {
        if data == "[DONE]" {
            turnActive = false
            return [.turnEnd]
        }
        if let fast = interpretChunkFast(data) { return fast }
        guard let object = jsonObject(data) else {
            turnActive = false
            return [.failure(TransportError(.protocol, "an SSE event's data is not JSON: \"\(excerpt(data))\""))]
        }
        if let error = object["error"] as? [String: Any] {
            turnActive = false
            let message = error["message"] as? String ?? excerpt(data)
            let code = error["code"] as? String ?? error["type"] as? String
            return [
                .serverError(message: message, code: code),
                .failure(TransportError(.serverError, "the stream reported an error: \(message)")),
            ]
        }
        guard let choices = object["choices"] as? [Any] else {
            turnActive = false
            return [
                .failure(
                    TransportError(
                        .protocol, "an SSE event is not a chat.completion.chunk (no \"choices\"): \"\(excerpt(data))\"")
                )
            ]
        }
        var events: [TransportEvent] = []
        if responseID == nil, let id = object["id"] as? String {
            responseID = id
            events.append(.responseStarted(id: id))
        }
        guard let choice = choices.first as? [String: Any],
            let delta = choice["delta"] as? [String: Any],
            let audio = delta["audio"] as? [String: Any]
        else { return events }
        if let transcript = audio["transcript"] as? String, !transcript.isEmpty {
            events.append(.transcript(transcript))
        }
        if let payload = audio["data"] as? String, !payload.isEmpty {
            guard let count = decodedBase64Count(payload) else {
                turnActive = false
                return [.failure(TransportError(.protocol, "delta.audio.data is not base64"))]
            }
            if count > 0 { events.append(.audio(bytes: count, response: responseID)) }
        }
        return events
    }
}
