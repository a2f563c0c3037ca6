import Foundation

/// A wire dialect described by a file (YAML or JSON) instead of code: what a client sends and
/// how the answer's events map to audio, transcript, end and errors. `ttfa` speaks it as a
/// client (`--sse-dialect` / `--ws-dialect`) and the reference server speaks it as a server
/// (`ttfa serve --sse-dialect` / `--ws-dialect`). The format is in the README ("Dialect files").
package struct DialectFile: Sendable {
    package enum Transport: String, Sendable { case sse, websocket }

    package var name: String
    package var transport: Transport
    package var description: String?
    /// The file it came from (for messages), and its bytes' SHA-256 (stored with a run).
    package var source: String
    package var sha256: String
    /// The format the endpoint takes.
    package var input: AudioFormat
    /// The endpoint's path, for the reference server (and the embedded one): ttfa serves the
    /// dialect there. An explicit URL is used as it is.
    package var path: String
    /// `{{model}}` and `{{voice}}` when the command line gives none.
    package var defaultModel: String?
    package var defaultVoice: String?

    // SSE
    package var request: Request?

    // WebSocket
    package var setup: [Outgoing] = []
    /// Messages that acknowledge the set-up; empty: audio follows the set-up at once.
    package var ready: [EventRule] = []
    package var audioMessage: Outgoing?
    package var endOfSpeech: [Outgoing] = []

    package var events: EventMapping

    package struct Request: Sendable {
        package var method: String
        /// Header lines, placeholders allowed; `$VAR` already expanded.
        package var headers: [(name: String, value: TemplateString)]
        package var body: Body
    }

    package enum Body: Sendable {
        case none
        case json(TemplateValue)
        case raw(TemplateString)
        case multipart([Part])
    }

    package struct Part: Sendable {
        package var name: String
        package var filename: String?
        package var contentType: String?
        package var value: TemplateString
    }

    /// A message a WebSocket client sends.
    package enum Outgoing: Sendable {
        /// A JSON object, as a text message.
        case json(TemplateValue)
        /// Text as it is.
        case text(TemplateString)
        /// The audio chunk's bytes as a binary message.
        case binaryAudio
    }

    /// Which events mean what. Rules are tried in the order error, audio, transcript, started,
    /// end; a message may be both audio and transcript.
    package struct EventMapping: Sendable {
        package var audio: [EventRule] = []
        /// WebSocket binary messages are audio in this format (nil: binary messages are not audio).
        package var binaryAudio: AudioFormat?
        package var transcript: [EventRule] = []
        package var started: [EventRule] = []
        /// SSE without end rules: the end of the response is the end of the answer.
        package var end: [EventRule] = []
        package var error: [EventRule] = []
    }

    package func uses(_ placeholder: Placeholder) -> Bool { allPlaceholders.contains(placeholder) }

    /// Every placeholder the file uses.
    package var allPlaceholders: Set<Placeholder> {
        var strings: [TemplateString] = []
        func add(_ value: TemplateValue) { strings += value.placeholders().map(\.string) }
        func add(_ outgoing: Outgoing?) {
            switch outgoing {
            case .json(let v): add(v)
            case .text(let s): strings.append(s)
            default: break
            }
        }
        if let request {
            strings += request.headers.map(\.value)
            switch request.body {
            case .json(let v): add(v)
            case .raw(let s): strings.append(s)
            case .multipart(let parts): strings += parts.map(\.value)
            case .none: break
            }
        }
        setup.forEach(add)
        add(audioMessage)
        endOfSpeech.forEach(add)
        return Set(strings.flatMap(\.placeholders))
    }

    /// Whether the request carries the recording (the TTS dialect sends only text).
    package var sendsAudio: Bool {
        transport == .websocket || allPlaceholders.contains(where: \.isAudio)
    }
}

/// One rule of an event mapping: which messages it applies to and where its values are.
package struct EventRule: Sendable {
    /// SSE: the `event:` name ("message" when the event has none).
    package var event: String?
    /// The whole data (SSE) or text message (WebSocket), exactly — e.g. "[DONE]".
    package var data: String?
    /// JSON paths and the values they must have (any of the list).
    package var match: [(path: JSONPath, values: [MatchValue])] = []
    /// JSON paths that must be present and not null.
    package var has: [JSONPath] = []
    /// Audio: the payload; transcript: the text; error: the message.
    package var path: JSONPath?
    /// Audio: the payload's format.
    package var format: AudioFormat?
    /// Error: where its code is.
    package var code: JSONPath?
    /// Where the id of the answer (response) is, to attribute events to it.
    package var responseID: JSONPath?
    /// Error: whether it ends the turn as failed (default true) or is only reported.
    package var fatal = true

    package init() {}

    /// Whether the rule needs the message as JSON.
    package var needsJSON: Bool { !match.isEmpty || !has.isEmpty || path != nil || responseID != nil || code != nil }

    /// Whether a message (its SSE event name, its text, its JSON if it parsed) is one this rule
    /// is about. The payload path is not part of the test.
    package func applies(event name: String?, text: String, json: Any?) -> Bool {
        if let event, event != (name ?? "message") { return false }
        if let data, data != text { return false }
        guard !match.isEmpty || !has.isEmpty else { return true }
        guard let json else { return false }
        for (path, values) in match {
            guard let actual = path.value(in: json), values.contains(where: { $0.equals(actual) }) else { return false }
        }
        for path in has {
            guard let actual = path.value(in: json), !(actual is NSNull) else { return false }
        }
        return true
    }

    /// Whether the rule says which messages it is about (an event name, data or a match), so a
    /// matching message without the payload is malformed rather than simply another message.
    package var discriminates: Bool { event != nil || data != nil || !match.isEmpty || !has.isEmpty }
}

/// A value a `match` compares with.
package enum MatchValue: Sendable, Hashable, CustomStringConvertible {
    case string(String)
    case number(Double)
    case bool(Bool)

    package func equals(_ actual: Any) -> Bool {
        switch self {
        case .string(let s): return actual as? String == s
        case .bool(let b): return (actual as? Bool) == b && !(actual is String)
        case .number(let n):
            if actual is String { return false }
            return (actual as? NSNumber)?.doubleValue == n
        }
    }

    package var jsonValue: Any {
        switch self {
        case .string(let s): s
        case .number(let n): n.rounded() == n && abs(n) < 1e15 ? Int(n) as Any : n as Any
        case .bool(let b): b
        }
    }

    package var description: String {
        switch self {
        case .string(let s): "\"\(s)\""
        case .number(let n): n.rounded() == n ? String(Int(n)) : String(n)
        case .bool(let b): String(b)
        }
    }
}
