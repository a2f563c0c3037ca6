import DialectSpec
import VoiceTransport

/// The dialect-file loader (YAML: templates, JSON paths, event rules, audio formats): any text
/// loads or is refused with a message naming the file; a file that loads drives its interpreter.
package enum DialectFileTarget: FuzzTarget {
    package static let name = "dialect-file"
    package static let summary = "DialectFile(yaml:) and the interpreter of what loads"

    package static func run(_ input: [UInt8]) {
        let text = String(decoding: input, as: UTF8.self)
        let file: DialectFile
        do {
            file = try DialectFile(yaml: text, source: "fuzz.yaml")
        } catch {
            require(!error.description.isEmpty, "a refusal without a message")
            return
        }
        var interpreter = DialectInterpreter(file)
        interpreter.beginTurn(1)
        let events: [TransportEvent] = [
            .sse(SSEEvent(type: "message", data: #"{"type":"response.output_audio.delta","delta":"AAAA"}"#)),
            .webSocketMessage(.text(#"{"type":"response.done","response":{"id":"r1"}}"#)),
            .webSocketMessage(.text(#"{"choices":[{"delta":{"audio":{"data":"AAAA","transcript":"hi"}}}]}"#)),
            .sse(SSEEvent(type: "message", data: "[DONE]")),
        ]
        for event in events { _ = interpreter.interpret(event) }
    }
}
