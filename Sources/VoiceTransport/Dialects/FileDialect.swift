import DialectSpec
import Foundation

/// What a dialect file's `{{model}}` and `{{voice}}` become, and its header values' `$VAR`s.
package struct FileDialectValues: Sendable {
    package var model: String?
    package var voice: String?
    package var environment: [String: String]

    package init(
        model: String? = nil, voice: String? = nil, environment: [String: String] = ProcessInfo.processInfo.environment
    ) {
        self.model = model
        self.voice = voice
        self.environment = environment
    }
}

extension DialectFile {
    /// `{{model}}` and `{{voice}}`: the command line's, else the file's defaults; an error
    /// when the file uses one that neither gives.
    func resolved(_ values: FileDialectValues, modelFlag: String, voiceFlag: String) throws(TransportError) -> (
        model: String, voice: String
    ) {
        let model = values.model ?? defaultModel
        let voice = values.voice ?? defaultVoice
        if uses(.model), model == nil {
            throw TransportError(
                .input, "\(source): the dialect uses {{model}}; give \(modelFlag) or set defaults.model in the file")
        }
        if uses(.voice), voice == nil {
            throw TransportError(
                .input, "\(source): the dialect uses {{voice}}; give \(voiceFlag) or set defaults.voice in the file")
        }
        return (model ?? "", voice ?? "")
    }
}

/// An SSE dialect read from a file: the request its template describes, the event mapping its
/// rules describe.
package struct FileSSEDialect: SSEDialect {
    package let file: DialectFile
    private let model: String
    private let voice: String
    /// Header lines with `$VAR`s expanded (values may be secrets: never printed or stored).
    private let headers: [(name: String, value: TemplateString)]
    private let boundary: String

    package init(_ file: DialectFile, values: FileDialectValues = FileDialectValues()) throws(TransportError) {
        guard file.transport == .sse, let request = file.request else {
            throw TransportError(
                .input,
                "\(file.source): dialect \"\(file.name)\" is a \(file.transport.rawValue) dialect; --sse-dialect takes an sse one"
            )
        }
        self.file = file
        (model, voice) = try file.resolved(values, modelFlag: "--sse-model", voiceFlag: "--sse-voice")
        var headers: [(String, TemplateString)] = []
        for (name, value) in request.headers {
            var pieces: [TemplateString.Piece] = []
            for piece in value.pieces {
                if case .literal(let text) = piece {
                    do {
                        pieces.append(
                            .literal(
                                try DialectFile.expandEnvironment(
                                    text, field: "request.headers.\(name)", file: file.source,
                                    environment: values.environment)))
                    } catch {
                        throw TransportError(.input, error.description)
                    }
                } else {
                    pieces.append(piece)
                }
            }
            var expanded = TemplateString(literal: "")
            expanded.pieces = pieces
            headers.append((name, expanded))
        }
        self.headers = headers
        boundary = "ttfa-" + String(UInt64.random(in: 1...UInt64.max), radix: 16)
    }

    package var name: String { file.name }
    package var inputFormat: AudioFormat { file.input }

    /// The header values' fixed text after `$VAR` expansion: what a redactor must mask.
    package var headerValues: [String] {
        headers.compactMap { $0.value.literalText }.filter { !$0.isEmpty }
    }

    package func request(audio: [UInt8], turn: Int) -> DialectRequest {
        let context = TemplateContext(audio: audio, format: file.input, turn: turn, model: model, voice: voice)
        let request = file.request!
        var lines = headers.map { "\($0.name): " + String(decoding: $0.value.render(context), as: UTF8.self) }
        let hasContentType = headers.contains { $0.name.lowercased() == "content-type" }
        let body: [UInt8]
        let contentType: String?
        switch request.body {
        case .none:
            body = []
            contentType = nil
        case .json(let template):
            body = template.renderJSON(context)
            contentType = "application/json"
        case .raw(let template):
            body = template.render(context)
            switch template.sole {
            case .audioWAV: contentType = "audio/wav"
            case .audioRaw:
                contentType =
                    file.input.encoding == .mulaw ? "audio/basic" : "audio/L16; rate=\(file.input.rate); channels=1"
            default: contentType = "text/plain; charset=utf-8"
            }
        case .multipart(let parts):
            var out: [UInt8] = []
            for part in parts {
                var head = "--\(boundary)\r\nContent-Disposition: form-data; name=\"\(part.name)\""
                if let filename = part.filename { head += "; filename=\"\(filename)\"" }
                head += "\r\n"
                let type =
                    part.contentType
                    ?? (part.value.sole == .audioWAV
                        ? "audio/wav" : part.value.sole == .audioRaw ? "application/octet-stream" : nil)
                if let type { head += "Content-Type: \(type)\r\n" }
                head += "\r\n"
                out += Array(head.utf8) + part.value.render(context) + Array("\r\n".utf8)
            }
            out += Array("--\(boundary)--\r\n".utf8)
            body = out
            contentType = "multipart/form-data; boundary=\(boundary)"
        }
        if !hasContentType, let contentType { lines.insert("Content-Type: \(contentType)", at: 0) }
        return DialectRequest(method: request.method, headers: lines, body: body)
    }

    package func makeInterpreter() -> any EventInterpreter { DialectInterpreter(file) }
}

