import ReferenceServer
import TTFASupport
import VoiceTransport

/// Warm: the connection is opened before the trial and reused (WebSocket opened before speech;
/// HTTP keep-alive). Cold: a new connection is opened inside the trial.
public enum ConnectionMode: String, Sendable, Codable, CaseIterable {
    case warm, cold
}

/// Everything needed to build a transport for one endpoint.
public struct TransportSettings: Sendable {
    public var kind: TransportKind
    public var endpoint: Endpoint
    /// Request headers as given (values may be secrets; never print them).
    public var headers: [(name: String, value: String)]
    public var connection: ConnectionMode
    public var connectTimeout: Int64
    public var verifyTLS: Bool
    /// CA certificates (PEM) to trust instead of the system's.
    public var caFile: String?
    /// Connect through this "HOST:PORT" (a link emulator) instead of the endpoint's own.
    public var connectVia: String?
    public var redactor: SecretRedactor
    public var realtime: RealtimeOptions
    public var chat: ChatCompletionsOptions
    /// A dialect file's dialect instead of the built-in one (`--ws-dialect` / `--sse-dialect`).
    public var wsDialect: (any WebSocketDialect)?
    public var sseDialect: (any SSEDialect)?
    /// Which side of a same-job A/B comparison these settings belong to ("baseline",
    /// "candidate"), or nil in a plain run.
    public var variant: String?

    /// The transport's name, with its A/B side when there is one: "sse", "sse (candidate)".
    public var displayName: String { kind.rawValue + (variant.map { " (\($0))" } ?? "") }

    public init(
        kind: TransportKind,
        endpoint: Endpoint,
        headers: [(name: String, value: String)] = [],
        connection: ConnectionMode = .warm,
        connectTimeout: Int64 = .seconds(10),
        verifyTLS: Bool = true,
        caFile: String? = nil,
        redactor: SecretRedactor = SecretRedactor(),
        realtime: RealtimeOptions = RealtimeOptions(),
        chat: ChatCompletionsOptions = ChatCompletionsOptions()
    ) {
        self.kind = kind
        self.endpoint = endpoint
        self.headers = headers
        self.connection = connection
        self.connectTimeout = connectTimeout
        self.verifyTLS = verifyTLS
        self.caFile = caFile
        self.redactor = redactor
        self.realtime = realtime
        self.chat = chat
    }

    /// The dialect this transport speaks, as stored with a run: its name, and for a dialect
    /// file the file and its SHA-256 (so a run says exactly what it measured).
    public var dialectJSON: JSONValue {
        let dialect: (name: String, file: DialectFile?, input: AudioFormat)
        switch kind {
        case .websocket:
            let d = wsDialect ?? RealtimeDialect(options: realtime)
            dialect = (d.name, (d as? FileWebSocketDialect)?.file, d.inputFormat)
        case .sse:
            let d = sseDialect ?? ChatCompletionsDialect(options: chat)
            dialect = (d.name, (d as? FileSSEDialect)?.file, d.inputFormat)
        default:
            dialect = ("openai-chat-completions-stream", nil, .pcm16At24k)
        }
        return .object([
            ("name", .string(dialect.name)),
            ("file", .optional(dialect.file?.source)),
            ("sha256", .optional(dialect.file?.sha256)),
            ("input", .string(dialect.input.description)),
        ])
    }

    /// A new transport (a new connection for WebSocket).
    public func makeTransport() -> any VoiceTransport {
        Self.factories[kind]!(self)
    }

    /// The endpoint of `kind` on a reference server (what the zero-setup run measures).
    /// - Parameter path: a dialect file's path, served there instead of the built-in dialect's.
    public static func referenceURL(of kind: TransportKind, on server: RunningReferenceServer, path: String? = nil) -> String {
        (kind.usesWebSocket ? "ws" : "http") + (server.usesTLS ? "s" : "") + "://\(server.host):\(server.port)" + (path ?? referencePaths[kind]!)
    }

    static let referencePaths: [TransportKind: String] = [
        .websocket: "/v1/realtime",
        .sse: "/v1/chat/completions",
        .sseStream: "/v1/chat/completions/stream",
    ]

    /// How each transport is built from its settings.
    static let factories: [TransportKind: @Sendable (TransportSettings) -> any VoiceTransport] = [
        .websocket: { s in
            WebSocketVoiceTransport(
                configuration: WebSocketClientConfiguration(
                    endpoint: s.endpoint, headers: s.headers, connectTimeout: s.connectTimeout,
                    verifyTLS: s.verifyTLS, caFile: s.caFile, connectVia: s.connectVia, redactor: s.redactor),
                dialect: s.wsDialect ?? RealtimeDialect(options: s.realtime))
        },
        .sse: { s in
            SSEVoiceTransport(
                configuration: SSEClientConfiguration(
                    endpoint: s.endpoint, headers: s.headers, connectTimeout: s.connectTimeout, verifyTLS: s.verifyTLS,
                    caFile: s.caFile, connectVia: s.connectVia, freshConnectionPerRequest: s.connection == .cold, redactor: s.redactor),
                dialect: s.sseDialect ?? ChatCompletionsDialect(options: s.chat))
        },
        .sseStream: { s in
            SSEStreamVoiceTransport(
                configuration: SSEClientConfiguration(
                    endpoint: s.endpoint, headers: s.headers, connectTimeout: s.connectTimeout, verifyTLS: s.verifyTLS,
                    caFile: s.caFile, connectVia: s.connectVia, freshConnectionPerRequest: s.connection == .cold, redactor: s.redactor),
                options: s.chat)
        },
    ]
}
