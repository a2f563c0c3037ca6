import DialectSpec
import SpeechDetection

/// Warm: the connection is opened before the trial and reused (WebSocket opened before speech;
/// HTTP keep-alive). Cold: a new connection is opened inside the trial.
package enum ConnectionMode: String, Sendable, Codable, CaseIterable {
    case warm, cold
}

/// Everything needed to build a transport for one endpoint, whichever transport it is.
package struct TransportSettings: Sendable {
    package var kind: TransportKind
    package var endpoint: Endpoint
    /// Request headers as given (values may be secrets; never print them).
    package var headers: [(name: String, value: String)]
    package var connection: ConnectionMode
    package var connectTimeout: Int64
    package var verifyTLS: Bool
    /// CA certificates (PEM) to trust instead of the system's.
    package var caFile: String?
    /// Connect through this "HOST:PORT" (a link emulator) instead of the endpoint's own.
    package var connectVia: String?
    package var redactor: SecretRedactor
    /// A dialect file to speak instead of the transport's built-in dialect.
    package var dialectFile: DialectFile?
    /// The model and voice to ask for (nil: the dialect's defaults).
    package var model: String?
    package var voice: String?
    /// Voice activity detection ends turns (nil: manual turns). A transport whose server
    /// detects the end of speech asks the server for it.
    package var turnDetection: EnergyVAD.Parameters?
    /// Which side of a same-job A/B comparison these settings belong to ("baseline",
    /// "candidate"), or nil in a plain run.
    package var variant: String?
    /// The I/O loops the transport's connections run on (a run passes its own group).
    package var loops: IOLoopGroup
    /// What a WebRTC call needs beyond its URL (the edge's secret URL, STUN/TURN, jitter buffer).
    package var webRTC = WebRTCSettings()
    /// The emulated link UDP media crosses (nil: the network the machine is on).
    package var mediaLink: (any MediaLink)?

    /// The transport's name, with its A/B side when there is one: "sse", "sse (candidate)".
    package var displayName: String { kind.rawValue + (variant.map { " (\($0))" } ?? "") }

    package init(
        kind: TransportKind,
        endpoint: Endpoint,
        headers: [(name: String, value: String)] = [],
        connection: ConnectionMode = .warm,
        connectTimeout: Int64 = .seconds(10),
        verifyTLS: Bool = true,
        caFile: String? = nil,
        redactor: SecretRedactor = SecretRedactor(),
        dialectFile: DialectFile? = nil,
        model: String? = nil,
        voice: String? = nil,
        turnDetection: EnergyVAD.Parameters? = nil,
        loops: IOLoopGroup = .standard
    ) {
        self.loops = loops
        self.kind = kind
        self.endpoint = endpoint
        self.headers = headers
        self.connection = connection
        self.connectTimeout = connectTimeout
        self.verifyTLS = verifyTLS
        self.caFile = caFile
        self.redactor = redactor
        self.dialectFile = dialectFile
        self.model = model
        self.voice = voice
        self.turnDetection = turnDetection
    }

    /// A new transport (a new connection for one that keeps one).
    package func makeTransport() throws(TransportError) -> any VoiceTransport {
        try kind.make(self)
    }

    /// The dialect it speaks, as a run stores it.
    package func dialect() throws(TransportError) -> DialectInfo {
        try kind.dialect(self)
    }

    /// What a dialect file may fill in: the model and voice given, and the environment.
    package var dialectValues: FileDialectValues { FileDialectValues(model: model, voice: voice) }
}
