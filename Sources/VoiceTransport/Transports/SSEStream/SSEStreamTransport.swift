import DialectSpec

extension TransportKind {
    /// The SSE answer, but the recording streams up as a chunked request body while the user
    /// speaks: is the gap HTTP itself, or uploading the recording only at the end?
    package static let sseStream = TransportKind(
        name: "sse-stream",
        summary: "HTTP POST whose body streams the audio while the user speaks, audio back as Server-Sent Events",
        keepsOneConnection: false, serverDetectsEndOfSpeech: false, isVariant: true,
        schemes: ["http": "http", "https": "https"],
        exampleURL: "http://127.0.0.1:8080/v1/chat/completions/stream", referencePath: "/v1/chat/completions/stream",
        profileSlot: "chat-completions", legacyOptionPrefix: "sse-stream", optionGroup: "sse",
        builtInDialect: "openai-chat-completions-stream",
        dialect: { settings throws(TransportError) in
            let dialect = ChatCompletionsStreamDialect(options: ChatCompletionsOptions(settings))
            return DialectInfo(
                name: dialect.name, input: dialect.inputFormat, model: dialect.options.model,
                voice: dialect.options.voice)
        },
        make: { settings throws(TransportError) in
            makeSSETransport(settings, dialect: ChatCompletionsStreamDialect(options: ChatCompletionsOptions(settings)))
        })
}