/// A WebSocket dialect read from a file.
package struct FileWebSocketDialect: WebSocketDialect {
    package let file: DialectFile
    private let model: String
    private let voice: String

    package init(_ file: DialectFile, values: FileDialectValues = FileDialectValues()) throws(TransportError) {
        guard file.transport == .websocket, file.audioMessage != nil else {
            throw TransportError(
                .input,
                "\(file.source): dialect \"\(file.name)\" is an \(file.transport.rawValue) dialect; --ws-dialect takes a websocket one"
            )
        }
        self.file = file
        (model, voice) = try file.resolved(values, modelFlag: "--ws-model", voiceFlag: "--ws-voice")
    }

    package var name: String { file.name }
    package var inputFormat: AudioFormat { file.input }

    private func message(_ outgoing: DialectFile.Outgoing, _ context: TemplateContext) -> OutgoingMessage {
        switch outgoing {
        case .json(let template): .text(String(decoding: template.renderJSON(context), as: UTF8.self))
        case .text(let template): .text(String(decoding: template.render(context), as: UTF8.self))
        case .binaryAudio: .binary(context.audio)
        }
    }

    package func setupMessages() -> [OutgoingMessage] {
        let context = TemplateContext(format: file.input, model: model, voice: voice)
        return file.setup.map { message($0, context) }
    }

    package var setupAcknowledgement: (@Sendable (String) -> Bool)? {
        guard !file.ready.isEmpty, !file.setup.isEmpty else { return nil }
        let rules = file.ready
        return { text in
            let json = jsonValue(text)
            return rules.contains { $0.applies(event: nil, text: text, json: json) }
        }
    }

    package func audioMessage(_ audio: [UInt8], turn: Int) -> OutgoingMessage {
        message(
            file.audioMessage!,
            TemplateContext(audio: audio, format: file.input, turn: turn, model: model, voice: voice))
    }

    package func endOfSpeechMessages(turn: Int) -> [OutgoingMessage] {
        let context = TemplateContext(format: file.input, turn: turn, model: model, voice: voice)
        return file.endOfSpeech.map { message($0, context) }
    }

    package func makeInterpreter() -> any EventInterpreter { DialectInterpreter(file) }
}

/// Any JSON value, or nil.
func jsonValue(_ text: String) -> Any? {
    guard let first = text.utf8.first(where: { $0 != 0x20 && $0 != 0x0A && $0 != 0x0D && $0 != 0x09 }),
        first == UInt8(ascii: "{") || first == UInt8(ascii: "[")
    else { return nil }
    return try? JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed])
}
