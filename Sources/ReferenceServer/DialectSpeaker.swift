import DialectSpec
import Foundation

/// What the reference server needs to speak a dialect file as a server: the answer's messages
/// built from the file's own rules (each rule's `match` values, its response id, its payload at
/// its path — the inverse of how a client reads them), and the request's audio found where the
/// file's template puts it.
struct DialectSpeaker: Sendable {
    let dialect: DialectFile
    /// Audio deltas as the answer carries them: base64 text for a JSON audio rule, raw bytes for
    /// binary WebSocket messages.
    let deltas: [Delta]
    let transcript: [String]

    enum Delta: Sendable {
        case base64(String)
        case binary([UInt8])
    }

    /// Whether the answer's audio goes out as binary WebSocket messages.
    var binaryAudio: Bool { dialect.transport == .websocket && dialect.events.binaryAudio != nil }

    init(dialect: DialectFile, pacing: AnswerPacing) {
        self.dialect = dialect
        if dialect.transport == .websocket, let format = dialect.events.binaryAudio {
            let (pcm, words) = SyntheticAnswer.make(pacing: pacing, sampleRate: format.rate)
            deltas = pcm.map { .binary(format.encoding == .mulaw ? G711.encode(pcm16: $0) : $0) }
            transcript = words
        } else {
            let format = dialect.events.audio.first?.format ?? .pcm16At24k
            let rate = format.encoding == .wav ? 24_000 : format.rate
            let (pcm, words) = SyntheticAnswer.make(pacing: pacing, sampleRate: rate)
            deltas = pcm.map { delta in
                let bytes: [UInt8]
                switch format.encoding {
                case .pcm16: bytes = delta
                case .mulaw: bytes = G711.encode(pcm16: delta)
                case .wav: bytes = WAVContainer.encode(delta, format: AudioFormat(.pcm16, rate: rate))
                }
                return .base64(Data(bytes).base64EncodedString())
            }
            transcript = words
        }
    }

    // MARK: answer messages

    /// A message the rule would read: its event name (SSE) and its text.
    static func message(for rule: EventRule, id: String, payload: String? = nil) -> (event: String?, text: String) {
        if let data = rule.data { return (rule.event, data) }
        var object: Any = [String: Any]()
        for (path, values) in rule.match where !values.isEmpty {
            object = path.setting(values[0].jsonValue, in: object)
        }
        if let path = rule.responseID { object = path.setting(id, in: object) }
        for path in rule.has where path.value(in: object) == nil { object = path.setting(id, in: object) }
        if let payload, let path = rule.path { object = path.setting(payload, in: object) }
        let data =
            (try? JSONSerialization.data(withJSONObject: object, options: [.withoutEscapingSlashes])) ?? Data("{}".utf8)
        return (rule.event, String(decoding: data, as: UTF8.self))
    }

    // MARK: request audio

    struct Problem: Error {
        var message: String
    }

