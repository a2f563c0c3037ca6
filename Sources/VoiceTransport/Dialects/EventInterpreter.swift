import Foundation

/// Turns a transport's wire events into dialect events (audio, transcript, end of turn,
/// failures). Pure and synchronous; runs on the consumer's side of the event stream, so JSON
/// and base64 decoding never delay the I/O thread's next timestamp.
public protocol EventInterpreter: Sendable {
    /// Returns the dialect events `event` implies, in order; they carry `event`'s timestamp.
    mutating func interpret(_ event: TransportEvent) -> [TransportEvent]
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

/// Shortens text for an error message.
func excerpt(_ text: String, limit: Int = 120) -> String {
    let flat = text.replacingOccurrences(of: "\n", with: "\\n")
    return flat.count > limit ? String(flat.prefix(limit)) + "…" : flat
}

