/// A way of talking to a voice assistant that ttfa compares, described by data rather than by
/// an enum, so a transport arrives by adding a file: its kind here, its implementation, and an
/// entry in `TransportKind.all` (and in the harness's factory).
///
/// The raw value is the name stored, printed and given on the command line.
public struct TransportKind: RawRepresentable, Sendable, Codable, Hashable, CustomStringConvertible {
    public let rawValue: String
    /// It speaks WebSocket (`ws://`/`wss://`; `http(s)://` is taken as the WebSocket form).
    public let usesWebSocket: Bool
    /// One transport object is one connection, opened before the user speaks (warm) or at the
    /// start of the trial (cold). Otherwise the object makes requests, and cold means a new
    /// connection per request.
    public let keepsOneConnection: Bool
    /// The `ttfa run` option that names its endpoint.
    public let urlFlag: String
    /// With voice activity detection, the server finds the end of speech in the streamed audio
    /// (otherwise the client must, before it sends the request).
    public let serverDetectsEndOfSpeech: Bool
    /// A variant of another transport: against your own endpoints, `--transport all` measures
    /// it only when its URL is given.
    public let isVariant: Bool
    /// It sends its request only once the user has stopped (so a new connection's set-up lies
    /// on the path to the first audio).
    public let requestsAtEndOfSpeech: Bool
    /// One line for `--help`.
    public let summary: String

    public init(rawValue: String, usesWebSocket: Bool, keepsOneConnection: Bool, urlFlag: String, serverDetectsEndOfSpeech: Bool,
                isVariant: Bool = false, requestsAtEndOfSpeech: Bool = false, summary: String) {
        self.isVariant = isVariant
        self.requestsAtEndOfSpeech = requestsAtEndOfSpeech
        self.rawValue = rawValue
        self.usesWebSocket = usesWebSocket
        self.keepsOneConnection = keepsOneConnection
        self.urlFlag = urlFlag
        self.serverDetectsEndOfSpeech = serverDetectsEndOfSpeech
        self.summary = summary
    }

    /// The known transport with this name.
    public init?(rawValue: String) {
        guard let known = Self.all.first(where: { $0.rawValue == rawValue }) else { return nil }
        self = known
    }

    public var description: String { rawValue }

    public init(from decoder: any Decoder) throws {
        let name = try decoder.singleValueContainer().decode(String.self)
        guard let known = TransportKind(rawValue: name) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "unknown transport \(name)"))
        }
        self = known
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }

    public static func == (lhs: TransportKind, rhs: TransportKind) -> Bool { lhs.rawValue == rhs.rawValue }
    public func hash(into hasher: inout Hasher) { hasher.combine(rawValue) }

    /// OpenAI Realtime over WebSocket: audio streams while the user speaks.
    public static let websocket = TransportKind(
        rawValue: "websocket", usesWebSocket: true, keepsOneConnection: true, urlFlag: "--ws-url", serverDetectsEndOfSpeech: true,
        summary: "OpenAI Realtime over WebSocket: audio streams while the user speaks")
    /// OpenAI Chat Completions audio over HTTP POST + Server-Sent Events: the recording is
    /// POSTed at speech end, audio streams back as SSE.
    public static let sse = TransportKind(
        rawValue: "sse", usesWebSocket: false, keepsOneConnection: false, urlFlag: "--sse-url", serverDetectsEndOfSpeech: false,
        requestsAtEndOfSpeech: true,
        summary: "HTTP POST of the whole recording at the end of speech, audio back as Server-Sent Events")

    /// The SSE answer, but the recording streams up as a chunked request body while the user
    /// speaks.
    public static let sseStream = TransportKind(
        rawValue: "sse-stream", usesWebSocket: false, keepsOneConnection: false, urlFlag: "--sse-stream-url", serverDetectsEndOfSpeech: false,
        isVariant: true,
        summary: "HTTP POST whose body streams the audio while the user speaks, audio back as Server-Sent Events")

    /// Every transport, in the order a run compares them (the first is the baseline).
    public static let all: [TransportKind] = [.websocket, .sse, .sseStream]
}
