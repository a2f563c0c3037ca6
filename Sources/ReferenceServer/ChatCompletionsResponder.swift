import Foundation
import Hummingbird
import Logging
import NIOCore

/// `POST /v1/chat/completions` with `stream: true` and audio output: validates the request
/// like the API does (JSON error shape, HTTP 400), then streams the chunk sequence — role,
/// transcript-only chunks, audio `data` chunks, the `expires_at`-only chunk, the finish chunk,
/// the usage chunk when asked, `data: [DONE]`.
struct ChatCompletionsResponder: Sendable {
    let profile: DeploymentProfile
    let answer: SyntheticAnswer
    let shutdown: ShutdownFlag
    let log: ServerLog
    let logger: Logger

    static let maxBodyBytes = 64 << 20
    /// Longest a `stall` response is held open.
    static let maxStallNs: Int64 = 300 * 1_000_000_000

    func respond(to request: Request, context: ReferenceRequestContext) async throws -> Response {
        let (target, options, sequence, fault, early) = try await admit(request, context: context)
        if let early { return early }
        var request = request
        let body: ByteBuffer
        do {
            body = try await request.collectBody(upTo: Self.maxBodyBytes)
        } catch {
            return Self.error(
                .contentTooLarge, message: "Request body larger than \(Self.maxBodyBytes) bytes.",
                type: "invalid_request_error", code: "request_too_large")
        }
        let received = MonotonicServerClock.now()
        let parsed: Parsed
        switch Self.parse(body) {
        case .failure(let problem):
            return Self.error(
                .badRequest, message: problem.message, type: "invalid_request_error", code: problem.code,
                param: problem.param)
        case .success(let value):
            parsed = value
        }
        let plan = options.plan(
            profile, sequence: log.nextSequence(for: "profile /v1/chat/completions"), audioSeconds: parsed.audioSeconds)
        return answer(
            parsed: parsed, plan: plan, fault: fault, target: target, sequence: sequence, received: received,
            context: context)
    }

    /// `POST /v1/chat/completions/stream`: the recording arrives as a chunked body of raw PCM16
    /// 24 kHz mono while the user speaks (the `sse-stream` transport). The pipeline ingests it
    /// as it comes, and the edge function's invocation and upstream connection start with the
    /// request — they overlap the speech. After the body ends, what remains is the ingest of its
    /// last 100 ms, whatever of the edge overhead is not over yet, and the model.
    func respondToStreamedUpload(to request: Request, context: ReferenceRequestContext) async throws -> Response {
        let started = MonotonicServerClock.now()
        let (target, options, sequence, fault, early) = try await admit(request, context: context)
        if let early { return early }
        var arrivals: [(t: Int64, bytes: Int)] = []
        var total = 0
        for try await part in request.body {
            total += part.readableBytes
            arrivals.append((MonotonicServerClock.now(), part.readableBytes))
            if total > Self.maxBodyBytes {
                return Self.error(
                    .contentTooLarge, message: "Request body larger than \(Self.maxBodyBytes) bytes.",
                    type: "invalid_request_error", code: "request_too_large")
            }
        }
        let received = MonotonicServerClock.now()
        guard total >= 4_800 else {
            return Self.error(
                .badRequest,
                message:
                    "The streamed body carried \(total) bytes: at least 100 ms of PCM16 24 kHz mono audio is needed.",
                type: "invalid_request_error", code: "invalid_value")
        }
        let tailBytes = arrivals.filter { received - $0.t <= 100_000_000 }.reduce(0) { $0 + $1.bytes }
        var plan = options.plan(
            profile, sequence: log.nextSequence(for: "profile /v1/chat/completions"),
            audioSeconds: Double(tailBytes) / 48_000)
        // The edge overhead ran while the user spoke; only what is left of it counts now.
        let edgeLeftMs = max(0, Double(started - received) / 1e6 + plan.edgeMs)
        plan.invocationMs = edgeLeftMs
        plan.coldStartMs = 0
        plan.upstreamConnectMs = 0
        let model = request.uri.queryParameters.get("model") ?? "gpt-audio"
        return answer(
            parsed: Parsed(model: model, includeUsage: false, audioSeconds: Double(total) / 48_000), plan: plan,
            fault: fault,
            target: target, sequence: sequence, received: received, context: context)
    }

