import ArgumentParser
import RunSession
import VoiceTransport

/// Where each transport goes and what it says: its URL, headers, dialect, the embedded
/// server's profile, model and voice — each for every transport, or one (`KIND=…`), with the
/// old per-family flags (`--ws-url`, `--sse-header`, …) kept as aliases of their transports or
/// option group (`--sse-…` reaches `sse` and `sse-stream`).
struct EndpointOptions: ParsableArguments {
    @Option(
        name: .customLong("url"),
        help: ArgumentHelp(
            "An endpoint, KIND=URL (repeatable): websocket=wss://…, sse=https://…. Default: the embedded reference server.",
            valueName: "kind=url"))
    var urls: [String] = []

    @Option(
        name: .customLong("header"),
        help: ArgumentHelp(
            "A request header 'Name: value' for every transport, or 'KIND:Name: value' for one (repeatable). $VAR expands from the environment; values are never stored or printed. ttfa sends User-Agent: ttfa/VERSION unless you give one.",
            valueName: "[kind:]header"))
    var headers: [String] = []

    @Option(
        name: .customLong("dialect"),
        help: ArgumentHelp(
            "A dialect file (or a shipped dialect's name, see `ttfa dialects`) a transport speaks instead of its built-in one: KIND=FILE (repeatable).",
            valueName: "kind=file"))
    var dialects: [String] = []

    @Option(
        name: .customLong("profile"),
        help: ArgumentHelp(
            "Deployment profile of the embedded reference server: a preset (realtime, edge-sse, instant) or a JSON/YAML file, for every endpoint or KIND=PROFILE for one transport's. Default: realtime behind the WebSocket, edge-sse behind SSE.",
            valueName: "[kind=]profile"))
    var profiles: [String] = []

    @Option(
        name: .customLong("model"),
        help: ArgumentHelp(
            "The model to ask for, KIND=NAME (a bare NAME is the SSE transports', as --sse-model). Default: the dialect's (gpt-audio; the WebSocket's is in its URL).",
            valueName: "[kind=]name"))
    var models: [String] = []

    @Option(
        name: .customLong("voice"),
        help: ArgumentHelp(
            "The voice to ask for, KIND=NAME. Default: the dialect's (marin over WebSocket, alloy over SSE).",
            valueName: "kind=name"))
    var voices: [String] = []

    // The flags before KIND=…: aliases, kept so existing scripts work.
    @Option(name: .customLong("ws-url"), help: ArgumentHelp("Alias of --url websocket=URL.", visibility: .hidden))
    var wsURL: String?
    @Option(name: .customLong("sse-url"), help: ArgumentHelp("Alias of --url sse=URL.", visibility: .hidden))
    var sseURL: String?
    @Option(
        name: .customLong("sse-stream-url"), help: ArgumentHelp("Alias of --url sse-stream=URL.", visibility: .hidden))
    var sseStreamURL: String?
    @Option(
        name: .customLong("ws-header"), help: ArgumentHelp("Alias of --header websocket:HEADER.", visibility: .hidden))
    var wsHeaders: [String] = []
    @Option(
        name: .customLong("sse-header"), help: ArgumentHelp("A header for sse and sse-stream.", visibility: .hidden))
    var sseHeaders: [String] = []
    @Option(
        name: .customLong("ws-dialect"), help: ArgumentHelp("Alias of --dialect websocket=FILE.", visibility: .hidden))
    var wsDialect: String?
    @Option(name: .customLong("sse-dialect"), help: ArgumentHelp("Alias of --dialect sse=FILE.", visibility: .hidden))
    var sseDialect: String?
    @Option(
        name: .customLong("ws-profile"),
        help: ArgumentHelp("Alias of --profile websocket=PROFILE.", visibility: .hidden)) var wsProfile: String?
    @Option(
        name: .customLong("sse-profile"),
        help: ArgumentHelp("The profile of the SSE endpoints (sse and sse-stream).", visibility: .hidden))
    var sseProfile: String?
    @Option(
        name: .customLong("ws-model"),
        help: ArgumentHelp("Alias of --model websocket=NAME (set as ?model= on the URL).", visibility: .hidden))
    var wsModel: String?
    @Option(name: .customLong("sse-model"), help: ArgumentHelp("The model of the SSE transports.", visibility: .hidden))
    var sseModel: String?
    @Option(name: .customLong("ws-voice"), help: ArgumentHelp("Alias of --voice websocket=NAME.", visibility: .hidden))
    var wsVoice: String?
    @Option(name: .customLong("sse-voice"), help: ArgumentHelp("The voice of the SSE transports.", visibility: .hidden))
    var sseVoice: String?

