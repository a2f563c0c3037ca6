import DialectSpec

extension TransportKind {
    /// OpenAI Chat Completions audio over HTTP POST + Server-Sent Events, as an edge function
    /// proxies it: the recording is POSTed at the end of speech, audio streams back as SSE.
    package static let sse = TransportKind(
        name: "sse", summary: "HTTP POST of the whole recording at the end of speech, audio back as Server-Sent Events",
        keepsOneConnection: false, serverDetectsEndOfSpeech: false, requestsAtEndOfSpeech: true,
        schemes: ["http": "http", "https": "https"],
        exampleURL: "http://127.0.0.1:8080/v1/chat/completions", referencePath: "/v1/chat/completions",
        profileSlot: "chat-completions",
        legacyOptionPrefix: "sse", optionGroup: "sse", builtInDialect: "openai-chat-completions", dialectFamily: .sse,
        dialect: { settings throws(TransportError) in
            let dialect = try sseDialect(settings)
            let options = ChatCompletionsOptions()
            return DialectInfo(
                name: dialect.name, file: (dialect as? FileSSEDialect)?.file, input: dialect.inputFormat,
                model: settings.model ?? options.model, voice: settings.voice ?? options.voice)
        },
        make: { settings throws(TransportError) in
            makeSSETransport(settings, dialect: try sseDialect(settings))
        })

    /// An SSE transport: one request per turn through `SSERequestClient`, shaped by `dialect`
    /// (whole or streamed upload). Warm: the kept-alive connection of the previous request is
    /// reused; cold: every request opens and closes its own.
    static func makeSSETransport(_ settings: TransportSettings, dialect: any SSEDialect) -> any VoiceTransport {
        let configuration = SSEClientConfiguration(settings)
        return ClientVoiceTransport(
            kind: settings.kind, inputFormat: dialect.inputFormat, turnIsRequest: true,
            interpreter: dialect.makeInterpreter()
        ) { emit, onFinish in
            SSERequestClient(
                configuration: configuration, dialect: dialect, loop: settings.loops.next(), emit: emit,
                onFinish: onFinish)
        }
    }

    /// The file's dialect, or Chat Completions audio with the settings' model and voice.
    private static func sseDialect(_ settings: TransportSettings) throws(TransportError) -> any SSEDialect {
        if let file = settings.dialectFile { return try FileSSEDialect(file, values: settings.dialectValues) }
        return ChatCompletionsDialect(options: .init(settings))
    }
}

extension ChatCompletionsOptions {
    /// The built-in Chat Completions dialect with the settings' model and voice (or the defaults).
    init(_ settings: TransportSettings) {
        let defaults = ChatCompletionsOptions()
        self.init(model: settings.model ?? defaults.model, voice: settings.voice ?? defaults.voice)
    }
}

extension SSEClientConfiguration {
    /// What an SSE client needs of a transport's settings; cold settings open a connection per request.
    init(_ settings: TransportSettings) {
        self.init(
            endpoint: settings.endpoint, headers: settings.headers, connectTimeout: settings.connectTimeout,
            verifyTLS: settings.verifyTLS, caFile: settings.caFile, connectVia: settings.connectVia,
            freshConnectionPerRequest: settings.connection == .cold, redactor: settings.redactor)
    }
}