    /// The streamed SSE answer, after its plan's time.
    private func answer(
        parsed: Parsed, plan: DeploymentProfile.Plan, fault: Fault?, target: String, sequence: Int, received: Int64,
        context: ReferenceRequestContext
    ) -> Response {
        let id = Wire.id("chatcmpl-")
        log.record(
            ServerLog.Answer(
                id: id, transport: "sse", target: target, sequence: sequence,
                connection: log.connectionNumber(of: context.channel),
                fault: fault?.rawValue, plan: plan, conversationItems: nil, metadata: nil,
                requestCompleteNs: received, firstAudioSentNs: nil))
        let headers: HTTPFields = [.contentType: "text/event-stream; charset=utf-8", .cacheControl: "no-cache"]
        let channel = context.channel
        let stream = StreamPlan(
            id: id, parsed: parsed, fault: fault, firstAudioAt: received + Int64(plan.totalMs * 1_000_000))
        return Response(
            status: .ok, headers: headers,
            body: ResponseBody { [self] writer in
                try await self.stream(to: &writer, plan: stream, channel: channel)
                if fault == .closeIdle { Self.closeSoon(channel) }
            })
    }

    /// What both POST endpoints do first: read the query's options (a bad one is the API's 400),
    /// number the request, pick its fault, and answer at once when that fault needs no body.
    private func admit(_ request: Request, context: ReferenceRequestContext) async throws
        -> (target: String, options: RequestOptions, sequence: Int, fault: Fault?, early: Response?)
    {
        let target = request.uri.description
        let options: RequestOptions
        do {
            options = try RequestOptions(target: target)
        } catch {
            return (
                target, RequestOptions(), 0, nil,
                Self.error(.badRequest, message: error.message, type: "invalid_request_error", code: "invalid_value")
            )
        }
        let sequence = log.nextSequence(for: target)
        let fault = options.fault(forRequest: sequence)
        return (target, options, sequence, fault, try await earlyAnswer(to: request, fault: fault, context: context))
    }

