import Foundation

/// Turns a transport's wire events into dialect events (audio, transcript, end of turn,
/// failures). Pure and synchronous; runs on the consumer's side of the event stream, so JSON
/// and base64 decoding never delay the I/O thread's next timestamp.
package protocol EventInterpreter: Sendable {
    /// Returns the dialect events `event` implies, in order; they carry `event`'s timestamp.
    mutating func interpret(_ event: TransportEvent) -> [TransportEvent]
    /// Forgets everything about the previous turn; `turn` is the new one's number.
    mutating func beginTurn(_ turn: Int)
    /// Messages that delete what the last turn added to the conversation; empty by default.
    mutating func cleanupMessages() -> [String]
    /// The same with times: a dialect whose events are judged later than they arrive (WebRTC's
    /// held packets) reports them with their own arrival times. By default the derived events
    /// carry `event`'s time and turn.
    mutating func interpretTimed(_ event: TimedEvent) -> [TimedEvent]
}

extension EventInterpreter {
    package mutating func cleanupMessages() -> [String] { [] }

    package mutating func interpretTimed(_ event: TimedEvent) -> [TimedEvent] {
        interpret(event.event).map { TimedEvent(t: event.t, $0, turn: event.turn) }
    }
}

/// Decodes base64 and returns the byte count, or nil when the text is not base64.
func decodedBase64Count(_ text: String) -> Int? {
    guard let data = Data(base64Encoded: text) else { return nil }
    return data.count
}

/// Parses a JSON object, or nil.
func jsonObject(_ text: String) -> [String: Any]? {
    guard let data = text.data(using: .utf8),
        let object = try? JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed]) as? [String: Any]
    else { return nil }
    return object
}

/// Shortens text for an error message: one line, control characters (CR, ESC, …) removed so
/// a server's answer cannot garble the terminal, at most `limit` characters.
package func excerpt(_ text: String, limit: Int = 120) -> String {
    var flat = ""
    for scalar in text.unicodeScalars {
        switch scalar {
        case "\n": flat += "\\n"
        case "\r", "\t": flat += " "
        default:
            if scalar.properties.generalCategory == .control || scalar.properties.generalCategory == .format {
                continue
            }
            flat.unicodeScalars.append(scalar)
        }
    }
    return flat.count > limit ? String(flat.prefix(limit)) + "…" : flat
}

/// The start of an error response's body as one readable line: an HTML error page (a proxy's)
/// reduced to its text, whitespace and line breaks collapsed, control characters removed.
package func bodyExcerpt(_ text: String, limit: Int = 300) -> String {
    var plain = text
    if plain.range(of: "<html", options: .caseInsensitive) != nil
        || plain.range(of: "<!doctype", options: .caseInsensitive) != nil
    {
        plain = plain.replacingOccurrences(of: "<[^>]*>", with: " ", options: .regularExpression)
    }
    let words = plain.split(whereSeparator: { $0.isWhitespace || $0.isNewline })
    var unique: [Substring] = []
    for word in words where unique.last != word { unique.append(word) }
    return excerpt(unique.joined(separator: " "), limit: limit)
}
