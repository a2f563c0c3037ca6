import Foundation

/// A value a dialect file fills in for each request or message: `{{audio.wav.base64}}`,
/// `{{audio.rate}}`, `{{turn}}` …
package enum Placeholder: String, Sendable, CaseIterable {
    /// The audio in the dialect's input format, base64 (SSE: the whole recording; WebSocket:
    /// the chunk).
    case audioBase64 = "audio.base64"
    /// A WAV file of the recording in the input format, base64.
    case audioWAVBase64 = "audio.wav.base64"
    /// The WAV file's bytes — a whole body or multipart part only.
    case audioWAV = "audio.wav"
    /// The raw audio bytes in the input format — a whole body, part or binary message only.
    case audioRaw = "audio.raw"
    /// The input sample rate (a number).
    case audioRate = "audio.rate"
    /// "pcm16" or "mulaw".
    case audioEncoding = "audio.encoding"
    /// The audio's duration in whole milliseconds (a number).
    case audioDurationMs = "audio.duration_ms"
    /// The turn's number (a number; unique within a run's connection).
    case turn
    /// `--ws-model` / `--sse-model`, or the dialect's `defaults.model`.
    case model
    /// `--ws-voice` / `--sse-voice`, or the dialect's `defaults.voice`.
    case voice

    /// Carries the audio itself.
    package var isAudio: Bool { [.audioBase64, .audioWAVBase64, .audioWAV, .audioRaw].contains(self) }
    /// Bytes, not text: only a whole body, part or message.
    package var isBinary: Bool { self == .audioWAV || self == .audioRaw }
    /// Stands alone as a JSON number.
    package var isNumber: Bool { self == .audioRate || self == .audioDurationMs || self == .turn }

    package static var names: String { allCases.map { "{{\($0.rawValue)}}" }.joined(separator: ", ") }
}

/// Text with placeholders.
package struct TemplateString: Sendable, Hashable {
    package enum Piece: Sendable, Hashable {
        case literal(String)
        case placeholder(Placeholder)
    }

    package var pieces: [Piece]

    package struct UnknownPlaceholder: Error {
        package var name: String
    }

    /// Parses `{{name}}` placeholders (spaces inside the braces allowed).
    package init(parsing text: String) throws(UnknownPlaceholder) {
        var pieces: [Piece] = []
        var rest = Substring(text)
        while let open = rest.range(of: "{{") {
            guard let close = rest[open.upperBound...].range(of: "}}") else { break }
            if open.lowerBound > rest.startIndex { pieces.append(.literal(String(rest[..<open.lowerBound]))) }
            let name = rest[open.upperBound..<close.lowerBound].trimmingCharacters(in: .whitespaces)
            guard let placeholder = Placeholder(rawValue: name) else { throw UnknownPlaceholder(name: name) }
            pieces.append(.placeholder(placeholder))
            rest = rest[close.upperBound...]
        }
        if !rest.isEmpty { pieces.append(.literal(String(rest))) }
        self.pieces = pieces
    }

    package init(literal: String) { pieces = literal.isEmpty ? [] : [.literal(literal)] }

    package var placeholders: [Placeholder] {
        pieces.compactMap { if case .placeholder(let p) = $0 { p } else { nil } }
    }

    /// The one placeholder this string is made of, if it is exactly one.
    package var sole: Placeholder? {
        if pieces.count == 1, case .placeholder(let p) = pieces[0] { return p }
        return nil
    }

    /// The text with no placeholders, if it has none.
    package var literalText: String? {
        placeholders.isEmpty ? pieces.map { if case .literal(let t) = $0 { t } else { "" } }.joined() : nil
    }

    /// The filled-in bytes (binary placeholders as raw bytes).
    package func render(_ context: TemplateContext) -> [UInt8] {
        var out: [UInt8] = []
        for piece in pieces {
            switch piece {
            case .literal(let text): out.append(contentsOf: text.utf8)
            case .placeholder(let p): out.append(contentsOf: context.bytes(for: p))
            }
        }
        return out
    }
}

