import DialectSpec
import Foundation
import SpeechDetection

/// Options for the OpenAI Realtime (GA) dialect.
package struct RealtimeOptions: Sendable, Equatable {
    /// Output voice.
    package var voice: String
    /// System instructions, if any.
    package var instructions: String?
    /// Server turn detection (`server_vad`) with these settings; nil: manual turns (commit and
    /// `response.create` at the end of speech).
    package var turnDetection: EnergyVAD.Parameters?

    package init(voice: String = "marin", instructions: String? = nil, turnDetection: EnergyVAD.Parameters? = nil) {
        self.voice = voice
        self.instructions = instructions
        self.turnDetection = turnDetection
    }
}

/// The OpenAI Realtime GA wire dialect: what the client sends, and how received events map to
/// audio, transcript and end of turn.
///
/// Client messages (manual turn-taking): `session.update` once, `input_audio_buffer.append`
/// per chunk (base64 PCM16 24 kHz, no acknowledgement), then at speech end
/// `input_audio_buffer.commit` and `response.create` (tagged `metadata.ttfa_turn`); after the
/// turn, `conversation.item.delete` for each item it added, so every turn answers a one-turn
/// conversation.
///
/// Attribution: a turn's answer is the response created after its `response.create`
/// (`response.created` whose `metadata.ttfa_turn`, when echoed, names this turn). Only audio
/// deltas carrying that response's id count — `response.output_audio.delta` (GA) or
/// `response.audio.delta` (beta) with a non-empty `delta`. Audio of any other response, or
/// before the end of speech, is an anomaly, never the turn's audio. End of turn: that
/// response's `response.done`.
package struct RealtimeDialect: EventInterpreter, WebSocketDialect {
    package let options: RealtimeOptions

    private var sawFirstMessage = false
    // The current turn.
    private var turn = 0
    private var turnActive = false
    private var responseID: String?
    private var userItem: String?
    private var assistantItems: [String] = []
    private var lastServerError: (message: String, code: String?)?
    // Clean-up after the turn.
    private var pendingDeletes: Set<String> = []

    package init(options: RealtimeOptions = RealtimeOptions()) {
        self.options = options
    }

    // MARK: client messages

    package var name: String { "openai-realtime" }
    package var inputFormat: AudioFormat { .pcm16At24k }

    package func setupMessages() -> [OutgoingMessage] { [.text(sessionUpdate())] }

    package var setupAcknowledgement: (@Sendable (String) -> Bool)? { Self.isSessionAcknowledgement }

    package func audioMessage(_ audio: [UInt8], turn: Int) -> OutgoingMessage { .text(Self.append(pcm: audio)) }

    /// Manual turns: commit and `response.create`. With server turn detection the server ends
    /// the turn by itself: nothing.
    package func endOfSpeechMessages(turn: Int) -> [OutgoingMessage] {
        options.turnDetection == nil ? [.text(Self.commit), .text(Self.responseCreate(turn: turn))] : []
    }

    package func makeInterpreter() -> any EventInterpreter { RealtimeDialect(options: options) }

    /// `session.update` selecting PCM16 24 kHz in and out, and manual turn-taking or
    /// `server_vad`.
    package func sessionUpdate() -> String {
        let turnDetection: Any =
            options.turnDetection.map { vad -> [String: Any] in
                [
                    "type": "server_vad", "threshold": vad.threshold, "prefix_padding_ms": vad.prefixPaddingMs,
                    "silence_duration_ms": vad.silenceDurationMs, "create_response": true, "interrupt_response": false,
                ]
            } ?? NSNull()
        var session: [String: Any] = [
            "type": "realtime",
            "output_modalities": ["audio"],
            "audio": [
                "input": ["format": ["type": "audio/pcm", "rate": 24000], "turn_detection": turnDetection],
                "output": ["format": ["type": "audio/pcm", "rate": 24000], "voice": options.voice],
            ],
        ]
        if let instructions = options.instructions { session["instructions"] = instructions }
        return Self.json(["type": "session.update", "session": session])
    }

    /// Whether a server message acknowledges `session.update`: `session.updated`, or an
    /// `error` (the session stays as it was; the error is reported with the turn).
    package static func isSessionAcknowledgement(_ text: String) -> Bool {
        guard text.contains("session.updated") || text.contains("\"error\"") else { return false }
        let type = jsonObject(text)?["type"] as? String
        return type == "session.updated" || type == "error"
    }

    /// `input_audio_buffer.append` with one chunk of PCM16.
    package static func append(pcm: [UInt8]) -> String {
        "{\"type\":\"input_audio_buffer.append\",\"audio\":\"" + Data(pcm).base64EncodedString() + "\"}"
    }

    package static let commit = "{\"type\":\"input_audio_buffer.commit\"}"

    /// `response.create` for `turn`, tagged so the response it creates can be told apart from
    /// any other (`metadata` is echoed on the response object).
    package static func responseCreate(turn: Int) -> String {
        "{\"type\":\"response.create\",\"response\":{\"metadata\":{\"ttfa_turn\":\"\(turn)\"}}}"
    }

    /// `conversation.item.delete` for one item.
    package static func deleteItem(_ id: String) -> String {
        json(["type": "conversation.item.delete", "item_id": id])
    }

    static func json(_ object: [String: Any]) -> String {
        // Cannot fail: the object holds only strings, numbers, null, arrays and dictionaries.
        let data = try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
        return String(decoding: data, as: UTF8.self)
    }

    // MARK: turns

    package mutating func beginTurn(_ turn: Int) {
        self.turn = turn
        turnActive = false
        responseID = nil
        userItem = nil
        assistantItems = []
        lastServerError = nil
        pendingDeletes = []
    }

    /// Deletes the last turn's user item and the answer's items.
    package mutating func cleanupMessages() -> [String] {
        let items = assistantItems + [userItem].compactMap { $0 }
        pendingDeletes = Set(items)
        return items.map(Self.deleteItem)
    }

    // MARK: interpretation

    /// Client event types: a server that sends these back is echoing, not speaking Realtime.
    private static let clientEventTypes: Set<String> = [
        "session.update", "input_audio_buffer.append", "input_audio_buffer.commit", "input_audio_buffer.clear",
        "response.create", "response.cancel", "conversation.item.create", "conversation.item.delete",
    ]

    package mutating func interpret(_ event: TransportEvent) -> [TransportEvent] {
        switch event {
        case .speechEnd:
            turnActive = true
            lastServerError = nil
            return []
        case .webSocketMessage(.binary(let bytes)):
            return protocolFailure(
                "received a \(bytes.count)-byte binary message; OpenAI Realtime sends JSON text messages only")
        case .webSocketMessage(.text(let text)):
            return interpretText(text)
        case .webSocketClose(let code, let reason, .server):
            var events: [TransportEvent] = []
            if !pendingDeletes.isEmpty {
                pendingDeletes = []
                events.append(
                    .contextCleared(
                        ok: false, detail: "the server closed the connection before confirming the deletions"))
            }
            guard turnActive else { return events }
            turnActive = false
            let closeText =
                "close code \(code.map(String.init) ?? "none")\(reason.isEmpty ? "" : ", \"\(excerpt(reason))\"")"
            if let lastServerError {
                return events + [
                    .failure(
                        TransportError(
                            .serverError,
                            "the server reported \"\(lastServerError.message)\" and closed the connection (\(closeText))"
                        ))
                ]
            }
            if let code, code == 3000 || code == 4000 || code == 1011 || code == 1008 {
                return events + [
                    .failure(
                        TransportError(
                            .serverError,
                            "the server closed the connection with an error (\(closeText)) before the answer was complete"
                        ))
                ]
            }
            return events + [
                .failure(
                    TransportError(
                        .closed, "the server closed the WebSocket (\(closeText)) before the answer was complete"))
            ]
        default:
            return []
        }
    }

    private mutating func interpretText(_ text: String) -> [TransportEvent] {
        // Audio deltas, most of an answer, without building a dictionary: the skim validates the
        // whole message and reads the two fields; anything else takes the full parse below.
        if sawFirstMessage, let fields = JSONSkim.strings(text, keys: ["type", "delta", "response_id"]),
            let type = fields["type"], type == "response.output_audio.delta" || type == "response.audio.delta",
            let delta = fields["delta"]
        {
            guard !delta.isEmpty else { return [] }
            let response = fields["response_id"]
            guard turnActive, let bound = responseID, response == bound else {
                return [.anomaly(foreignAudio(response))]
            }
            guard let count = decodedBase64Count(delta) else {
                return protocolFailure("\(type) carries a \"delta\" that is not base64")
            }
            return count > 0 ? [.audio(bytes: count, response: bound)] : []
        }
        guard let object = jsonObject(text) else {
            return protocolFailure("received a text message that is not JSON: \"\(excerpt(text))\"")
        }
        guard let type = object["type"] as? String else {
            return protocolFailure("received a JSON message without a \"type\": \"\(excerpt(text))\"")
        }
        if Self.clientEventTypes.contains(type) {
            return protocolFailure(
                "the server sent back a client event (\"\(type)\"): this endpoint echoes messages and is not an OpenAI Realtime server"
            )
        }
        defer { sawFirstMessage = true }
        if !sawFirstMessage && type != "session.created" && type != "error" {
            return protocolFailure(
                "expected \"session.created\" as the first event of an OpenAI Realtime session, got \"\(type)\"")
        }
        switch type {
        case "response.created":
            return responseCreated(object["response"] as? [String: Any])
        case "response.output_audio.delta", "response.audio.delta":
            guard let delta = object["delta"] as? String else {
                return protocolFailure("\(type) without a string \"delta\"")
            }
            guard !delta.isEmpty else { return [] }
            let response = object["response_id"] as? String
            guard turnActive, let bound = responseID, response == bound else {
                return [.anomaly(foreignAudio(response))]
            }
            guard let count = decodedBase64Count(delta) else {
                return protocolFailure("\(type) carries a \"delta\" that is not base64")
            }
            return count > 0 ? [.audio(bytes: count, response: bound)] : []
        case "response.output_audio_transcript.delta", "response.audio_transcript.delta":
            guard turnActive, responseID != nil, object["response_id"] as? String == responseID else { return [] }
            return [.transcript(object["delta"] as? String ?? "")]
        case "input_audio_buffer.committed":
            if turnActive, userItem == nil { userItem = object["item_id"] as? String }
            return []
        case "response.output_item.added":
            if responseID != nil, object["response_id"] as? String == responseID,
                let id = (object["item"] as? [String: Any])?["id"] as? String, !assistantItems.contains(id)
            {
                assistantItems.append(id)
            }
            return []
        case "conversation.item.deleted":
            guard let id = object["item_id"] as? String, pendingDeletes.remove(id) != nil, pendingDeletes.isEmpty else {
                return []
            }
            return [.contextCleared(ok: true, detail: "the turn's items were deleted")]
        case "error":
            let error = object["error"] as? [String: Any]
            let message = error?["message"] as? String ?? excerpt(text)
            let code = error?["code"] as? String ?? error?["type"] as? String
            if !pendingDeletes.isEmpty {
                pendingDeletes = []
                return [.contextCleared(ok: false, detail: "the server refused to delete the turn's items: \(message)")]
            }
            lastServerError = (message, code)
            return [.serverError(message: message, code: code)]
        case "response.done":
            return responseDone(object["response"] as? [String: Any])
        default:
            return []
        }
    }

    private mutating func responseCreated(_ response: [String: Any]?) -> [TransportEvent] {
        let id = response?["id"] as? String
        let name = id ?? "(no id)"
        if let tag = (response?["metadata"] as? [String: Any])?["ttfa_turn"] as? String, tag != String(turn) {
            return [
                .anomaly(
                    "response \(name) was created for turn \(tag), not this turn \(turn); its audio is not counted")
            ]
        }
        guard turnActive else {
            return [
                .anomaly(
                    "the server created response \(name) before the end of speech, without a response.create; its audio is not counted"
                )
            ]
        }
        if let responseID {
            return [.anomaly("a second response (\(name)) was created during the turn; only \(responseID) counts")]
        }
        guard let id else { return protocolFailure("response.created without a response id") }
        responseID = id
        return [.responseStarted(id: id)]
    }

    private mutating func responseDone(_ response: [String: Any]?) -> [TransportEvent] {
        let id = response?["id"] as? String
        let tag = (response?["metadata"] as? [String: Any])?["ttfa_turn"] as? String
        let ours = responseID.map { $0 == id } ?? (tag == String(turn))
        guard turnActive, ours else { return [.responseDone(id: id)] }
        turnActive = false
        for item in response?["output"] as? [[String: Any]] ?? [] {
            if let itemID = item["id"] as? String, !assistantItems.contains(itemID) { assistantItems.append(itemID) }
        }
        let status = response?["status"] as? String ?? "completed"
        switch status {
        case "failed", "cancelled":
            let details = response?["status_details"] as? [String: Any]
            let error = details?["error"] as? [String: Any]
            let message = error?["message"] as? String ?? details?["reason"] as? String ?? "no details"
            return [
                .responseDone(id: id),
                .failure(TransportError(.serverError, "the response ended with status \"\(status)\": \(message)")),
            ]
        default:
            return [.responseDone(id: id), .turnEnd]
        }
    }

    /// Why an audio delta does not count.
    private func foreignAudio(_ response: String?) -> String {
        let name = response.map { "response \($0)" } ?? "a delta without a response_id"
        if !turnActive {
            return
                "audio of \(name) arrived while this turn expected no answer (before its end of speech, or after its answer); not counted"
        }
        guard let responseID else {
            return "audio of \(name) arrived before this turn's response was created; not counted"
        }
        return "audio of \(name) arrived during this turn's response \(responseID); not counted"
    }

    private mutating func protocolFailure(_ message: String) -> [TransportEvent] {
        turnActive = false
        sawFirstMessage = true
        return [.failure(TransportError(.protocol, message))]
    }
}
