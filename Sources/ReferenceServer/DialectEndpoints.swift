import DialectSpec
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdWebSocket
import Logging
import NIOCore

/// An SSE dialect file served at its `path`: the request checked against the file's template
/// (a 400 in the OpenAI error shape when the audio is not where the file puts it), then the
/// answer after the deployment profile's time — the started event, audio (and transcript)
/// events every delta, the end event — each built from the file's rules.
struct DialectSSEResponder: Sendable {
    let speaker: DialectSpeaker
    let profile: DeploymentProfile
    let log: ServerLog

    func respond(to request: Request, context: ReferenceRequestContext) async throws -> Response {
        let target = request.uri.description
        let options: RequestOptions
        do {
            options = try RequestOptions(target: target)
        } catch {
            return ChatCompletionsResponder.error(
                .badRequest, message: error.message, type: "invalid_request_error", code: "invalid_value")
        }
        let sequence = log.nextSequence(for: target)
        var request = request
        let body: ByteBuffer
        do {
            body = try await request.collectBody(upTo: ChatCompletionsResponder.maxBodyBytes)
        } catch {
            return ChatCompletionsResponder.error(
                .contentTooLarge, message: "Request body larger than \(ChatCompletionsResponder.maxBodyBytes) bytes.",
                type: "invalid_request_error", code: "request_too_large")
        }
        let received = MonotonicServerClock.now()
        let seconds: Double
        do {
            seconds = try speaker.audioSeconds(
                body: Array(body.readableBytesView), contentType: request.headers[.contentType])
        } catch {
            return ChatCompletionsResponder.error(
                .badRequest, message: "\(error.message).", type: "invalid_request_error", code: "invalid_value")
        }
        let path = speaker.dialect.path
        let plan = options.plan(profile, sequence: log.nextSequence(for: "profile " + path), audioSeconds: seconds)
        let id = Wire.id("resp_")
        log.record(
            ServerLog.Answer(
                id: id, transport: "sse", target: target, sequence: sequence,
                connection: log.connectionNumber(of: context.channel),
                fault: options.fault(forRequest: sequence)?.rawValue, plan: plan, conversationItems: nil, metadata: nil,
                requestCompleteNs: received, firstAudioSentNs: nil))
        let firstAudioAt = received + Int64(plan.totalMs * 1_000_000)
        let (speaker, profile, log) = (self.speaker, self.profile, self.log)
        let noAudio = options.fault(forRequest: sequence) == .noAudio
        return Response(
            status: .ok, headers: [.contentType: "text/event-stream; charset=utf-8", .cacheControl: "no-cache"],
            body: ResponseBody { writer in
                func send(_ message: (event: String?, text: String)) async throws {
                    var frame = message.event.map { "event: \($0)\n" } ?? ""
                    for line in message.text.split(separator: "\n", omittingEmptySubsequences: false) {
                        frame += "data: \(line)\n"
                    }
                    try await writer.write(ByteBuffer(string: frame + "\n"))
                }
                let events = speaker.dialect.events
                if let started = events.started.first { try await send(DialectSpeaker.message(for: started, id: id)) }
                try await MonotonicServerClock.sleep(until: firstAudioAt)
                var audioEvents = 0
                for (index, delta) in speaker.deltas.enumerated() {
                    try await MonotonicServerClock.sleep(
                        until: firstAudioAt + Int64(index) * profile.answer.deltaIntervalNs)
                    if let rule = events.transcript.first, !speaker.transcript[index].isEmpty {
                        try await send(DialectSpeaker.message(for: rule, id: id, payload: speaker.transcript[index]))
                    }
                    guard !noAudio, case .base64(let payload) = delta, let rule = events.audio.first else { continue }
                    try await send(DialectSpeaker.message(for: rule, id: id, payload: payload))
                    audioEvents += 1
                    if index == 0 { log.firstAudioSent(answer: id, at: MonotonicServerClock.now()) }
                }
                log.audioSent(answer: id, events: audioEvents)
                if let end = events.end.first { try await send(DialectSpeaker.message(for: end, id: id)) }
                try await writer.finish(nil)
            })
    }
}

/// A WebSocket dialect file served at its `path`: the set-up messages acknowledged with the
/// file's `ready` message, audio taken as the file sends it (binary, or its JSON/text
/// template), and on its last end-of-speech message the answer — audio as binary messages
/// (`events.binary`) or the audio rule's messages, then the end message.
struct DialectWebSocketSession: Sendable {
    let speaker: DialectSpeaker
    let profile: DeploymentProfile
    let options: RequestOptions
    let target: String
    let channel: any Channel
    let log: ServerLog

