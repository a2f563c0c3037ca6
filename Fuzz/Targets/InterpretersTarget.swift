import DialectSpec
import Foundation
import VoiceTransport

/// Every dialect's event interpreter (OpenAI Realtime, Chat Completions audio, and the bundled
/// dialect files read by the generic interpreter) fed a server's events: SSE events, WebSocket
/// text and binary messages, data-channel messages, closes. Input: the first byte picks the
/// interpreter, then events separated by NUL bytes, each starting with a byte that picks its kind.
package enum InterpretersTarget: FuzzTarget {
    package static let name = "interpreters"
    package static let summary = "RealtimeDialect, ChatCompletionsDialect, DialectInterpreter(bundled files)"

    /// The bundled dialect files, read once (`TTFA_FUZZ_DIALECTS`, default: the repository's).
    nonisolated(unsafe) package static var dialects: [DialectFile] = {
        let folder =
            ProcessInfo.processInfo.environment["TTFA_FUZZ_DIALECTS"] ?? "Sources/Replay/Resources/dialects"
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder))?.sorted() ?? []
        return names.filter { $0.hasSuffix(".yaml") }.compactMap {
            try? DialectFile(contentsOf: (folder as NSString).appendingPathComponent($0))
        }
    }()

    static func interpreter(_ choice: UInt8) -> any EventInterpreter {
        let files = dialects
        switch Int(choice) % (2 + files.count) {
        case 0: return RealtimeDialect()
        case 1: return ChatCompletionsDialect()
        case let n: return DialectInterpreter(files[n - 2])
        }
    }

    package static func run(_ input: [UInt8]) {
        guard let choice = input.first else { return }
        var interpreter = interpreter(choice)
        interpreter.beginTurn(1)
        for (index, part) in input.dropFirst().split(separator: 0, omittingEmptySubsequences: false).enumerated() {
            let kind = part.first ?? 0
            let body = String(decoding: part.dropFirst(), as: UTF8.self)
            let event: TransportEvent
            switch kind % 8 {
            case 0, 1:
                let cut = body.firstIndex(of: "\n") ?? body.startIndex
                let type = String(body[..<cut])
                event = .sse(SSEEvent(type: type.isEmpty ? "message" : type, data: String(body[cut...].dropFirst())))
            case 2, 3: event = .webSocketMessage(.text(body))
            case 4: event = .webSocketMessage(.binary(Array(part.dropFirst())))
            case 5: event = .dataChannelMessage(body)
            case 6: event = .httpResponse(status: Int(kind) * 3, contentType: body.isEmpty ? nil : body)
            default: event = .webSocketClose(code: UInt16(kind) * 250, reason: body, by: .server)
            }
            _ = interpreter.interpretTimed(TimedEvent(t: Int64(index) * 1_000_000, event, turn: 1))
            if index % 16 == 15 { interpreter.beginTurn(index / 16 + 2) }
        }
        _ = interpreter.cleanupMessages()
    }
}
