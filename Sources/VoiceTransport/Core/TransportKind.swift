import DialectSpec
import Synchronization

/// A way of talking to a voice assistant that ttfa compares, described once: its name, how it
/// behaves in a turn, how its endpoint is written, where the reference server answers it,
/// which dialect files it speaks and how it is built.
///
/// Each transport describes itself in its own folder (`Transports/WebSocket/WebSocketTransport.swift`
/// and its neighbours) and is registered in `TransportKind.builtIn`; a transport defined
/// elsewhere (a test's) registers itself with `register(_:)`. Everything else — the run, the
/// command line, the reports — iterates over `all` and never tests a kind's name.
///
/// The raw value is the name stored, printed and given on the command line.
package struct TransportKind: RawRepresentable, Sendable, Codable, Hashable, CustomStringConvertible {
    package let rawValue: String
    /// One line for `--help`.
    package let summary: String
    /// One transport object is one connection, opened before the user speaks (warm) or at the
    /// start of the trial (cold). Otherwise the object makes requests, and cold means a new
    /// connection per request.
    package let keepsOneConnection: Bool
    /// With voice activity detection, the server finds the end of speech in the streamed audio
    /// (otherwise the client must, before it sends the request).
    package let serverDetectsEndOfSpeech: Bool
    /// It sends its request only once the user has stopped (so a new connection's set-up lies
    /// on the path to the first audio).
    package let requestsAtEndOfSpeech: Bool
    /// A variant of another transport: against your own endpoints, `--transport all` measures
    /// it only when its URL is given.
    package let isVariant: Bool
    /// Whether a run that names no transport measures it (the embedded server's default run).
    package let measuredByDefault: Bool
    /// Whether its media travels over UDP (WebRTC): the link emulator relays it per call
    /// (`TransportSettings.mediaLink`).
    package let mediaOverUDP: Bool
    /// The URL schemes its endpoint may have, each with the scheme it is spoken as (`http` → `ws`
    /// for a WebSocket).
    package let schemes: [String: String]
    /// What an endpoint of it looks like, for messages.
    package let exampleURL: String
    /// Where the reference server answers it.
    package let referencePath: String
    /// The reference server's profile that plays its endpoint (`EndpointProfiles`' slot).
    package let profileSlot: String
    /// Its own command-line options before the generic ones existed (`--ws-url`, `--ws-header`,
    /// `--ws-dialect`, …), kept as aliases; nil for a transport without them.
    package let legacyOptionPrefix: String?
    /// Transports of one option group share the group's options (`--sse-header`,
    /// `--sse-profile`, `--sse-model` reach `sse` and `sse-stream`); by default the legacy prefix.
    package let optionGroup: String
    /// The dialect it speaks unless a file says otherwise (as stored: `openai-realtime`).
    package let builtInDialect: String
    /// The dialect files it speaks (`transport:` of the file), if any.
    package let dialectFamily: DialectFile.Transport?
    /// The URL query parameter that names the model, when the endpoint takes it there (a
    /// model asked for is set on the URL then).
    package let modelQueryParameter: String?
    /// The dialect a transport made from `settings` speaks, as stored with a run. Throws what
    /// a dialect file's values make impossible (checked before a run starts).
    package let dialect: @Sendable (TransportSettings) throws(TransportError) -> DialectInfo
    /// A new transport (a new connection for one that keeps one) from `settings`.
    package let make: @Sendable (TransportSettings) throws(TransportError) -> any VoiceTransport

    package init(
        name: String, summary: String, keepsOneConnection: Bool, serverDetectsEndOfSpeech: Bool,
        requestsAtEndOfSpeech: Bool = false,
        isVariant: Bool = false, measuredByDefault: Bool = true, mediaOverUDP: Bool = false,
        schemes: [String: String], exampleURL: String,
        referencePath: String,
        profileSlot: String,
        legacyOptionPrefix: String? = nil, optionGroup: String? = nil, builtInDialect: String,
        dialectFamily: DialectFile.Transport? = nil,
        modelQueryParameter: String? = nil,
        dialect: @escaping @Sendable (TransportSettings) throws(TransportError) -> DialectInfo,
        make: @escaping @Sendable (TransportSettings) throws(TransportError) -> any VoiceTransport
    ) {
        rawValue = name
        self.summary = summary
        self.keepsOneConnection = keepsOneConnection
        self.serverDetectsEndOfSpeech = serverDetectsEndOfSpeech
        self.requestsAtEndOfSpeech = requestsAtEndOfSpeech
        self.isVariant = isVariant
        self.measuredByDefault = measuredByDefault
        self.mediaOverUDP = mediaOverUDP
        self.schemes = schemes
        self.exampleURL = exampleURL
        self.referencePath = referencePath
        self.profileSlot = profileSlot
        self.legacyOptionPrefix = legacyOptionPrefix
        self.optionGroup = optionGroup ?? legacyOptionPrefix ?? name
        self.builtInDialect = builtInDialect
        self.dialectFamily = dialectFamily
        self.modelQueryParameter = modelQueryParameter
        self.dialect = dialect
        self.make = make
    }

    /// The registered transport with this name.
    package init?(rawValue: String) {
        guard let known = Self.all.first(where: { $0.rawValue == rawValue }) else { return nil }
        self = known
    }

    package var description: String { rawValue }

    /// How its endpoint is given on the command line: `--url NAME=URL` (or its old alias).
    package var urlOption: String {
        "--url \(rawValue)=URL" + (legacyOptionPrefix.map { " (or --\($0)-url)" } ?? "")
    }

    /// The endpoint of this transport on a reference server at `host:port`.
    /// - Parameter path: a dialect file's path, served there instead of the built-in dialect's.
    package func referenceURL(host: String, port: Int, tls: Bool, path: String? = nil) -> String {
        let scheme = schemes[tls ? "https" : "http"] ?? schemes.values.sorted().first ?? (tls ? "https" : "http")
        return "\(scheme)://\(host):\(port)" + (path ?? referencePath)
    }

    package init(from decoder: any Decoder) throws {
        let name = try decoder.singleValueContainer().decode(String.self)
        guard let known = TransportKind(rawValue: name) else {
            throw DecodingError.dataCorrupted(
                .init(codingPath: decoder.codingPath, debugDescription: "unknown transport \(name)"))
        }
        self = known
    }

    package func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }

    package static func == (lhs: TransportKind, rhs: TransportKind) -> Bool { lhs.rawValue == rhs.rawValue }
    package func hash(into hasher: inout Hasher) { hasher.combine(rawValue) }

    // MARK: registry

    private static let registry = Mutex<[TransportKind]>(builtIn)

    /// Every transport, in the order a run compares them (the first is the baseline): the
    /// built-in ones, then those registered.
    package static var all: [TransportKind] { registry.withLock { $0 } }

    /// Adds a transport defined outside this module (a test's); a second registration of the
    /// same name replaces the first.
    package static func register(_ kind: TransportKind) {
        registry.withLock { kinds in
            if let index = kinds.firstIndex(of: kind) { kinds[index] = kind } else { kinds.append(kind) }
        }
    }
}

/// The dialect a transport speaks, as a run stores it: its name, its file (with the file's
/// SHA-256, so a run says exactly what it measured), the audio format it sends, and the model
/// and voice it asks for.
package struct DialectInfo: Sendable {
    package var name: String
    package var file: DialectFile?
    package var input: AudioFormat
    package var model: String
    package var voice: String

    package init(name: String, file: DialectFile? = nil, input: AudioFormat, model: String, voice: String) {
        self.name = name
        self.file = file
        self.input = input
        self.model = model
        self.voice = voice
    }
}
