import DialectSpec
import Foundation
import HummingbirdWebSocket
import Logging
import NIOCore
import NIOWebSocket
import SpeechDetection

/// One WebSocket connection speaking the OpenAI Realtime GA dialect: `session.created` first,
/// `session.updated` on `session.update`, audio appended to a buffer, on commit +
/// `response.create` the full response event sequence with transcript and audio deltas, and
/// `conversation.item.delete` for the conversation's items. Malformed input gets `error`
/// events, never a crash. Faults (`fault=`, `fault_every=`) apply per response.
struct RealtimeSession: Sendable {
    let profile: DeploymentProfile
    let answer: SyntheticAnswer
    let options: RequestOptions
    /// Path and query of the upgrade request (the scenario `fault_every` counts by).
    let target: String
    let channel: any Channel
    let log: ServerLog
    let logger: Logger

    /// Minimum audio for a commit (the API's 100 ms rule).
    static let minimumCommitBytes = 24_000 * 2 / 10
    /// Appends after which `fault=early-audio` starts a response of its own.
    static let earlyAudioAfterAppends = 3

    /// Reads from `inbound`; writes straight to the connection's channel (see `write`), not
    /// through `outbound`, which Hummingbird keeps for its own control frames.
    func run(inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter) async throws {
        let connection = log.connectionNumber(of: channel)
        log.openConnection(connection, target: target)
        let sessionID = Wire.id("sess_")
        try await send([
            "type": "session.created",
            "event_id": Wire.id("event_"),
            "session": sessionObject(id: sessionID),
        ])
        let state = SessionState()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for try await message in inbound.messages(maxSize: 32 << 20) {
                let received = MonotonicServerClock.now()
                guard case .text(let text) = message else {
                    log.clientMessage("binary", on: connection, at: received)
                    try await sendError(
                        type: "invalid_request_error", code: "invalid_message_type",
                        message: "Binary messages are not supported; send JSON text messages.")
                    continue
                }
                // Audio appends, most of what a client sends, are validated and read without
                // building a dictionary (Foundation's parser was the server's main cost at 1,000
                // sessions); every other message is parsed whole.
                let event: [String: Any]
                if let fields = JSONSkim.strings(text, keys: ["type", "audio", "event_id"]),
                    fields["type"] == "input_audio_buffer.append", fields["audio"] != nil
                {
                    event = fields
                } else if let parsed = Wire.object(text) {
                    event = parsed
                } else {
                    log.clientMessage("not-json", on: connection, at: received)
                    try await sendError(
                        type: "invalid_request_error", code: "invalid_json",
                        message: "The message could not be parsed as JSON.")
                    continue
                }
                let type = event["type"] as? String ?? ""
                let eventID = event["event_id"] as? String
                log.clientMessage(type, on: connection, at: received)
                switch type {
                case "session.update":
                    guard let session = event["session"] as? [String: Any] else {
                        try await sendError(
                            type: "invalid_request_error", code: "missing_required_parameter",
                            message: "Missing required parameter: 'session'.", param: "session", eventID: eventID)
                        continue
                    }
                    if let kind = session["type"] as? String, kind != "realtime" {
                        try await sendError(
                            type: "invalid_request_error", code: "invalid_value",
                            message: "Invalid value: '\(kind)'. Supported values are: 'realtime'.",
                            param: "session.type", eventID: eventID)
                        continue
                    }
                    if let delay = options.sessionDelayMs, delay > 0 {
                        try await Task.sleep(for: .milliseconds(delay))
                    }
                    var updated = sessionObject(id: sessionID)
                    for (key, value) in session { updated[key] = value }
                    await state.setTurnDetection(Self.serverVAD(in: session))
                    log.sessionUpdated(on: connection, at: MonotonicServerClock.now())
                    try await send(["type": "session.updated", "event_id": Wire.id("event_"), "session": updated])
                case "input_audio_buffer.append":
                    guard let audio = event["audio"] as? String, let bytes = Data(base64Encoded: audio) else {
                        try await sendError(
                            type: "invalid_request_error", code: "invalid_value",
                            message: "Invalid 'audio': expected base64-encoded PCM16 audio.", param: "audio",
                            eventID: eventID)
                        continue
                    }
                    let (appends, detected) = await state.append(bytes)
                    if appends == Self.earlyAudioAfterAppends,
                        options.fault(forRequest: log.peekSequence(for: target)) == .earlyAudio
                    {
                        try await sendUnsolicitedResponse()
                    }
                    // server_vad: speech boundaries found in the audio end the turn by themselves.
                    for event in detected {
                        switch event {
                        case .speechStarted(let atMs):
                            try await send([
                                "type": "input_audio_buffer.speech_started", "event_id": Wire.id("event_"),
                                "audio_start_ms": atMs, "item_id": NSNull(),
                            ])
                        case .speechStopped(let atMs, _):
                            try await send([
                                "type": "input_audio_buffer.speech_stopped", "event_id": Wire.id("event_"),
                                "audio_end_ms": atMs, "item_id": NSNull(),
                            ])
                            try await commit(state: state)
                            try await createResponse(
                                state: state, metadata: nil, eventID: nil, connection: connection, group: &group)
                        }
                    }
                case "input_audio_buffer.clear":
                    await state.clear()
                    try await send(["type": "input_audio_buffer.cleared", "event_id": Wire.id("event_")])
                case "input_audio_buffer.commit":
                    try await commit(state: state, eventID: eventID)
                case "conversation.item.delete":
                    guard let itemID = event["item_id"] as? String else {
                        try await sendError(
                            type: "invalid_request_error", code: "missing_required_parameter",
                            message: "Missing required parameter: 'item_id'.", param: "item_id", eventID: eventID)
                        continue
                    }
                    guard await state.delete(itemID: itemID) else {
                        try await sendError(
                            type: "invalid_request_error", code: "item_not_found",
                            message: "Item with item_id not found: \(itemID)", param: "item_id", eventID: eventID)
                        continue
                    }
                    try await send([
                        "type": "conversation.item.deleted", "event_id": Wire.id("event_"), "item_id": itemID,
                    ])
                case "response.create":
                    let metadata = ((event["response"] as? [String: Any])?["metadata"] as? [String: Any])?
                        .compactMapValues { $0 as? String }
                    try await createResponse(
                        state: state, metadata: metadata, eventID: eventID, connection: connection, group: &group)
                case "response.cancel":
                    await state.cancelResponse()
                default:
                    try await sendError(
                        type: "invalid_request_error", code: "invalid_value",
                        message:
                            "Invalid value: '\(type)'. Supported values are: 'session.update', 'input_audio_buffer.append', 'input_audio_buffer.commit', 'input_audio_buffer.clear', 'conversation.item.delete', 'response.create', 'response.cancel'.",
                        param: "type", eventID: eventID)
                }
            }
            group.cancelAll()
        }
    }

    /// The `server_vad` settings of a `session.update`, if it asks for server turn detection.
    static func serverVAD(in session: [String: Any]) -> EnergyVAD.Parameters? {
        let input = ((session["audio"] as? [String: Any])?["input"] as? [String: Any])
        guard let detection = input?["turn_detection"] as? [String: Any], detection["type"] as? String == "server_vad"
        else { return nil }
        var parameters = EnergyVAD.Parameters()
        if let threshold = detection["threshold"] as? Double { parameters.threshold = threshold }
        if let prefix = detection["prefix_padding_ms"] as? Int { parameters.prefixPaddingMs = prefix }
        if let silence = detection["silence_duration_ms"] as? Int { parameters.silenceDurationMs = silence }
        return parameters
    }

    // MARK: turns

    /// Commits the input buffer as a user item (a client's commit, or server_vad's).
    private func commit(state: SessionState, eventID: String? = nil) async throws {
        let buffered = await state.buffered
        guard buffered >= Self.minimumCommitBytes else {
            try await sendError(
                type: "invalid_request_error", code: "input_audio_buffer_commit_empty",
                message:
                    "Error committing input audio buffer: buffer too small. Expected at least 100ms of audio, but buffer only has \(buffered * 1000 / 48_000)ms of audio.",
                eventID: eventID)
            return
        }
        let itemID = Wire.id("item_")
        let previous = await state.commit(itemID: itemID)
        let item: [String: Any] = [
            "id": itemID, "object": "realtime.item", "type": "message", "status": "completed",
            "role": "user", "content": [["type": "input_audio", "transcript": NSNull()]],
        ]
        try await send([
            [
                "type": "input_audio_buffer.committed", "event_id": Wire.id("event_"),
                "previous_item_id": previous as Any? ?? NSNull(), "item_id": itemID,
            ],
            [
                "type": "conversation.item.added", "event_id": Wire.id("event_"),
                "previous_item_id": previous as Any? ?? NSNull(), "item": item,
            ],
            [
                "type": "conversation.item.done", "event_id": Wire.id("event_"),
                "previous_item_id": previous as Any? ?? NSNull(), "item": item,
            ],
        ])
    }

    /// Starts a response (a client's `response.create`, or server_vad's), answered in its own task.
    private func createResponse(
        state: SessionState, metadata: [String: String]?, eventID: String?,
        connection: Int, group: inout ThrowingTaskGroup<Void, any Error>
    ) async throws {
        let requested = MonotonicServerClock.now()
        guard let (responseID, items, previous) = await state.startResponse() else {
            try await sendError(
                type: "invalid_request_error", code: "conversation_already_has_active_response",
                message: "Conversation already has an active response in progress.", eventID: eventID)
            return
        }
        let sequence = log.nextSequence(for: target)
        let fault = options.fault(forRequest: sequence)
        // The audio arrived while the user spoke: nothing is left to ingest.
        let plan = options.plan(profile, sequence: log.nextSequence(for: "profile /v1/realtime"), audioSeconds: 0)
        log.record(
            ServerLog.Answer(
                id: responseID, transport: "websocket", target: target, sequence: sequence, connection: connection,
                fault: fault?.rawValue, plan: plan, conversationItems: items, metadata: metadata,
                requestCompleteNs: requested, firstAudioSentNs: nil))
        let response = ResponsePlan(
            id: responseID, previousID: previous, fault: fault, metadata: metadata,
            firstAudioAt: requested + Int64(plan.totalMs * 1_000_000))
        group.addTask {
            do {
                try await respond(plan: response, state: state)
            } catch {
                await state.finishResponse()
                throw error
            }
            await state.finishResponse()
        }
    }

    // MARK: response

    struct ResponsePlan: Sendable {
        var id: String
        /// The response before this one on the connection (for `fault=stale-delta`).
        var previousID: String?
        var fault: Fault?
        var metadata: [String: String]?
        var firstAudioAt: Int64
    }

    private func respond(plan: ResponsePlan, state: SessionState) async throws {
        let (responseID, fault) = (plan.id, plan.fault)
        let itemID = Wire.id("item_")
        if fault == .staleDelta {
            // A late delta of the previous answer arrives before this response even starts.
            let stale = plan.previousID ?? Wire.id("resp_")
            try await write([
                Wire.json([
                    "type": "response.output_audio.delta", "event_id": Wire.id("event_"), "response_id": stale,
                    "item_id": Wire.id("item_"), "output_index": 0, "content_index": 0, "delta": answer.audioDeltas[0],
                ])
            ])
        }
        if fault == .badJSON {
            try await write(["{\"type\":\"response.created\",\"response\":{\"id\":\"\(responseID)\","])
            return
        }
        var response: [String: Any] = [
            "id": responseID, "object": "realtime.response", "status": "in_progress", "output": [],
        ]
        if let metadata = plan.metadata { response["metadata"] = metadata }
        let created: [String: Any] = ["type": "response.created", "event_id": Wire.id("event_"), "response": response]
        if fault == .stall {
            try await send(created)
            // The answer started; now nothing until the client goes away (or five minutes pass).
            try await Task.sleep(for: .nanoseconds(ChatCompletionsResponder.maxStallNs))
            return
        }
        let item: [String: Any] = [
            "id": itemID, "object": "realtime.item", "type": "message", "status": "in_progress", "role": "assistant",
            "content": [],
        ]
        await state.addItem(itemID)
        try await send([
            created,
            [
                "type": "response.output_item.added", "event_id": Wire.id("event_"), "response_id": responseID,
                "output_index": 0, "item": item,
            ],
            ["type": "conversation.item.added", "event_id": Wire.id("event_"), "item": item],
            [
                "type": "response.content_part.added", "event_id": Wire.id("event_"), "response_id": responseID,
                "item_id": itemID, "output_index": 0, "content_index": 0, "part": ["type": "audio", "transcript": ""],
            ],
        ])

        try await MonotonicServerClock.sleep(until: plan.firstAudioAt)

        if fault == .serverError {
            try await sendError(
                type: "server_error", code: "server_error",
                message: "The server had an error while processing your request. (reference server fault=server-error)")
            try await send([
                "type": "response.done", "event_id": Wire.id("event_"),
                "response": [
                    "id": responseID, "object": "realtime.response", "status": "failed",
                    "status_details": [
                        "type": "failed",
                        "error": [
                            "type": "server_error", "code": "server_error",
                            "message": "The server had an error while processing your request.",
                        ],
                    ],
                    "output": [],
                ],
            ])
            return
        }

        let prefix =
            "{\"type\":\"response.output_audio.delta\",\"response_id\":\"\(responseID)\",\"item_id\":\"\(itemID)\",\"output_index\":0,\"content_index\":0,\"event_id\":\""
        var audioEvents = 0
        for (index, delta) in answer.audioDeltas.enumerated() {
            if await state.cancelled { break }
            try await MonotonicServerClock.sleep(
                until: plan.firstAudioAt + Int64(index) * profile.answer.deltaIntervalNs)
            let words = answer.transcriptDeltas[index]
            var moment: [String] = []
            if !words.isEmpty {
                moment.append(
                    Wire.json([
                        "type": "response.output_audio_transcript.delta", "event_id": Wire.id("event_"),
                        "response_id": responseID, "item_id": itemID, "output_index": 0, "content_index": 0,
                        "delta": words,
                    ]))
            }
            if fault == .noAudio {
                try await write(moment)
                continue
            }
            moment.append(prefix + Wire.id("event_") + "\",\"delta\":\"" + delta + "\"}")
            try await write(moment)
            audioEvents += 1
            if index == 0 { log.firstAudioSent(answer: responseID, at: MonotonicServerClock.now()) }
            if fault == .dropMidStream && index == 1 {
                logger.debug("fault drop-mid-stream: closing the connection without a close frame")
                try await channel.close()
                return
            }
            if index == 0 && fault == .garbageEvent {
                try await write(["this is not JSON: the reference server's fault=garbage-event"])
            }
            if index == 0 && fault == .errorMidStream {
                try await sendError(
                    type: "server_error", code: "server_error",
                    message:
                        "The server had an error while processing your request. (reference server fault=error-mid-stream)"
                )
            }
        }
        log.audioSent(answer: responseID, events: audioEvents)
        let cancelled = await state.cancelled
        let transcript = SyntheticAnswer.transcript
        var closing: [[String: Any]] = []
        if !cancelled {
            if fault != .noAudio {
                closing.append([
                    "type": "response.output_audio.done", "event_id": Wire.id("event_"), "response_id": responseID,
                    "item_id": itemID, "output_index": 0, "content_index": 0,
                ])
            }
            closing.append([
                "type": "response.output_audio_transcript.done", "event_id": Wire.id("event_"),
                "response_id": responseID, "item_id": itemID, "output_index": 0, "content_index": 0,
                "transcript": transcript,
            ])
            closing.append([
                "type": "response.content_part.done", "event_id": Wire.id("event_"), "response_id": responseID,
                "item_id": itemID, "output_index": 0, "content_index": 0,
                "part": ["type": "audio", "transcript": transcript],
            ])
        }
        let doneItem: [String: Any] = [
            "id": itemID, "object": "realtime.item", "type": "message",
            "status": cancelled ? "incomplete" : "completed", "role": "assistant",
            "content": [["type": "output_audio", "transcript": transcript]],
        ]
        closing.append([
            "type": "response.output_item.done", "event_id": Wire.id("event_"), "response_id": responseID,
            "output_index": 0, "item": doneItem,
        ])
        var done: [String: Any] = [
            "id": responseID, "object": "realtime.response", "status": cancelled ? "cancelled" : "completed",
            "status_details": cancelled ? ["type": "cancelled", "reason": "client_cancelled"] : NSNull(),
            "output": [doneItem],
            "usage": ["total_tokens": 120, "input_tokens": 60, "output_tokens": 60],
        ]
        if let metadata = plan.metadata { done["metadata"] = metadata }
        closing.append(["type": "response.done", "event_id": Wire.id("event_"), "response": done])
        // The API sends rate limits after response.done.
        closing.append([
            "type": "rate_limits.updated", "event_id": Wire.id("event_"),
            "rate_limits": [
                ["name": "requests", "limit": 1000, "remaining": 999, "reset_seconds": 0.06],
                ["name": "tokens", "limit": 50000, "remaining": 49880, "reset_seconds": 0.144],
            ],
        ])
        try await send(closing)
        switch fault {
        case .dropAfterDone:
            logger.debug("fault drop-after-done: closing the connection without a close frame")
            try await channel.close()
        case .closeIdle:
            ChatCompletionsResponder.closeSoon(channel)
        default:
            break
        }
    }

    /// `fault=early-audio`: a response nobody asked for, with audio, while the user speaks (as
    /// a server with its own turn detection might start one).
    private func sendUnsolicitedResponse() async throws {
        let responseID = Wire.id("resp_")
        let itemID = Wire.id("item_")
        try await send([
            "type": "response.created", "event_id": Wire.id("event_"),
            "response": ["id": responseID, "object": "realtime.response", "status": "in_progress", "output": []],
        ])
        for delta in answer.audioDeltas.prefix(2) {
            try await send([
                "type": "response.output_audio.delta", "event_id": Wire.id("event_"), "response_id": responseID,
                "item_id": itemID, "output_index": 0, "content_index": 0, "delta": delta,
            ])
        }
        try await send([
            "type": "response.done", "event_id": Wire.id("event_"),
            "response": [
                "id": responseID, "object": "realtime.response", "status": "completed", "output": [],
            ],
        ])
    }

    // MARK: helpers

    private func sessionObject(id: String) -> [String: Any] {
        [
            "id": id, "object": "realtime.session", "type": "realtime", "model": "gpt-realtime",
            "output_modalities": ["audio"],
            "audio": [
                "input": ["format": ["type": "audio/pcm", "rate": 24000], "turn_detection": NSNull()],
                "output": ["format": ["type": "audio/pcm", "rate": 24000], "voice": "marin"],
            ],
        ]
    }

    private func send(_ event: [String: Any]) async throws {
        try await write([Wire.json(event)])
    }

    /// Events of one moment (a commit's three, a response's opening four, a transcript delta
    /// with its audio, the closing six), each its own message as the API sends them.
    private func send(_ events: [[String: Any]]) async throws {
        try await write(events.map(Wire.json))
    }

    /// Writes text messages in one trip to the connection's event loop and one flush. Every
    /// message of the session goes this way, so they stay in order. (Through the WebSocket
    /// writer each message cost a trip and a system call of its own — a third of the server's
    /// time at 1,000 sessions.) It waits for the write only while the client is not reading
    /// (the socket's buffer is full), so a slow reader cannot pile up the server's memory and a
    /// fast one costs no extra wake-up.
    private func write(_ texts: [String]) async throws {
        let channel = self.channel
        if texts.isEmpty { return }
        guard channel.isActive else { throw ChannelError.ioOnClosedChannel }
        let frames = texts.map { WebSocketFrame(fin: true, opcode: .text, data: ByteBuffer(string: $0)) }
        let promise = channel.eventLoop.makePromise(of: Void.self)
        channel.eventLoop.execute {
            for frame in frames.dropLast() { channel.write(frame, promise: nil) }
            channel.writeAndFlush(frames[frames.count - 1], promise: promise)
        }
        if !channel.isWritable { try await promise.futureResult.get() }
    }

    private func sendError(type: String, code: String?, message: String, param: String? = nil, eventID: String? = nil)
        async throws
    {
        var error = Wire.errorObject(message: message, type: type, code: code, param: param)
        error["event_id"] = eventID as Any? ?? NSNull()
        try await send(["type": "error", "event_id": Wire.id("event_"), "error": error])
    }
}