/// A JSON value whose strings may hold placeholders, keys in the file's order.
package indirect enum TemplateValue: Sendable, Hashable {
    case string(TemplateString)
    /// A number, as written.
    case number(String)
    case bool(Bool)
    case null
    case array([TemplateValue])
    case object([Member])

    package struct Member: Sendable, Hashable {
        package var key: String
        package var value: TemplateValue
        package init(key: String, value: TemplateValue) {
            self.key = key
            self.value = value
        }
    }

    /// Every placeholder, with the JSON path where it sits.
    package func placeholders(at path: [JSONPath.Step] = []) -> [(path: [JSONPath.Step], string: TemplateString)] {
        switch self {
        case .string(let s): return s.placeholders.isEmpty ? [] : [(path, s)]
        case .array(let items): return items.enumerated().flatMap { $1.placeholders(at: path + [.index($0)]) }
        case .object(let members): return members.flatMap { $0.value.placeholders(at: path + [.key($0.key)]) }
        default: return []
        }
    }

    /// Serialized as JSON in the file's key order; a string that is one numeric placeholder
    /// (`"{{audio.rate}}"`) becomes a number. Audio is spliced in as it is (base64 needs no
    /// escaping), so the cost is the encoding a client cannot avoid.
    package func renderJSON(_ context: TemplateContext) -> [UInt8] {
        var out: [UInt8] = []
        write(into: &out, context)
        return out
    }

    private func write(into out: inout [UInt8], _ context: TemplateContext) {
        switch self {
        case .string(let s):
            if let p = s.sole, p.isNumber {
                out.append(contentsOf: context.bytes(for: p))
                return
            }
            out.append(UInt8(ascii: "\""))
            for piece in s.pieces {
                switch piece {
                case .literal(let text): JSONText.escape(text, into: &out)
                case .placeholder(let p):
                    if p == .audioBase64 || p == .audioWAVBase64 {
                        out.append(contentsOf: context.bytes(for: p))
                    } else {
                        JSONText.escape(String(decoding: context.bytes(for: p), as: UTF8.self), into: &out)
                    }
                }
            }
            out.append(UInt8(ascii: "\""))
        case .number(let text):
            out.append(contentsOf: text.utf8)
        case .bool(let value):
            out.append(contentsOf: (value ? "true" : "false").utf8)
        case .null:
            out.append(contentsOf: "null".utf8)
        case .array(let items):
            out.append(UInt8(ascii: "["))
            for (index, item) in items.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                item.write(into: &out, context)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let members):
            out.append(UInt8(ascii: "{"))
            for (index, member) in members.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                out.append(UInt8(ascii: "\""))
                JSONText.escape(member.key, into: &out)
                out.append(contentsOf: "\":".utf8)
                member.value.write(into: &out, context)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    /// Whether a received JSON value has this template's shape: every literal leaf (a string
    /// without placeholders, a number, a boolean) equal at the same place. Placeholders and
    /// members the template does not name match anything. (The server tells messages apart
    /// this way.)
    package func matches(_ value: Any?) -> Bool {
        switch self {
        case .string(let s):
            guard let text = s.literalText else { return value != nil }
            return value as? String == text
        case .number(let text):
            guard let number = value as? NSNumber, !(value is Bool) || text == "0" || text == "1" else { return false }
            return Double(text).map { $0 == number.doubleValue } ?? false
        case .bool(let flag):
            return value as? Bool == flag
        case .null:
            return value == nil || value is NSNull
        case .array(let items):
            guard let array = value as? [Any], array.count >= items.count else { return false }
            return zip(items, array).allSatisfy { $0.matches($1) }
        case .object(let members):
            guard let object = value as? [String: Any] else { return false }
            return members.allSatisfy { $0.value.matches(object[$0.key]) }
        }
    }
}

/// What placeholders are filled with.
package struct TemplateContext: Sendable {
    /// The audio in `format` (SSE: the recording; WebSocket: a chunk).
    package var audio: [UInt8]
    package var format: AudioFormat
    package var turn: Int
    package var model: String
    package var voice: String

    package init(
        audio: [UInt8] = [], format: AudioFormat = .pcm16At24k, turn: Int = 0, model: String = "", voice: String = ""
    ) {
        self.audio = audio
        self.format = format
        self.turn = turn
        self.model = model
        self.voice = voice
    }

    package func bytes(for placeholder: Placeholder) -> [UInt8] {
        switch placeholder {
        case .audioBase64: Array(Data(audio).base64EncodedData())
        case .audioWAVBase64: Array(Data(WAVContainer.encode(audio, format: format)).base64EncodedData())
        case .audioWAV: WAVContainer.encode(audio, format: format)
        case .audioRaw: audio
        case .audioRate: Array(String(format.rate).utf8)
        case .audioEncoding: Array(format.encoding.rawValue.utf8)
        case .audioDurationMs:
            Array(String(format.bytesPerSecond > 0 ? audio.count * 1000 / format.bytesPerSecond : 0).utf8)
        case .turn: Array(String(turn).utf8)
        case .model: Array(model.utf8)
        case .voice: Array(voice.utf8)
        }
    }
}

/// JSON string escaping (RFC 8259 §7).
package enum JSONText {
    package static func escape(_ text: String, into out: inout [UInt8]) {
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): out.append(contentsOf: [0x5C, 0x22])
            case UInt8(ascii: "\\"): out.append(contentsOf: [0x5C, 0x5C])
            case 0x0A: out.append(contentsOf: [0x5C, UInt8(ascii: "n")])
            case 0x0D: out.append(contentsOf: [0x5C, UInt8(ascii: "r")])
            case 0x09: out.append(contentsOf: [0x5C, UInt8(ascii: "t")])
            case 0..<0x20:
                out.append(contentsOf: Array(String(format: "\\u%04x", Int(byte)).utf8))
            default: out.append(byte)
            }
        }
    }
}