    /// Seconds of audio in an SSE request's body, found where the dialect's template puts it
    /// (0 for a dialect that sends none, such as text-to-speech).
    func audioSeconds(body: [UInt8], contentType: String?) throws(Problem) -> Double {
        guard let request = dialect.request else { return 0 }
        switch request.body {
        case .none:
            return 0
        case .json(let template):
            guard let object = try? JSONSerialization.jsonObject(with: Data(body)) else {
                throw Problem(message: "the body is not JSON (dialect \(dialect.name) sends a JSON body)")
            }
            guard template.matches(object) else {
                throw Problem(
                    message:
                        "the JSON body does not have the shape of dialect \(dialect.name)'s request.json (a fixed value differs or is missing)"
                )
            }
            guard
                let (path, string) = template.placeholders().first(where: {
                    $0.string.placeholders.contains(where: \.isAudio)
                })
            else { return 0 }
            guard let text = JSONPath(steps: path).string(in: object) else {
                throw Problem(
                    message: "the body has no audio at \(JSONPath(steps: path)) (dialect \(dialect.name) puts it there)"
                )
            }
            let (placeholder, inner) = Self.strip(text, template: string)
            guard let data = Data(base64Encoded: inner) else {
                throw Problem(message: "the audio at \(JSONPath(steps: path)) is not base64")
            }
            return try seconds(Array(data), as: placeholder)
        case .raw(let template):
            guard let placeholder = template.sole, placeholder.isAudio else { return 0 }
            return try seconds(body, as: placeholder)
        case .multipart(let parts):
            guard let part = parts.first(where: { $0.value.placeholders.contains(where: \.isAudio) }) else { return 0 }
            guard
                let boundary = contentType?.components(separatedBy: "boundary=").last?.trimmingCharacters(
                    in: CharacterSet(charactersIn: "\" ")), contentType?.contains("boundary=") == true
            else {
                throw Problem(message: "a multipart body needs Content-Type: multipart/form-data; boundary=…")
            }
            guard let bytes = Self.multipartPart(body, boundary: boundary, name: part.name) else {
                throw Problem(message: "the multipart body has no part named \"\(part.name)\"")
            }
            var placeholder = part.value.sole ?? .audioRaw
            var data = bytes
            if placeholder == .audioBase64 || placeholder == .audioWAVBase64 {
                guard let decoded = Data(base64Encoded: String(decoding: bytes, as: UTF8.self)) else {
                    throw Problem(message: "part \"\(part.name)\" is not base64")
                }
                data = Array(decoded)
                placeholder = placeholder == .audioBase64 ? .audioRaw : .audioWAV
            }
            return try seconds(data, as: placeholder)
        }
    }

    private func seconds(_ bytes: [UInt8], as placeholder: Placeholder) throws(Problem) -> Double {
        switch placeholder {
        case .audioWAV, .audioWAVBase64:
            do {
                let info = try WAVContainer.parse(bytes)
                return Double(info.data.count / max(1, info.channels)) / Double(info.format.bytesPerSecond)
            } catch {
                throw Problem(message: "the audio is not a WAV file ttfa reads: \(error.description)")
            }
        default:
            guard !bytes.isEmpty else { throw Problem(message: "the request carries no audio") }
            return Double(bytes.count) / Double(dialect.input.bytesPerSecond)
        }
    }

    /// The placeholder a template string holds, and `text` without the template's literal text
    /// around it ("data:audio/wav;base64,{{audio.wav.base64}}").
    static func strip(_ text: String, template: TemplateString) -> (Placeholder, String) {
        var inner = Substring(text)
        var placeholder = Placeholder.audioBase64
        var beforeAudio = true
        for piece in template.pieces {
            switch piece {
            case .literal(let literal):
                if beforeAudio, inner.hasPrefix(literal) { inner = inner.dropFirst(literal.count) }
                if !beforeAudio, inner.hasSuffix(literal) { inner = inner.dropLast(literal.count) }
            case .placeholder(let p):
                if p.isAudio {
                    placeholder = p
                    beforeAudio = false
                }
            }
        }
        return (placeholder, String(inner))
    }

    /// The bytes of the multipart part named `name`.
    static func multipartPart(_ body: [UInt8], boundary: String, name: String) -> [UInt8]? {
        let delimiter = Array("--\(boundary)".utf8)
        var starts: [Int] = []
        var i = 0
        while i + delimiter.count <= body.count {
            if body[i] == delimiter[0], Array(body[i..<i + delimiter.count]) == delimiter {
                starts.append(i)
                i += delimiter.count
            } else {
                i += 1
            }
        }
        for (index, start) in starts.enumerated() where index + 1 < starts.count {
            let part = Array(body[(start + delimiter.count)..<starts[index + 1]])
            guard let split = Self.find([13, 10, 13, 10], in: part) else { continue }
            let head = String(decoding: part[..<split], as: UTF8.self)
            guard head.contains("name=\"\(name)\"") else { continue }
            var content = Array(part[(split + 4)...])
            if content.suffix(2) == [13, 10] { content.removeLast(2) }
            return content
        }
        return nil
    }

    static func find(_ needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard haystack.count >= needle.count else { return nil }
        for i in 0...(haystack.count - needle.count)
        where haystack[i] == needle[0] && Array(haystack[i..<i + needle.count]) == needle { return i }
        return nil
    }
}
