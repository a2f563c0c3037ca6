import DialectSpec

extension TransportKind {
    /// OpenAI Realtime over WebSocket: audio streams to the model while the user speaks; at the
    /// end of speech the client commits and asks for a response.
    package static let websocket = TransportKind(
        name: "websocket", summary: "OpenAI Realtime over WebSocket: audio streams while the user speaks",
        keepsOneConnection: true, serverDetectsEndOfSpeech: true,
        schemes: ["ws": "ws", "wss": "wss", "http": "ws", "https": "wss"],
        exampleURL: "ws://127.0.0.1:8080/v1/realtime", referencePath: "/v1/realtime", profileSlot: "realtime",
        legacyOptionPrefix: "ws", builtInDialect: "openai-realtime", dialectFamily: .websocket,
        modelQueryParameter: "model",
        dialect: { settings throws(TransportError) in
            let dialect = try webSocketDialect(settings)
            return DialectInfo(
                name: dialect.name, file: (dialect as? FileWebSocketDialect)?.file, input: dialect.inputFormat,
                model: "(from the URL)", voice: settings.voice ?? RealtimeOptions().voice)
        },
        make: { settings throws(TransportError) in
            // One object, one connection: the dialect's set-up and its acknowledgement open it,
            // audio streams as the user speaks, the end of speech sends the dialect's messages.
            let dialect = try webSocketDialect(settings)
            let configuration = WebSocketClientConfiguration(
                endpoint: settings.endpoint, headers: settings.headers, connectTimeout: settings.connectTimeout,
                verifyTLS: settings.verifyTLS, caFile: settings.caFile, connectVia: settings.connectVia,
                redactor: settings.redactor)
            return ClientVoiceTransport(
                kind: settings.kind, inputFormat: dialect.inputFormat, turnIsRequest: false,
                interpreter: dialect.makeInterpreter()
            ) { emit, onFinish in
                WebSocketClient(
                    configuration: configuration, dialect: dialect, loop: settings.loops.next(), emit: emit,
                    onFinish: onFinish)
            }
        })

    /// The file's dialect, or OpenAI Realtime's with the settings' voice and turn detection.
    private static func webSocketDialect(_ settings: TransportSettings) throws(TransportError) -> any WebSocketDialect {
        if let file = settings.dialectFile { return try FileWebSocketDialect(file, values: settings.dialectValues) }
        return RealtimeDialect(
            options: RealtimeOptions(
                voice: settings.voice ?? RealtimeOptions().voice, turnDetection: settings.turnDetection))
    }
}
