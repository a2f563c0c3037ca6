import Foundation

/// Options for the Chat Completions audio dialect.
public struct ChatCompletionsOptions: Sendable, Equatable {
    public var model: String
    public var voice: String
    /// Ask for the usage chunk (`stream_options.include_usage`).
    public var includeUsage: Bool
    /// System prompt, if any.
    public var instructions: String?

    public init(model: String = "gpt-audio", voice: String = "alloy", includeUsage: Bool = true, instructions: String? = nil) {
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
public struct ChatCompletionsDialect: EventInterpreter {
    public let options: ChatCompletionsOptions

    private var turnActive = false

    public init(options: ChatCompletionsOptions = ChatCompletionsOptions()) {
        self.options = options
    }

    /// The JSON request body for a recording.
    public func requestBody(pcm: [UInt8]) -> [UInt8] {
        var messages: [[String: Any]] = []
        if let instructions = options.instructions {
            messages.append(["role": "system", "content": instructions])
        }
        messages.append([
            "role": "user",
            "content": [["type": "input_audio", "input_audio": ["data": Data(WAVFile.encode(pcm: pcm)).base64EncodedString(), "format": "wav"]]],
        ])
        var body: [String: Any] = [
            "model": options.model,
            "modalities": ["text", "audio"],
            "audio": ["voice": options.voice, "format": "pcm16"],
            "stream": true,
            "messages": messages,
        ]
        if options.includeUsage { body["stream_options"] = ["include_usage": true] }
        // Cannot fail: the body holds only strings, booleans, arrays and dictionaries.
        return Array(try! JSONSerialization.data(withJSONObject: body, options: [.sortedKeys, .withoutEscapingSlashes]))
    }

    public mutating func interpret(_ event: TransportEvent) -> [TransportEvent] {
        switch event {
        case .speechEnd:
            turnActive = true
            return []
        case .sse(let sse):
            guard turnActive, sse.type == "message" else { return [] }
            return interpretData(sse.data)
        case .streamEnd:
            guard turnActive else { return [] }
            turnActive = false
            return [.failure(TransportError(.closed, "the SSE stream ended without \"data: [DONE]\""))]
        case .failure:
            turnActive = false
            return []
        default:
            return []
        }
    }

    private mutating func interpretData(_ data: String) -> [TransportEvent] {
        if data == "[DONE]" {
            turnActive = false
            return [.turnEnd]
        }
        guard let object = jsonObject(data) else {
            turnActive = false
            return [.failure(TransportError(.protocol, "an SSE event's data is not JSON: \"\(excerpt(data))\""))]
        }
        if let error = object["error"] as? [String: Any] {
            turnActive = false
            let message = error["message"] as? String ?? excerpt(data)
            let code = error["code"] as? String ?? error["type"] as? String
            return [.serverError(message: message, code: code),
                    .failure(TransportError(.serverError, "the stream reported an error: \(message)"))]
        }
        guard let choices = object["choices"] as? [Any] else {
            turnActive = false
            return [.failure(TransportError(.protocol, "an SSE event is not a chat.completion.chunk (no \"choices\"): \"\(excerpt(data))\""))]
        }
        guard let choice = choices.first as? [String: Any],
              let delta = choice["delta"] as? [String: Any],
              let audio = delta["audio"] as? [String: Any]
        else { return [] }
        var events: [TransportEvent] = []
        if let transcript = audio["transcript"] as? String, !transcript.isEmpty {
            events.append(.transcript(transcript))
        }
        if let payload = audio["data"] as? String, !payload.isEmpty {
            guard let count = decodedBase64Count(payload) else {
                turnActive = false
                return [.failure(TransportError(.protocol, "delta.audio.data is not base64"))]
            }
            if count > 0 { events.append(.audio(bytes: count)) }
        }
        return events
    }
}
