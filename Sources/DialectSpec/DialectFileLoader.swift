import Crypto
import Foundation
import Yams

/// A dialect file that cannot be used: which file, where, which field, and what to do.
package struct DialectFileError: Error, CustomStringConvertible, Sendable {
    package var file: String
    package var line: Int?
    /// The field's path in the file: `events.audio[0].path`.
    package var field: String
    package var message: String

    package var description: String {
        "\(file)\(line.map { ":\($0)" } ?? ""): \(field.isEmpty ? "" : field + ": ")\(message)"
    }
}

extension DialectFile {
    /// Reads and validates a dialect file.
    package init(contentsOf path: String) throws(DialectFileError) {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw DialectFileError(
                file: path, line: nil, field: "",
                message:
                    "no readable file there; give a dialect file (YAML or JSON), or a built-in name from `ttfa dialects`"
            )
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw DialectFileError(
                file: path, line: nil, field: "", message: "not UTF-8 text; a dialect file is YAML or JSON")
        }
        try self.init(yaml: text, source: path, sha256: SHA256Hex.of(Array(data)))
    }

    /// Parses and validates dialect text (YAML or JSON); `source` names it in errors.
    package init(yaml text: String, source: String, sha256: String? = nil) throws(DialectFileError) {
        let loader = Loader(file: source)
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch {
            throw DialectFileError(file: source, line: nil, field: "", message: "not YAML or JSON (\(error))")
        }
        guard let root, let top = root.mapping else {
            throw DialectFileError(
                file: source, line: nil, field: "",
                message:
                    "a dialect file is a mapping with name, transport, events … (see the README's \"Dialect files\")")
        }
        self = try loader.dialect(top, root: root)
        self.sha256 = sha256 ?? SHA256Hex.of(Array(text.utf8))
    }

    /// `text` with `$NAME` / `${NAME}` replaced from the environment (header values: secrets
    /// stay out of the file).
    package static func expandEnvironment(
        _ text: String, field: String, file: String,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws(DialectFileError) -> String {
        var out = ""
        var rest = Substring(text)
        while let dollar = rest.firstIndex(of: "$") {
            out += rest[..<dollar]
            var after = rest[rest.index(after: dollar)...]
            var name: Substring
            if after.hasPrefix("{"), let close = after.firstIndex(of: "}") {
                name = after[after.index(after: after.startIndex)..<close]
                after = after[after.index(after: close)...]
            } else {
                name = after.prefix { $0.isLetter || $0.isNumber || $0 == "_" }
                after = after[name.endIndex...]
            }
            guard !name.isEmpty else {
                out += "$"
                rest = rest[rest.index(after: dollar)...]
                continue
            }
            guard let value = environment[String(name)] else {
                throw DialectFileError(
                    file: file, line: nil, field: field,
                    message:
                        "$\(name) is not set in the environment; export it (its value is sent, never stored or printed)"
                )
            }
            out += value
            rest = after
        }
        return out + rest
    }
}

/// Walks the YAML nodes, checking every key and value and naming the field of each problem.
private struct Loader {
    let file: String

    func fail(_ node: Node?, _ field: String, _ message: String) -> DialectFileError {
        DialectFileError(file: file, line: node?.mark?.line, field: field, message: message)
    }

    func keys(_ mapping: Node.Mapping, _ field: String, allowed: [String]) throws(DialectFileError) -> [String: Node] {
        var out: [String: Node] = [:]
        for (key, value) in mapping {
            guard let name = key.string else { throw fail(key, field, "keys are names") }
            let path = field.isEmpty ? name : "\(field).\(name)"
            guard allowed.contains(name) else {
                throw fail(
                    key, path,
                    "unknown key; \(field.isEmpty ? "a dialect file" : field) takes \(allowed.joined(separator: ", "))")
            }
            out[name] = value
        }
        return out
    }

    func string(_ node: Node?, _ field: String) throws(DialectFileError) -> String? {
        guard let node else { return nil }
        guard case .scalar(let scalar) = node else {
            throw fail(node, field, "expected a text value, found a \(kind(node))")
        }
        return scalar.string
    }