/// Mutable state of one Realtime connection, shared by the reader and the response task: the
/// input buffer, the conversation's items, the response in progress.
actor SessionState {
    private(set) var buffered = 0
    /// server_vad, when the session asked for it.
    private var vad: EnergyVAD?
    private var appendsSinceCommit = 0
    /// Conversation items, oldest first.
    private(set) var items: [String] = []
    private var lastResponseID: String?
    private var responding = false
    private(set) var cancelled = false

    func setTurnDetection(_ parameters: EnergyVAD.Parameters?) {
        vad = parameters.map { EnergyVAD(parameters: $0) }
    }

    /// Adds audio; returns how many appends the buffer has had since the last commit, and what
    /// server_vad (if on) found in it.
    func append(_ bytes: Data) -> (appends: Int, events: [EnergyVAD.Event]) {
        buffered += bytes.count
        appendsSinceCommit += 1
        return (appendsSinceCommit, vad?.feed(bytes) ?? [])
    }

    func clear() {
        buffered = 0
        appendsSinceCommit = 0
    }

    /// Empties the buffer into a new user item; returns the previous item's id.
    func commit(itemID: String) -> String? {
        buffered = 0
        appendsSinceCommit = 0
        defer { items.append(itemID) }
        return items.last
    }

    func addItem(_ id: String) { items.append(id) }

    /// Removes an item; false when the conversation has no such item.
    func delete(itemID: String) -> Bool {
        guard let index = items.firstIndex(of: itemID) else { return false }
        items.remove(at: index)
        return true
    }

    /// Starts a response: its new id, the conversation's length, the previous response's id.
    /// Nil while another response is in progress.
    func startResponse() -> (id: String, items: Int, previous: String?)? {
        guard !responding else { return nil }
        responding = true
        cancelled = false
        let id = Wire.id("resp_")
        defer { lastResponseID = id }
        return (id, items.count, lastResponseID)
    }

    func finishResponse() { responding = false }
    func cancelResponse() { if responding { cancelled = true } }
}

/// The server's clock: the same CLOCK_MONOTONIC the client uses.
enum MonotonicServerClock {
    static func now() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
    }

    static func sleep(until deadline: Int64) async throws {
        let remaining = deadline - now()
        if remaining > 0 { try await Task.sleep(for: .nanoseconds(remaining)) }
    }
}