    func run(inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter) async throws {
        let dialect = speaker.dialect
        let connection = log.connectionNumber(of: channel)
        log.openConnection(connection, target: target)
        var setupLeft = dialect.setup.count
        let audio = Matcher(dialect.audioMessage)
        let end = dialect.endOfSpeech.last.flatMap { Matcher($0) }
        var audioBytes = 0
        try await withThrowingTaskGroup(of: Void.self) { group in
            for try await message in inbound.messages(maxSize: 32 << 20) {
                let received = MonotonicServerClock.now()
                switch message {
                case .binary(let buffer):
                    log.clientMessage("binary", on: connection, at: received)
                    if case .binaryAudio = dialect.audioMessage { audioBytes += buffer.readableBytes }
                    continue
                case .text(let text):
                    if setupLeft > 0 {
                        setupLeft -= 1
                        log.clientMessage("setup", on: connection, at: received)
                        if setupLeft == 0, let ready = dialect.ready.first {
                            try await outbound.write(
                                .text(DialectSpeaker.message(for: ready, id: Wire.id("sess_")).text))
                        }
                        continue
                    }
                    if audio?.matches(text) == true {
                        log.clientMessage("audio", on: connection, at: received)
                        audioBytes += 1
                        continue
                    }
                    guard let end, end.matches(text) else {
                        log.clientMessage("other", on: connection, at: received)
                        continue
                    }
                    log.clientMessage("end_of_speech", on: connection, at: received)
                    guard audioBytes > 0 else { continue }
                    audioBytes = 0
                    let sequence = log.nextSequence(for: target)
                    let plan = options.plan(
                        profile, sequence: log.nextSequence(for: "profile " + dialect.path), audioSeconds: 0)
                    let id = Wire.id("resp_")
                    log.record(
                        ServerLog.Answer(
                            id: id, transport: "websocket", target: target, sequence: sequence, connection: connection,
                            fault: nil, plan: plan, conversationItems: nil, metadata: nil, requestCompleteNs: received,
                            firstAudioSentNs: nil))
                    let firstAudioAt = received + Int64(plan.totalMs * 1_000_000)
                    group.addTask { [speaker, profile, log] in
                        let events = speaker.dialect.events
                        if let started = events.started.first {
                            try await outbound.write(.text(DialectSpeaker.message(for: started, id: id).text))
                        }
                        try await MonotonicServerClock.sleep(until: firstAudioAt)
                        var audioEvents = 0
                        for (index, delta) in speaker.deltas.enumerated() {
                            try await MonotonicServerClock.sleep(
                                until: firstAudioAt + Int64(index) * profile.answer.deltaIntervalNs)
                            if let rule = events.transcript.first, !speaker.transcript[index].isEmpty {
                                try await outbound.write(
                                    .text(
                                        DialectSpeaker.message(for: rule, id: id, payload: speaker.transcript[index])
                                            .text))
                            }
                            switch delta {
                            case .binary(let bytes): try await outbound.write(.binary(ByteBuffer(bytes: bytes)))
                            case .base64(let payload):
                                guard let rule = events.audio.first else { continue }
                                try await outbound.write(
                                    .text(DialectSpeaker.message(for: rule, id: id, payload: payload).text))
                            }
                            audioEvents += 1
                            if index == 0 { log.firstAudioSent(answer: id, at: MonotonicServerClock.now()) }
                        }
                        log.audioSent(answer: id, events: audioEvents)
                        if let rule = events.end.first {
                            try await outbound.write(.text(DialectSpeaker.message(for: rule, id: id).text))
                        }
                    }
                }
            }
            group.cancelAll()
        }
    }

    /// Tells a client message of one template from others: JSON templates by their fixed
    /// values, text templates by their literal text around the placeholders.
    struct Matcher: Sendable {
        let json: TemplateValue?
        let pattern: String?

        init?(_ outgoing: DialectFile.Outgoing?) {
            switch outgoing {
            case .json(let value):
                json = value
                pattern = nil
            case .text(let template):
                json = nil
                pattern =
                    "^"
                    + template.pieces.map { piece in
                        switch piece {
                        case .literal(let text): NSRegularExpression.escapedPattern(for: text)
                        case .placeholder: "[\\s\\S]*?"
                        }
                    }.joined() + "$"
            default:
                return nil
            }
        }

        func matches(_ text: String) -> Bool {
            if let json {
                guard let value = try? JSONSerialization.jsonObject(with: Data(text.utf8)) else { return false }
                return json.matches(value)
            }
            guard let pattern else { return false }
            return text.range(of: pattern, options: .regularExpression) != nil
        }
    }
}
