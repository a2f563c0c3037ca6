import Foundation

/// Options for the OpenAI Realtime (GA) dialect.
public struct RealtimeOptions: Sendable, Equatable {
    /// Output voice.
    public var voice: String
    /// System instructions, if any.
    public var instructions: String?

    public init(voice: String = "marin", instructions: String? = nil) {
        self.voice = voice
        self.instructions = instructions
    }
}

/// The OpenAI Realtime GA wire dialect: what the client sends, and how received events map to
/// audio, transcript and end of turn.
///
/// Client messages (manual turn-taking): `session.update` once, `input_audio_buffer.append`
/// per chunk (base64 PCM16 24 kHz, no acknowledgement), then at speech end
/// `input_audio_buffer.commit` and `response.create`.
/// First audio: `response.output_audio.delta` (GA) or `response.audio.delta` (beta) with a
/// non-empty `delta`. End of turn: `response.done`.
public struct RealtimeDialect: EventInterpreter {
    public let options: RealtimeOptions

    private var sawFirstMessage = false
    private var turnActive = false
    private var lastServerError: (message: String, code: String?)?

    public init(options: RealtimeOptions = RealtimeOptions()) {
        self.options = options
    }

    // MARK: client messages

    /// `session.update` selecting PCM16 24 kHz in and out and manual turn-taking.
    public func sessionUpdate() -> String {
        var session: [String: Any] = [
            "type": "realtime",
            "output_modalities": ["audio"],
            "audio": [
                "input": ["format": ["type": "audio/pcm", "rate": 24000], "turn_detection": NSNull()],
                "output": ["format": ["type": "audio/pcm", "rate": 24000], "voice": options.voice],
            ],
        ]
        if let instructions = options.instructions { session["instructions"] = instructions }
        return Self.json(["type": "session.update", "session": session])
    }

    /// `input_audio_buffer.append` with one chunk of PCM16.
    public static func append(pcm: [UInt8]) -> String {
        "{\"type\":\"input_audio_buffer.append\",\"audio\":\"" + Data(pcm).base64EncodedString() + "\"}"
    }

    public static let commit = "{\"type\":\"input_audio_buffer.commit\"}"
    public static let responseCreate = "{\"type\":\"response.create\"}"

    static func json(_ object: [String: Any]) -> String {
        // Cannot fail: the object holds only strings, numbers, null, arrays and dictionaries.
        let data = try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
        return String(decoding: data, as: UTF8.self)
    }

    // MARK: interpretation

    /// Client event types: a server that sends these back is echoing, not speaking Realtime.
    private static let clientEventTypes: Set<String> = [
        "session.update", "input_audio_buffer.append", "input_audio_buffer.commit", "input_audio_buffer.clear",
        "response.create", "response.cancel", "conversation.item.create",
    ]

    public mutating func interpret(_ event: TransportEvent) -> [TransportEvent] {
        switch event {
        case .speechEnd:
            turnActive = true
            lastServerError = nil
            return []
        case .webSocketMessage(.binary(let bytes)):
            return protocolFailure("received a \(bytes.count)-byte binary message; OpenAI Realtime sends JSON text messages only")
        case .webSocketMessage(.text(let text)):
            return interpretText(text)
        case .webSocketClose(let code, let reason, .server):
            guard turnActive else { return [] }
            turnActive = false
            let closeText = "close code \(code.map(String.init) ?? "none")\(reason.isEmpty ? "" : ", \"\(excerpt(reason))\"")"
            if let lastServerError {
                return [.failure(TransportError(.serverError, "the server reported \"\(lastServerError.message)\" and closed the connection (\(closeText))"))]
            }
            if let code, code == 3000 || code == 4000 || code == 1011 || code == 1008 {
                return [.failure(TransportError(.serverError, "the server closed the connection with an error (\(closeText)) before the answer was complete"))]
            }
            return [.failure(TransportError(.closed, "the server closed the WebSocket (\(closeText)) before the answer was complete"))]
        default:
            return []
        }
    }

    private mutating func interpretText(_ text: String) -> [TransportEvent] {
        guard let object = jsonObject(text) else {
            return protocolFailure("received a text message that is not JSON: \"\(excerpt(text))\"")
        }
        guard let type = object["type"] as? String else {
            return protocolFailure("received a JSON message without a \"type\": \"\(excerpt(text))\"")
        }
        if Self.clientEventTypes.contains(type) {
            return protocolFailure("the server sent back a client event (\"\(type)\"): this endpoint echoes messages and is not an OpenAI Realtime server")
        }
        defer { sawFirstMessage = true }
        if !sawFirstMessage && type != "session.created" && type != "error" {
            return protocolFailure("expected \"session.created\" as the first event of an OpenAI Realtime session, got \"\(type)\"")
        }
        switch type {
        case "response.output_audio.delta", "response.audio.delta":
            guard let delta = object["delta"] as? String else {
                return protocolFailure("\(type) without a string \"delta\"")
            }
            guard !delta.isEmpty else { return [] }
            guard let count = decodedBase64Count(delta) else {
                return protocolFailure("\(type) carries a \"delta\" that is not base64")
            }
            return count > 0 ? [.audio(bytes: count)] : []
        case "response.output_audio_transcript.delta", "response.audio_transcript.delta":
            return [.transcript(object["delta"] as? String ?? "")]
        case "error":
            let error = object["error"] as? [String: Any]
            let message = error?["message"] as? String ?? excerpt(text)
            let code = error?["code"] as? String ?? error?["type"] as? String
            lastServerError = (message, code)
            return [.serverError(message: message, code: code)]
        case "response.done":
            guard turnActive else { return [] }
            turnActive = false
            let response = object["response"] as? [String: Any]
            let status = response?["status"] as? String ?? "completed"
            switch status {
            case "failed", "cancelled":
                let details = response?["status_details"] as? [String: Any]
                let error = details?["error"] as? [String: Any]
                let message = error?["message"] as? String ?? details?["reason"] as? String ?? "no details"
                return [.failure(TransportError(.serverError, "the response ended with status \"\(status)\": \(message)"))]
            default:
                return [.turnEnd]
            }
        default:
            return []
        }
    }

    private mutating func protocolFailure(_ message: String) -> [TransportEvent] {
        turnActive = false
        sawFirstMessage = true
        return [.failure(TransportError(.protocol, message))]
    }
}