    /// Faults answered before the request body matters, if `fault` is one.
    private func earlyAnswer(to request: Request, fault: Fault?, context: ReferenceRequestContext) async throws
        -> Response?
    {
        switch fault {
        case .rejectUpgrade:
            return Self.error(
                .badRequest, message: "fault=reject-upgrade applies to the WebSocket endpoint /v1/realtime",
                type: "invalid_request_error", code: "invalid_value")
        case .closeBeforeUpgrade:
            logger.debug("fault close-before-upgrade: dropping the connection before responding")
            try? await context.channel.close()
            throw CancellationError()
        case .http500:
            return Self.error(
                .internalServerError,
                message: "The server had an error while processing your request. Sorry about that!",
                type: "server_error", code: nil)
        case .bodyTooLarge:
            var request = request
            _ = try? await request.collectBody(upTo: Self.maxBodyBytes)
            let page =
                "<html>\r\n<head><title>413 Request Entity Too Large</title></head>\r\n<body>\r\n<center><h1>413 Request Entity Too Large</h1></center>\r\n<hr><center>nginx/1.22.1</center>\r\n</body>\r\n</html>\r\n"
            return Response(
                status: .contentTooLarge, headers: [.contentType: "text/html"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: page)))
        case .http429:
            var response = Self.error(
                .tooManyRequests, message: "Rate limit reached for requests. Please try again in 1s.", type: "requests",
                code: "rate_limit_exceeded")
            response.headers[.retryAfter] = "1"
            return response
        default:
            return nil
        }
    }

    /// `OPTIONS` (what ttfa's warm SSE sends to open its kept-alive connection, and what a
    /// browser's CORS preflight sends): 204 with `Allow`, or with `fault=options-body` a 405
    /// carrying a JSON body, as many APIs answer.
    func options(for request: Request, context: ReferenceRequestContext) -> Response {
        let options = (try? RequestOptions(target: request.uri.description)) ?? RequestOptions()
        let sequence = log.nextSequence(for: "OPTIONS " + request.uri.description)
        if options.fault(forRequest: sequence) == .optionsBody {
            var response = Self.error(
                .methodNotAllowed, message: "Method OPTIONS is not allowed on /v1/chat/completions; use POST.",
                type: "invalid_request_error", code: "method_not_allowed")
            response.headers[.allow] = "POST"
            return response
        }
        return Response(status: .noContent, headers: [.allow: "POST, OPTIONS"])
    }

    /// Closes a kept-alive connection 100 ms after its answer, as a short keep-alive timeout does.
    static func closeSoon(_ channel: any Channel) {
        channel.eventLoop.scheduleTask(in: .milliseconds(100)) { channel.close(promise: nil) }
    }

    struct StreamPlan: Sendable {
        var id: String
        var parsed: Parsed
        var fault: Fault?
        var firstAudioAt: Int64
    }

    // MARK: stream

    private func stream(to writer: inout any ResponseBodyWriter, plan: StreamPlan, channel: any Channel) async throws {
        let (id, parsed, fault, firstAudioAt) = (plan.id, plan.parsed, plan.fault, plan.firstAudioAt)
        let audioID = Wire.id("audio_")
        let created = Int(Date().timeIntervalSince1970)
        func chunk(_ delta: [String: Any], finish: String? = nil) -> String {
            Wire.json([
                "id": id, "object": "chat.completion.chunk", "created": created, "model": parsed.model,
                "choices": [["index": 0, "delta": delta, "finish_reason": finish as Any? ?? NSNull()]],
            ])
        }
        func event(_ data: String) -> ByteBuffer { ByteBuffer(string: "data: \(data)\n\n") }

        try await writer.write(event(chunk(["role": "assistant", "content": NSNull(), "refusal": NSNull()])))
        if fault == .stall {
            // The first event went out; now nothing until the client goes away, the server stops,
            // or five minutes pass. (A client that closed its side leaves the channel half-closed
            // and still "active", so the bound keeps a vanished client from pinning this task.)
            let giveUp = MonotonicServerClock.now() + Self.maxStallNs
            while !shutdown.isSet && channel.isActive && MonotonicServerClock.now() < giveUp {
                try await Task.sleep(for: .milliseconds(200))
            }
            throw CancellationError()
        }
        if fault == .badJSON {
            try await writer.write(event("{\"id\":\"\(id)\",\"choices\":[{\"delta\":"))
            try await writer.write(event("[DONE]"))
            try await writer.finish(nil)
            return
        }
        try await MonotonicServerClock.sleep(until: firstAudioAt)
        if fault == .serverError {
            try await writer.write(
                event(
                    Wire.json([
                        "error": Wire.errorObject(
                            message:
                                "The server had an error while processing your request. (reference server fault=server-error)",
                            type: "server_error", code: "server_error")
                    ])))
            try await writer.finish(nil)
            return
        }
        // Transcript-only chunks come before the first audio data.
        for index in 0..<max(1, profile.answer.transcriptChunksBeforeAudio) {
            let words = index == 0 ? answer.transcriptDeltas[0] : ""
            try await writer.write(event(chunk(["content": NSNull(), "audio": ["id": audioID, "transcript": words]])))
        }
        var audioEvents = 0
        for (index, delta) in answer.audioDeltas.enumerated() {
            try await MonotonicServerClock.sleep(until: firstAudioAt + Int64(index) * profile.answer.deltaIntervalNs)
            if index > 0, !answer.transcriptDeltas[index].isEmpty {
                try await writer.write(event(chunk(["audio": ["transcript": answer.transcriptDeltas[index]]])))
            }
            if fault == .noAudio { continue }
            try await writer.write(event(chunk(["audio": ["data": delta]])))
            audioEvents += 1
            if index == 0 { log.firstAudioSent(answer: id, at: MonotonicServerClock.now()) }
            if fault == .dropMidStream && index == 1 {
                logger.debug("fault drop-mid-stream: dropping the connection mid-response")
                throw DroppedMidStream()
            }
            if index == 0 && fault == .garbageEvent {
                try await writer.write(event("this is not JSON: the reference server's fault=garbage-event"))
            }
            if index == 0 && fault == .errorMidStream {
                try await writer.write(
                    event(
                        Wire.json([
                            "error": Wire.errorObject(
                                message:
                                    "The server had an error while processing your request. (reference server fault=error-mid-stream)",
                                type: "server_error", code: "server_error")
                        ])))
            }
        }
        log.audioSent(answer: id, events: audioEvents)
        // The last audio chunk carries only expires_at and no finish_reason.
        try await writer.write(event(chunk(["audio": ["expires_at": created + 3600]])))
        try await writer.write(event(chunk([:], finish: "stop")))
        if parsed.includeUsage {
            try await writer.write(
                event(
                    Wire.json([
                        "id": id, "object": "chat.completion.chunk", "created": created, "model": parsed.model,
                        "choices": [],
                        "usage": [
                            "prompt_tokens": 120, "completion_tokens": 60, "total_tokens": 180,
                            "prompt_tokens_details": ["audio_tokens": 100, "cached_tokens": 0],
                            "completion_tokens_details": ["audio_tokens": 48, "text_tokens": 12],
                        ],
                    ])))
        }
        try await writer.write(event("[DONE]"))
        if fault == .dropAfterDone {
            // The answer is complete, but the response never ends: no terminating zero-length chunk.
            logger.debug("fault drop-after-done: dropping the connection after [DONE]")
            throw DroppedMidStream()
        }
        try await writer.finish(nil)
    }

    struct DroppedMidStream: Error {}

    // MARK: request validation

    struct Parsed: Sendable {
        var model: String
        var includeUsage: Bool
        /// Seconds of audio in the uploaded recording (what the pipeline must ingest).
        var audioSeconds: Double
    }

    struct Problem: Error {
        var message: String
        var code: String
        var param: String?
    }

    static func parse(_ body: ByteBuffer) -> Result<Parsed, Problem> {
        guard let object = (try? JSONSerialization.jsonObject(with: Data(body.readableBytesView))) as? [String: Any]
        else {
            return .failure(
                Problem(
                    message:
                        "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload.)",
                    code: "invalid_json"))
        }
        guard let model = object["model"] as? String, !model.isEmpty else {
            return .failure(
                Problem(
                    message: "you must provide a model parameter", code: "missing_required_parameter", param: "model"))
        }
        guard let messages = object["messages"] as? [[String: Any]], !messages.isEmpty else {
            return .failure(
                Problem(
                    message: "Missing required parameter: 'messages'.", code: "missing_required_parameter",
                    param: "messages"))
        }
        guard object["stream"] as? Bool == true else {
            return .failure(
                Problem(
                    message: "This reference server only streams: set \"stream\": true.", code: "invalid_value",
                    param: "stream"))
        }
        guard let modalities = object["modalities"] as? [String], modalities.contains("audio") else {
            return .failure(
                Problem(
                    message: "Audio output needs \"modalities\": [\"text\", \"audio\"].", code: "invalid_value",
                    param: "modalities"))
        }
        guard let audio = object["audio"] as? [String: Any], let format = audio["format"] as? String,
            audio["voice"] is String
        else {
            return .failure(
                Problem(
                    message: "Missing required parameter: 'audio' with 'voice' and 'format'.",
                    code: "missing_required_parameter", param: "audio"))
        }
        guard format == "pcm16" else {
            return .failure(
                Problem(
                    message:
                        "Unsupported value: 'audio.format' does not support '\(format)' with stream=true. Supported values are: 'pcm16'.",
                    code: "unsupported_value", param: "audio.format"))
        }
        let parts = messages.compactMap { $0["content"] as? [[String: Any]] }.flatMap { $0 }
        guard
            let input = parts.first(where: { $0["type"] as? String == "input_audio" })?["input_audio"]
                as? [String: Any],
            let data = input["data"] as? String, let inputFormat = input["format"] as? String
        else {
            return .failure(
                Problem(
                    message:
                        "The request has no input_audio content part (this reference server answers spoken input).",
                    code: "invalid_value", param: "messages"))
        }
        guard inputFormat == "wav" || inputFormat == "mp3" else {
            return .failure(
                Problem(
                    message: "Invalid value: '\(inputFormat)'. Supported values are: 'wav' and 'mp3'.",
                    code: "invalid_value", param: "messages[].content[].input_audio.format"))
        }
        guard let audioBytes = Data(base64Encoded: data), audioBytes.count > 44 else {
            return .failure(
                Problem(
                    message: "Invalid 'input_audio.data': expected base64-encoded audio.", code: "invalid_value",
                    param: "messages[].content[].input_audio.data"))
        }
        if inputFormat == "wav", !audioBytes.starts(with: Array("RIFF".utf8)) {
            return .failure(
                Problem(
                    message: "The audio file could not be decoded as WAV.", code: "invalid_value",
                    param: "messages[].content[].input_audio.data"))
        }
        let streamOptions = object["stream_options"] as? [String: Any]
        return .success(
            Parsed(
                model: model, includeUsage: streamOptions?["include_usage"] as? Bool ?? false,
                audioSeconds: Double(max(0, audioBytes.count - 44)) / 48_000))
    }

    /// The API's JSON error response.
    static func error(_ status: HTTPResponse.Status, message: String, type: String, code: String?, param: String? = nil)
        -> Response
    {
        let body = Wire.json(["error": Wire.errorObject(message: message, type: type, code: code, param: param)])
        return Response(
            status: status, headers: [.contentType: "application/json"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: body)))
    }
}