    func int(_ node: Node?, _ field: String, in range: ClosedRange<Int>) throws(DialectFileError) -> Int? {
        guard let text = try string(node, field) else { return nil }
        guard let value = Int(text), range.contains(value) else {
            throw fail(
                node, field,
                "expected a whole number from \(range.lowerBound) to \(range.upperBound), found \"\(text)\"")
        }
        return value
    }

    func bool(_ node: Node?, _ field: String) throws(DialectFileError) -> Bool? {
        guard let text = try string(node, field) else { return nil }
        guard let value = Bool(text) else { throw fail(node, field, "expected true or false, found \"\(text)\"") }
        return value
    }

    func kind(_ node: Node) -> String {
        switch node {
        case .scalar: "value"
        case .mapping: "mapping"
        case .sequence: "list"
        case .alias: "alias"
        }
    }

    func mapping(_ node: Node?, _ field: String, _ what: String) throws(DialectFileError) -> Node.Mapping? {
        guard let node else { return nil }
        guard let mapping = node.mapping else {
            throw fail(node, field, "expected a mapping (\(what)), found a \(kind(node))")
        }
        return mapping
    }

    func path(_ node: Node?, _ field: String) throws(DialectFileError) -> JSONPath? {
        guard let text = try string(node, field) else { return nil }
        do {
            return try JSONPath(text)
        } catch {
            throw fail(node, field, "bad JSON path: \(error.description)")
        }
    }

    func template(_ node: Node?, _ field: String) throws(DialectFileError) -> TemplateString? {
        guard let text = try string(node, field) else { return nil }
        do {
            return try TemplateString(parsing: text)
        } catch {
            throw fail(node, field, "unknown placeholder {{\(error.name)}}; known: \(Placeholder.names)")
        }
    }

    /// A JSON template from YAML: scalars typed as YAML types them (plain `24000` is a number,
    /// `"24000"` a string).
    func value(_ node: Node, _ field: String) throws(DialectFileError) -> TemplateValue {
        switch node {
        case .scalar(let scalar):
            if scalar.style == .plain {
                let text = scalar.string
                if text == "true" || text == "false" { return .bool(text == "true") }
                if text == "null" || text == "~" || text.isEmpty { return .null }
                if Int(text) != nil
                    || (Double(text) != nil
                        && text.range(of: "^-?[0-9]+(\\.[0-9]+)?([eE][+-]?[0-9]+)?$", options: .regularExpression)
                            != nil)
                {
                    return .number(text)
                }
            }
            return .string(try template(node, field)!)
        case .sequence(let items):
            var out: [TemplateValue] = []
            for (index, item) in items.enumerated() { out.append(try value(item, "\(field)[\(index)]")) }
            return .array(out)
        case .mapping(let mapping):
            var members: [TemplateValue.Member] = []
            for (key, item) in mapping {
                guard let name = key.string else { throw fail(key, field, "keys are names") }
                members.append(.init(key: name, value: try value(item, "\(field).\(name)")))
            }
            return .object(members)
        case .alias:
            throw fail(node, field, "YAML aliases are not supported here")
        }
    }

    func format(_ node: Node?, _ field: String, allowWAV: Bool) throws(DialectFileError) -> AudioFormat? {
        guard let node else { return nil }
        guard let map = node.mapping else { throw fail(node, field, "expected a mapping with encoding and rate") }
        let k = try keys(map, field, allowed: ["encoding", "rate"])
        return try audioFormat(encoding: k["encoding"], rate: k["rate"], field, allowWAV: allowWAV)
    }

    func audioFormat(encoding: Node?, rate: Node?, _ field: String, allowWAV: Bool) throws(DialectFileError)
        -> AudioFormat
    {
        let name = try string(encoding, "\(field).encoding") ?? "pcm16"
        let allowed: [AudioEncoding] = allowWAV ? [.pcm16, .mulaw, .wav] : [.pcm16, .mulaw]
        guard let value = AudioEncoding(rawValue: name), allowed.contains(value) else {
            throw fail(
                encoding, "\(field).encoding",
                "\"\(name)\" is not an encoding here; use \(allowed.map(\.rawValue).joined(separator: ", "))")
        }
        let hz = try int(rate, "\(field).rate", in: 8_000...48_000) ?? 24_000
        return AudioFormat(value, rate: hz)
    }

    // MARK: the file

