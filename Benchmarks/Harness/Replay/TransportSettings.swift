import ReferenceServer
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

    /// A new transport (a new connection for WebSocket).
    public func makeTransport() -> any VoiceTransport {
        Self.factories[kind]!(self)
    }

    /// The endpoint of `kind` on a reference server (what the zero-setup run measures).
    public static func referenceURL(of kind: TransportKind, on server: RunningReferenceServer) -> String {
        (kind.usesWebSocket ? "ws" : "http") + (server.usesTLS ? "s" : "") + "://\(server.host):\(server.port)" + referencePaths[kind]!
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
                options: s.realtime)
        },
        .sse: { s in
            SSEVoiceTransport(
                configuration: SSEClientConfiguration(
                    endpoint: s.endpoint, headers: s.headers, connectTimeout: s.connectTimeout, verifyTLS: s.verifyTLS,
                    caFile: s.caFile, connectVia: s.connectVia, freshConnectionPerRequest: s.connection == .cold, redactor: s.redactor),
                options: s.chat)
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
