import ArgumentParser
import DialectSpec
import Foundation
import Replay
import RunSession
import TTFASupport
import VoiceTransport

struct TraceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "trace",
        abstract: "Run one turn and print every wire event as a JSON line.",
        discussion: """
            Each line has t_ms (since the trace began) and type: connect, http.response, speech.end, \
            ws.open, sse.event, ws.message, ws.ping, ws.pong, ws.close, audio, error, done. TTFA is \
            measured from the speech.end line's t_ms to the first audio line.

            Examples:
              ttfa trace --transport websocket --url ws://127.0.0.1:8080/v1/realtime
              ttfa trace --transport sse --url 'http://127.0.0.1:8080/v1/chat/completions?first_audio_ms=300'
              ttfa trace --transport websocket --url 'wss://api.openai.com/v1/realtime?model=gpt-realtime' \\
                  --header 'Authorization: Bearer $OPENAI_API_KEY'
              ttfa trace --transport sse --dialect my-edge.yaml --url https://edge.example.com/voice
            """
    )

    @Option(help: "Transport: websocket or sse.")
    var transport: TransportKind

    @Option(
        help:
            "Endpoint URL (ws:// or wss:// for websocket; http:// or https:// for sse, sse-stream, and webrtc's calls URL)."
    )
    var url: String

    @Option(
        help:
            "A recording: WAV at any rate and depth, FLAC, MP3 or Ogg (converted to PCM16 mono 24 kHz). Default: the bundled short recording."
    )
    var audio: String?

    @Option(
        name: .customLong("header"),
        help: "Request header 'Name: value' (repeatable). $VAR expands from the environment; values are never printed.")
    var headers: [String] = []

    @Option(help: "Seconds after the end of speech to wait for the complete answer.")
    var timeout: Double = 30

    @Option(name: .customLong("chunk-ms"), help: "Audio chunk length in milliseconds.")
    var chunkMs = 50

    @Option(
        help:
            "Model for the request body (sse; default gpt-audio, or the dialect file's defaults.model) — {{model}} of a dialect file."
    )
    var model: String?

    @Option(help: "Voice — {{voice}} of a dialect file (default: the file's defaults.voice).")
    var voice: String?

    @Option(
        help: ArgumentHelp(
            "A dialect file (or a shipped dialect's name, `ttfa dialects`) in place of the transport's built-in dialect: check that it reads your endpoint's answer.",
            valueName: "file"))
    var dialect: String?

    @Flag(name: .customLong("insecure"), help: "Do not verify TLS certificates (self-signed test servers only).")
    var insecure = false

    @Option(
        name: .customLong("cacert"),
        help: "PEM file of CA certificates to trust (a private CA), instead of the system's.")
    var caFile: String?

    @OptionGroup var linkOptions: LinkOptions

    @OptionGroup var turnOptions: TurnOptions

    @OptionGroup(title: "WebRTC") var webRTCOptions: WebRTCOptions

    func run() async throws {
        var request = RunRequest()
        request.transports = [transport]
        request.urls = [transport: url]
        request.headers = headers.map { Scoped(.all, $0, flag: "--header") }
        request.dialects = dialect.map { [Scoped(.transport(transport), $0, flag: "--dialect")] } ?? []
        request.models = model.map { [Scoped(.transport(transport), $0, flag: "--model")] } ?? []
        request.voices = voice.map { [Scoped(.transport(transport), $0, flag: "--voice")] } ?? []
        request.audio = [audio ?? BundledRecordings.names[0]]
        request.trials = 1
        request.warmup = 0
        request.chunkMs = chunkMs
        request.timeoutSeconds = timeout
        // A trace opens its connection inside the turn, with a run's default I/O priority: its
        // times are measured as a run's are.
        request.connection = .cold
        request.realtimeIO = true
        request.insecure = insecure
        request.caFile = caFile
        request.link = linkOptions.link
        request.turnDetection = turnOptions.parameters
        request.webRTC = try webRTCOptions.settings()
        let outcome: TurnOutcome
        do {
            outcome = try await RunSession.trace(try RunPlan.make(request)) { line in print(line) }
        } catch let error as RunInputError {
            throw CommandFailure(message: error.message, exitCode: ExitCodes.usage)
        }
        if outcome != .ok {
            throw ExitCode(ExitCodes.trialsFailed)
        }
    }
}

extension TransportKind: ExpressibleByArgument {}
