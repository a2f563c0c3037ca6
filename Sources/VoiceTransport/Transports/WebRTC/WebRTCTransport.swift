import DialectSpec

extension TransportKind {
    /// OpenAI Realtime over WebRTC: the edge mints a client secret, the client calls the model
    /// directly — Opus on RTP for the microphone and the answer, the Realtime events on the
    /// `oai-events` data channel.
    package static let webrtc = TransportKind(
        name: "webrtc",
        summary: "OpenAI Realtime over WebRTC: the edge mints a key, the client calls the model directly",
        keepsOneConnection: true, serverDetectsEndOfSpeech: true,
        isVariant: true, mediaOverUDP: true, schemes: ["http": "http", "https": "https"],
        exampleURL: "http://127.0.0.1:8080/v1/realtime/calls", referencePath: "/v1/realtime/calls",
        profileSlot: "realtime", builtInDialect: "openai-realtime-webrtc",
        dialect: { settings throws(TransportError) in
            if settings.dialectFile != nil {
                throw TransportError(
                    .input, "the webrtc transport speaks OpenAI Realtime only; dialect files are for websocket and sse")
            }
            return DialectInfo(
                name: "openai-realtime-webrtc", input: .pcm16At24k, model: settings.model ?? "gpt-realtime",
                voice: settings.voice ?? RealtimeOptions().voice)
        },
        make: { settings throws(TransportError) in
            if settings.dialectFile != nil {
                throw TransportError(
                    .input, "the webrtc transport speaks OpenAI Realtime only; dialect files are for websocket and sse")
            }
            let options = RealtimeOptions(
                voice: settings.voice ?? RealtimeOptions().voice, turnDetection: settings.turnDetection)
            let signaling = WebRTCSignaling(
                headers: settings.headers, connectTimeout: settings.connectTimeout, verifyTLS: settings.verifyTLS,
                caFile: settings.caFile, connectVia: settings.connectVia)
            return ClientVoiceTransport(
                kind: settings.kind, inputFormat: .pcm16At24k, turnIsRequest: false,
                interpreter: WebRTCInterpreter(options: options, jitterBufferNs: settings.webRTC.jitterBufferNs)
            ) { emit, onFinish in
                WebRTCClient(
                    endpoint: settings.endpoint, settings: settings.webRTC, signaling: signaling, options: options,
                    model: settings.model, redactor: settings.redactor, loop: settings.loops.next(),
                    mediaLink: settings.mediaLink, emit: emit, onFinish: onFinish)
            }
        })
}