    /// The endpoint URLs given, by transport.
    func urlsByKind() throws -> [TransportKind: String] {
        var out: [TransportKind: String] = [:]
        for item in urls {
            let (kind, url) = try TransportArgument.pair(item, flag: "--url")
            out[kind] = url
        }
        for (prefix, url) in [("ws", wsURL), ("sse", sseURL), ("sse-stream", sseStreamURL)] {
            guard let url, let kind = TransportKind.all.first(where: { $0.legacyOptionPrefix == prefix }) else {
                continue
            }
            out[kind] = url
        }
        return out
    }

    /// Fills the request's per-transport values.
    func apply(to request: inout RunRequest) throws {
        request.urls = try urlsByKind()
        request.headers =
            try headers.map { try TransportArgument.header($0) }
            + wsHeaders.map { Scoped(.group("ws"), $0, flag: "--ws-header") }
            + sseHeaders.map { Scoped(.group("sse"), $0, flag: "--sse-header") }
        request.dialects =
            try dialects.map { try TransportArgument.scoped($0, flag: "--dialect", bare: nil) }
            + [
                wsDialect.map { Scoped(.group("ws"), $0, flag: "--ws-dialect") },
                sseDialect.map { Scoped(.group("sse"), $0, flag: "--sse-dialect") },
            ].compactMap { $0 }
        request.profiles = try Self.profiles(profiles, ws: wsProfile, sse: sseProfile, prefix: "")
        request.models =
            try models.map { try TransportArgument.scoped($0, flag: "--model", bare: .group("sse")) }
            + [
                wsModel.map { Scoped(.group("ws"), $0, flag: "--ws-model") },
                sseModel.map { Scoped(.group("sse"), $0, flag: "--sse-model") },
            ].compactMap { $0 }
        request.voices =
            try voices.map { try TransportArgument.scoped($0, flag: "--voice", bare: nil) }
            + [
                wsVoice.map { Scoped(.group("ws"), $0, flag: "--ws-voice") },
                sseVoice.map { Scoped(.group("sse"), $0, flag: "--sse-voice") },
            ].compactMap { $0 }
    }

    /// `--profile [KIND=]NAME` (and the group aliases) as scoped values.
    static func profiles(_ given: [String], ws: String?, sse: String?, prefix: String) throws -> [Scoped<String>] {
        try given.map { try TransportArgument.scoped($0, flag: "--\(prefix)profile", bare: .all) }
            + [
                ws.map { Scoped(.group("ws"), $0, flag: "--\(prefix)ws-profile") },
                sse.map { Scoped(.group("sse"), $0, flag: "--\(prefix)sse-profile") },
            ].compactMap { $0 }
    }
}

/// `KIND=VALUE` and `KIND:Name: value` arguments.
enum TransportArgument {
    /// `websocket=wss://…` → (websocket, "wss://…").
    static func pair(_ text: String, flag: String) throws -> (TransportKind, String) {
        guard let equals = text.firstIndex(of: "="), let kind = TransportKind(rawValue: String(text[..<equals])) else {
            let name = text.firstIndex(of: "=").map { String(text[..<$0]) }
            throw CommandFailure(
                message: "\(flag) \(text): " + (name.map { "no transport \"\($0)\"" } ?? "write KIND=VALUE")
                    + "; transports are \(TransportKind.all.map(\.rawValue).joined(separator: ", "))",
                exitCode: ExitCodes.usage)
        }
        return (kind, String(text[text.index(after: equals)...]))
    }

    /// `KIND=VALUE` for one transport, or (when `bare` allows it) a VALUE without a transport.
    static func scoped(_ text: String, flag: String, bare: Scoped<String>.Scope?) throws -> Scoped<String> {
        if let equals = text.firstIndex(of: "="), let kind = TransportKind(rawValue: String(text[..<equals])) {
            return Scoped(.transport(kind), String(text[text.index(after: equals)...]), flag: flag)
        }
        guard let bare else {
            let (kind, value) = try pair(text, flag: flag)
            return Scoped(.transport(kind), value, flag: flag)
        }
        return Scoped(bare, text, flag: flag)
    }

    /// `Authorization: Bearer $KEY` for every transport, `sse:Authorization: …` for one.
    static func header(_ text: String) throws -> Scoped<String> {
        if let colon = text.firstIndex(of: ":"), let kind = TransportKind(rawValue: String(text[..<colon])) {
            return Scoped(
                .transport(kind), String(text[text.index(after: colon)...]).trimmingCharacters(in: .whitespaces),
                flag: "--header \(kind):")
        }
        return Scoped(.all, text, flag: "--header")
    }
}