    func dialect(_ top: Node.Mapping, root: Node) throws(DialectFileError) -> DialectFile {
        let k = try keys(
            top, "",
            allowed: [
                "name", "transport", "description", "path", "input", "defaults", "request", "setup", "audio",
                "end_of_speech", "events",
            ])
        guard let name = try string(k["name"], "name"), !name.isEmpty else {
            throw fail(root, "name", "missing; every dialect has a name (stored with each run)")
        }
        guard name.allSatisfy({ $0.isLetter || $0.isNumber || "-_.".contains($0) }) else {
            throw fail(k["name"], "name", "\"\(name)\": use letters, digits, - _ and . only")
        }
        guard let transportName = try string(k["transport"], "transport") else {
            throw fail(root, "transport", "missing; sse or websocket")
        }
        guard let transport = DialectFile.Transport(rawValue: transportName) else {
            throw fail(k["transport"], "transport", "\"\(transportName)\": expected sse or websocket")
        }
        let endpointPath =
            try string(k["path"], "path") ?? (transport == .sse ? "/v1/dialects/\(name)" : "/v1/dialects/\(name)")
        guard endpointPath.hasPrefix("/") else {
            throw fail(k["path"], "path", "\"\(endpointPath)\": a path starts with /")
        }
        var input = AudioFormat.pcm16At24k
        if let map = try mapping(k["input"], "input", "encoding and rate") {
            let i = try keys(map, "input", allowed: ["encoding", "rate"])
            input = try audioFormat(encoding: i["encoding"], rate: i["rate"], "input", allowWAV: false)
        }
        var defaultModel: String?
        var defaultVoice: String?
        if let map = try mapping(k["defaults"], "defaults", "model, voice") {
            let d = try keys(map, "defaults", allowed: ["model", "voice"])
            defaultModel = try string(d["model"], "defaults.model")
            defaultVoice = try string(d["voice"], "defaults.voice")
        }
        guard let eventsNode = k["events"] else {
            throw fail(
                root, "events",
                "missing; say which events carry the audio (events.audio) and which end the answer (events.end)")
        }
        guard let eventsMap = eventsNode.mapping else {
            throw fail(eventsNode, "events", "expected a mapping: audio, end, error …")
        }
        let events = try mapping(eventsMap, transport: transport)

        var dialect = DialectFile(
            name: name, transport: transport, description: try string(k["description"], "description"), source: file,
            sha256: "",
            input: input, path: endpointPath, defaultModel: defaultModel, defaultVoice: defaultVoice, request: nil,
            events: events)
        switch transport {
        case .sse:
            for key in ["setup", "audio", "end_of_speech"] where k[key] != nil {
                throw fail(k[key], key, "a WebSocket key; an sse dialect says what it sends under request")
            }
            guard let requestNode = k["request"] else {
                throw fail(
                    root, "request",
                    "missing; an sse dialect says how its request is built (method, headers, json/body/multipart)")
            }
            dialect.request = try request(requestNode)
        case .websocket:
            if k["request"] != nil {
                throw fail(
                    k["request"], "request",
                    "an sse key; a websocket dialect sends setup, audio and end_of_speech messages")
            }
            if let setupMap = try mapping(k["setup"], "setup", "send, ready") {
                let s = try keys(setupMap, "setup", allowed: ["send", "ready"])
                dialect.setup = try messages(s["send"], "setup.send")
                dialect.ready = try rules(s["ready"], "setup.ready", transport: .websocket, role: .plain)
            }
            guard let audioNode = k["audio"] else {
                throw fail(
                    root, "audio",
                    "missing; say how a chunk of audio is sent: {frame: binary} or {json: {…\"{{audio.base64}}\"…}}")
            }
            dialect.audioMessage = try audioMessage(audioNode)
            if let endMap = try mapping(k["end_of_speech"], "end_of_speech", "send") {
                let e = try keys(endMap, "end_of_speech", allowed: ["send"])
                dialect.endOfSpeech = try messages(e["send"], "end_of_speech.send")
            }
            if events.end.isEmpty {
                throw fail(
                    eventsNode, "events.end",
                    "missing; a WebSocket stays open, so say which message ends the answer (e.g. {match: {type: response.done}})"
                )
            }
        }
        return dialect
    }

    // MARK: requests and messages

