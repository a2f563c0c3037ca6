import DialectSpec
import Foundation

/// Reads a server's messages the way a dialect file's `events` say: which carry audio (and in
/// what format), transcript, the start and end of the answer, errors.
///
/// Trust rules, as for the built-in dialects: audio counts only after the end of speech and
/// until the answer's end; when the rules give a response id, the first one seen (a `started`
/// event, or the first audio) binds the turn, and audio or an end of any other id is an anomaly,
/// never the turn's. An answer that ends without one matching audio event is `no_audio`, and
/// its message lists the events that did arrive — the usual sign of a rule that matches
/// nothing.
package struct DialectInterpreter: EventInterpreter {
    package let file: DialectFile
    private let needsJSON: Bool
    private var turnActive = false
    private var responseID: String?
    private var audioEvents = 0
    /// Names of the messages seen this turn, in first-seen order, with counts.
    private var seen: [(name: String, count: Int)] = []

    package init(_ file: DialectFile) {
        self.file = file
        let e = file.events
        needsJSON = (e.audio + e.transcript + e.started + e.end + e.error).contains(where: \.needsJSON)
    }

    package mutating func beginTurn(_ turn: Int) {
        turnActive = false
        responseID = nil
        audioEvents = 0
        seen = []
    }

    package mutating func interpret(_ event: TransportEvent) -> [TransportEvent] {
        switch event {
        case .speechEnd:
            turnActive = true
            return []
        case .sse(let sse):
            return message(event: sse.type, text: sse.data)
        case .webSocketMessage(.text(let text)):
            return message(event: nil, text: text)
        case .webSocketMessage(.binary(let bytes)):
            return binary(bytes)
        case .transferEnd(_, nil):
            guard turnActive else { return [] }
            turnActive = false
            if audioEvents == 0 { return [noAudio("the response ended")] }
            if file.events.end.isEmpty { return [.turnEnd] }
            return [
                .failure(
                    TransportError(
                        .closed, "the SSE stream ended before an end event (\(Self.describe(file.events.end)))"))
            ]
        case .webSocketClose(let code, let reason, .server):
            guard turnActive else { return [] }
            turnActive = false
            let closeText =
                "close code \(code.map(String.init) ?? "none")\(reason.isEmpty ? "" : ", \"\(excerpt(reason))\"")"
            return [
                .failure(
                    TransportError(
                        .closed, "the server closed the WebSocket (\(closeText)) before the answer was complete"))
            ]
        case .failure, .transferEnd:
            turnActive = false
            return []
        default:
            return []
        }
    }

    // MARK: messages

    private mutating func message(event name: String?, text: String) -> [TransportEvent] {
        let json = needsJSON ? jsonValue(text) : nil
        let label: String
        if let name, name != "message" {
            label = name
        } else if let object = json as? [String: Any],
            let type = (object["type"] ?? object["event"] ?? object["object"]) as? String
        {
            label = type
        } else if json != nil {
            label = "JSON without \"type\""
        } else {
            label = text.count <= 24 ? "\"\(excerpt(text))\"" : (name == nil ? "text message" : "data that is not JSON")
        }
        note(label)

        var events: [TransportEvent] = []
        let e = file.events
        for rule in e.error where rule.applies(event: name, text: text, json: json) {
            let message = json.flatMap { rule.path?.value(in: $0) }.map { $0 as? String ?? "\($0)" } ?? excerpt(text)
            let code = json.flatMap { rule.code?.value(in: $0) }.map { $0 as? String ?? "\($0)" }
            events.append(.serverError(message: message, code: code))
            if rule.fatal && turnActive {
                turnActive = false
                events.append(
                    .failure(TransportError(.serverError, "the server reported an error (\(label)): \(message)")))
            }
            return events
        }
        for rule in e.audio where rule.applies(event: name, text: text, json: json) {
            guard let json, let payload = rule.path.flatMap({ $0.value(in: json) }) else {
                if rule.discriminates {
                    return events
                        + protocolFailure("\(label) matches an audio rule but has nothing at \(rule.path!.description)")
                }
                continue
            }
            guard let base64 = payload as? String else {
                return events + protocolFailure("\(label): \(rule.path!.description) is not a base64 string")
            }
            if base64.isEmpty { break }
            guard let data = Data(base64Encoded: base64) else {
                return events + protocolFailure("\(label): \(rule.path!.description) is not base64")
            }
            let bytes: Int
            if rule.format?.encoding == .wav {
                do {
                    bytes = try WAVContainer.parse(Array(data)).pcm16At24kBytes
                } catch {
                    return events
                        + protocolFailure(
                            "\(label): the audio at \(rule.path!.description) should be a WAV file: \(error.description)"
                        )
                }
            } else {
                bytes = (rule.format ?? .pcm16At24k).pcm16At24kBytes(forEncodedBytes: data.count)
            }
            let id = rule.responseID.flatMap { $0.string(in: json) }
            events += audio(bytes: bytes, id: id, label: label)
            break
        }
        if turnActive, let json {
            for rule in e.transcript where rule.applies(event: name, text: text, json: json) {
                if let words = rule.path?.string(in: json), !words.isEmpty { events.append(.transcript(words)) }
                break
            }
        }
        for rule in e.started where rule.applies(event: name, text: text, json: json) {
            let id = json.flatMap { rule.responseID?.string(in: $0) }
            guard turnActive else {
                events.append(
                    .anomaly(
                        "\(label) started an answer\(id.map { " (\($0))" } ?? "") while this turn expected none; its audio is not counted"
                    ))
                break
            }
            if let id {
                if responseID == nil {
                    responseID = id
                    events.append(.responseStarted(id: id))
                } else if id != responseID {
                    events.append(
                        .anomaly("a second answer (\(id)) started during the turn; only \(responseID!) counts"))
                }
            }
            break
        }
        for rule in e.end where rule.applies(event: name, text: text, json: json) {
            let id = json.flatMap { rule.responseID?.string(in: $0) }
            if let id, let responseID, id != responseID {
                events.append(.responseDone(id: id))
                break
            }
            guard turnActive else { break }
            turnActive = false
            if id != nil { events.append(.responseDone(id: id)) }
            events.append(audioEvents > 0 ? .turnEnd : noAudio("\(label) ended the answer"))
            break
        }
        return events
    }

    private mutating func binary(_ bytes: [UInt8]) -> [TransportEvent] {
        note("binary message")
        guard let format = file.events.binaryAudio else { return [] }
        guard !bytes.isEmpty else { return [] }
        return audio(bytes: format.pcm16At24kBytes(forEncodedBytes: bytes.count), id: nil, label: "a binary message")
    }

    private mutating func audio(bytes: Int, id: String?, label: String) -> [TransportEvent] {
        guard turnActive else {
            return [
                .anomaly(
                    "audio (\(label)\(id.map { ", answer \($0)" } ?? "")) arrived while this turn expected none (before its end of speech, or after its answer); not counted"
                )
            ]
        }
        var events: [TransportEvent] = []
        if let id {
            if responseID == nil {
                responseID = id
                events.append(.responseStarted(id: id))
            } else if id != responseID {
                return [.anomaly("audio of answer \(id) arrived during this turn's answer \(responseID!); not counted")]
            }
        }
        audioEvents += 1
        if bytes > 0 { events.append(.audio(bytes: bytes, response: responseID)) }
        return events
    }

    private mutating func note(_ label: String) {
        if let index = seen.firstIndex(where: { $0.name == label }) {
            seen[index].count += 1
        } else if seen.count < 40 {
            seen.append((label, 1))
        }
    }

    private func noAudio(_ how: String) -> TransportEvent {
        let names = seen.isEmpty ? "none" : seen.map { "\($0.name) ×\($0.count)" }.joined(separator: ", ")
        let rules = file.events.audio.isEmpty ? "binary messages" : Self.describe(file.events.audio)
        return .failure(
            TransportError(
                .noAudio,
                "\(how) without audio: no message matched dialect \"\(file.name)\"'s audio rules (\(rules)); messages seen: \(names)"
            ))
    }

    private mutating func protocolFailure(_ message: String) -> [TransportEvent] {
        turnActive = false
        return [.failure(TransportError(.protocol, "dialect \"\(file.name)\": \(message)"))]
    }

    /// Rules in one line: `event "audio", path data.audio; data "[DONE]"`.
    package static func describe(_ rules: [EventRule]) -> String {
        rules.map { rule in
            var parts: [String] = []
            if let event = rule.event { parts.append("event \"\(event)\"") }
            if let data = rule.data { parts.append("data \"\(data)\"") }
            for (path, values) in rule.match {
                parts.append("\(path) = \(values.map(\.description).joined(separator: " or "))")
            }
            for path in rule.has { parts.append("has \(path)") }
            if let path = rule.path { parts.append("path \(path)") }
            return parts.joined(separator: ", ")
        }.joined(separator: "; ")
    }
}