    func request(_ node: Node) throws(DialectFileError) -> DialectFile.Request {
        guard let map = node.mapping else {
            throw fail(node, "request", "expected a mapping: method, headers, json | body | multipart")
        }
        let k = try keys(map, "request", allowed: ["method", "headers", "json", "body", "multipart"])
        let method = (try string(k["method"], "request.method") ?? "POST").uppercased()
        guard ["POST", "PUT", "PATCH"].contains(method) else {
            throw fail(
                k["method"], "request.method",
                "\"\(method)\": the recording is sent as a request body, so POST, PUT or PATCH")
        }
        var headers: [(String, TemplateString)] = []
        if let headerNode = k["headers"] {
            switch headerNode {
            case .mapping(let m):
                for (key, value) in m {
                    guard let name = key.string, Self.isToken(name) else {
                        throw fail(key, "request.headers", "\"\(key.string ?? "?")\" is not a header name")
                    }
                    headers.append((name, try template(value, "request.headers.\(name)")!))
                }
            case .sequence(let items):
                for (index, item) in items.enumerated() {
                    let line = try string(item, "request.headers[\(index)]") ?? ""
                    guard let colon = line.firstIndex(of: ":"), Self.isToken(String(line[..<colon])) else {
                        throw fail(item, "request.headers[\(index)]", "\"\(line)\" is not \"Name: value\"")
                    }
                    do {
                        headers.append(
                            (
                                String(line[..<colon]),
                                try TemplateString(
                                    parsing: line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
                            ))
                    } catch {
                        throw fail(
                            item, "request.headers[\(index)]",
                            "unknown placeholder {{\(error.name)}}; known: \(Placeholder.names)")
                    }
                }
            default:
                throw fail(headerNode, "request.headers", "expected a mapping of header names to values")
            }
            for (name, value) in headers where value.placeholders.contains(where: \.isAudio) {
                throw fail(headerNode, "request.headers.\(name)", "a header cannot carry the audio")
            }
        }
        let given = ["json", "body", "multipart"].filter { k[$0] != nil }
        guard given.count <= 1 else {
            throw fail(node, "request", "give one of json, body or multipart, not \(given.joined(separator: " and "))")
        }
        var body = DialectFile.Body.none
        if let json = k["json"] {
            let value = try value(json, "request.json")
            for (path, string) in value.placeholders() where string.placeholders.contains(where: \.isBinary) {
                throw fail(
                    json, "request.json" + Self.describe(path),
                    "{{audio.wav}} and {{audio.raw}} are bytes; inside JSON use {{audio.wav.base64}} or {{audio.base64}}"
                )
            }
            body = .json(value)
        } else if let raw = k["body"] {
            let text = try template(raw, "request.body")!
            if text.placeholders.contains(where: \.isBinary), text.sole == nil {
                throw fail(
                    raw, "request.body", "{{audio.wav}} / {{audio.raw}} must be the whole body (\"{{audio.wav}}\")")
            }
            body = .raw(text)
        } else if let multipart = k["multipart"] {
            guard let items = multipart.sequence, !items.isEmpty else {
                throw fail(
                    multipart, "request.multipart", "expected a list of parts: {name, value, filename?, content_type?}")
            }
            var parts: [DialectFile.Part] = []
            for (index, item) in items.enumerated() {
                let field = "request.multipart[\(index)]"
                guard let m = item.mapping else {
                    throw fail(item, field, "expected a mapping: name, value, filename, content_type")
                }
                let p = try keys(m, field, allowed: ["name", "value", "filename", "content_type"])
                guard let name = try string(p["name"], "\(field).name") else {
                    throw fail(item, "\(field).name", "missing")
                }
                guard let value = try template(p["value"], "\(field).value") else {
                    throw fail(item, "\(field).value", "missing; e.g. \"{{audio.wav}}\" or a text field's value")
                }
                if value.placeholders.contains(where: \.isBinary), value.sole == nil {
                    throw fail(p["value"], "\(field).value", "{{audio.wav}} / {{audio.raw}} must be the whole value")
                }
                parts.append(
                    .init(
                        name: name, filename: try string(p["filename"], "\(field).filename"),
                        contentType: try string(p["content_type"], "\(field).content_type"), value: value))
            }
            body = .multipart(parts)
        }
        return DialectFile.Request(method: method, headers: headers, body: body)
    }

    static func isToken(_ name: String) -> Bool {
        !name.isEmpty
            && name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "!#$%&'*+-.^_`|~".contains($0)) }
    }

    static func describe(_ path: [JSONPath.Step]) -> String {
        path.map { step in
            switch step {
            case .key(let k): ".\(k)"
            case .index(let i): "[\(i)]"
            }
        }.joined()
    }

    func messages(_ node: Node?, _ field: String) throws(DialectFileError) -> [DialectFile.Outgoing] {
        guard let node else { return [] }
        let items = node.sequence.map(Array.init) ?? [node]
        var out: [DialectFile.Outgoing] = []
        for (index, item) in items.enumerated() {
            let itemField = node.sequence == nil ? field : "\(field)[\(index)]"
            let message: DialectFile.Outgoing
            if case .scalar = item {
                message = .text(try template(item, itemField)!)
            } else if item.mapping != nil {
                message = .json(try value(item, itemField))
            } else {
                throw fail(item, itemField, "expected a JSON object (sent as a text message) or a text")
            }
            if Self.placeholders(of: message).contains(where: \.isAudio) {
                throw fail(
                    item, itemField,
                    "only the audio message carries audio; set-up and end-of-speech messages cannot use {{audio.…}}")
            }
            out.append(message)
        }
        return out
    }

    static func placeholders(of message: DialectFile.Outgoing) -> [Placeholder] {
        switch message {
        case .json(let v): v.placeholders().flatMap(\.string.placeholders)
        case .text(let s): s.placeholders
        case .binaryAudio: []
        }
    }

    func audioMessage(_ node: Node) throws(DialectFileError) -> DialectFile.Outgoing {
        guard let map = node.mapping else {
            throw fail(node, "audio", "expected a mapping: {frame: binary}, {json: {…}} or {text: \"…\"}")
        }
        let k = try keys(map, "audio", allowed: ["frame", "json", "text"])
        let given = ["frame", "json", "text"].filter { k[$0] != nil }
        guard given.count == 1 else { throw fail(node, "audio", "give exactly one of frame: binary, json or text") }
        let message: DialectFile.Outgoing
        if let frame = k["frame"] {
            guard try string(frame, "audio.frame") == "binary" else {
                throw fail(
                    frame, "audio.frame",
                    "only \"binary\" (the chunk's bytes as a binary message); for text use json or text")
            }
            return .binaryAudio
        } else if let json = k["json"] {
            message = .json(try value(json, "audio.json"))
        } else {
            message = .text(try template(k["text"], "audio.text")!)
        }
        let used = Self.placeholders(of: message)
        guard used.contains(.audioBase64) else {
            throw fail(
                node, "audio",
                "the audio message must carry the chunk: put \"{{audio.base64}}\" where it goes, or use {frame: binary}"
            )
        }
        if let bad = used.first(where: { $0 == .audioWAV || $0 == .audioRaw || $0 == .audioWAVBase64 }) {
            throw fail(node, "audio", "{{\(bad.rawValue)}} is for a whole request; a chunk is {{audio.base64}}")
        }
        return message
    }

    // MARK: events

    enum Role { case audio, transcript, error, plain }

    func mapping(_ map: Node.Mapping, transport: DialectFile.Transport) throws(DialectFileError)
        -> DialectFile.EventMapping
    {
        let allowed =
            transport == .websocket
            ? ["audio", "binary", "transcript", "started", "end", "error"]
            : ["audio", "transcript", "started", "end", "error"]
        let k = try keys(map, "events", allowed: allowed)
        var events = DialectFile.EventMapping()
        events.audio = try rules(k["audio"], "events.audio", transport: transport, role: .audio)
        events.binaryAudio = try format(k["binary"], "events.binary", allowWAV: false)
        events.transcript = try rules(k["transcript"], "events.transcript", transport: transport, role: .transcript)
        events.started = try rules(k["started"], "events.started", transport: transport, role: .plain)
        events.end = try rules(k["end"], "events.end", transport: transport, role: .plain)
        events.error = try rules(k["error"], "events.error", transport: transport, role: .error)
        if events.audio.isEmpty && events.binaryAudio == nil {
            throw fail(
                k["audio"] ?? map.first?.key, "events.audio",
                "missing: no rule says which events carry the audio (e.g. {event: audio, path: data.audio}\(transport == .websocket ? ", or events.binary for binary frames" : ""))"
            )
        }
        return events
    }

    func rules(_ node: Node?, _ field: String, transport: DialectFile.Transport, role: Role) throws(DialectFileError)
        -> [EventRule]
    {
        guard let node else { return [] }
        let items = node.sequence.map(Array.init) ?? [node]
        var out: [EventRule] = []
        for (index, item) in items.enumerated() {
            out.append(
                try rule(item, node.sequence == nil ? field : "\(field)[\(index)]", transport: transport, role: role))
        }
        return out
    }

    func rule(_ node: Node, _ field: String, transport: DialectFile.Transport, role: Role) throws(DialectFileError)
        -> EventRule
    {
        guard let map = node.mapping else {
            throw fail(node, field, "expected a rule: a mapping of event, data, match, has, path …")
        }
        var allowed = ["data", "match", "has", "response_id"]
        if transport == .sse { allowed.append("event") }
        switch role {
        case .audio: allowed += ["path", "encoding", "rate"]
        case .transcript: allowed += ["path"]
        case .error: allowed += ["message", "code", "fatal"]
        case .plain: break
        }
        let k = try keys(map, field, allowed: allowed)
        var rule = EventRule()
        rule.event = try string(k["event"], "\(field).event")
        rule.data = try string(k["data"], "\(field).data")
        if let matchNode = k["match"] {
            guard let m = matchNode.mapping else {
                throw fail(
                    matchNode, "\(field).match",
                    "expected a mapping of JSON paths to values, e.g. {type: response.output_audio.delta}")
            }
            for (key, value) in m {
                let keyField = "\(field).match.\(key.string ?? "?")"
                guard let path = try path(key, keyField) else { throw fail(key, keyField, "expected a JSON path") }
                let values = value.sequence.map(Array.init) ?? [value]
                var parsed: [MatchValue] = []
                for v in values {
                    guard case .scalar(let scalar) = v else {
                        throw fail(v, keyField, "expected a value or a list of values")
                    }
                    if scalar.style == .plain, let b = Bool(scalar.string) {
                        parsed.append(.bool(b))
                    } else if scalar.style == .plain, let n = Double(scalar.string),
                        scalar.string.first.map({ $0.isNumber || $0 == "-" }) == true
                    {
                        parsed.append(.number(n))
                    } else {
                        parsed.append(.string(scalar.string))
                    }
                }
                rule.match.append((path, parsed))
            }
        }
        if let hasNode = k["has"] {
            for (index, item) in (hasNode.sequence.map(Array.init) ?? [hasNode]).enumerated() {
                rule.has.append(try path(item, hasNode.sequence == nil ? "\(field).has" : "\(field).has[\(index)]")!)
            }
        }
        rule.responseID = try path(k["response_id"], "\(field).response_id")
        switch role {
        case .audio:
            guard let payload = try path(k["path"], "\(field).path") else {
                throw fail(
                    node, "\(field).path",
                    "missing: the JSON path of the base64 audio (e.g. data.audio, delta, choices[0].delta.audio.data)")
            }
            rule.path = payload
            rule.format = try audioFormat(encoding: k["encoding"], rate: k["rate"], field, allowWAV: true)
        case .transcript:
            guard let text = try path(k["path"], "\(field).path") else {
                throw fail(node, "\(field).path", "missing: the JSON path of the transcript text")
            }
            rule.path = text
        case .error:
            rule.path = try path(k["message"], "\(field).message")
            rule.code = try path(k["code"], "\(field).code")
            rule.fatal = try bool(k["fatal"], "\(field).fatal") ?? true
        case .plain:
            break
        }
        // Audio and transcript rules may be told by their payload's path alone; the others must
        // say which messages they are about.
        if !rule.discriminates && (role == .error || role == .plain) {
            throw fail(node, field, "matches every message; say which with event, data, match or has")
        }
        return rule
    }
}

/// SHA-256 in hex (swift-crypto), to record which dialect file a run used.
enum SHA256Hex {
    static func of(_ bytes: [UInt8]) -> String {
        SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined()
    }
}
