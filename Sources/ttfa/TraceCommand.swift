import ArgumentParser
import DialectSpec
import Foundation
import Replay
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

    @Option(help: "Endpoint URL (ws:// or wss:// for websocket, http:// or https:// for sse).")
    var url: String

    @Option(help: "A recording: WAV at any rate and depth, FLAC, MP3 or Ogg (converted to PCM16 mono 24 kHz). Default: the bundled short recording.")
    var audio: String?

    @Option(name: .customLong("header"), help: "Request header 'Name: value' (repeatable). $VAR expands from the environment; values are never printed.")
    var headers: [String] = []

    @Option(help: "Seconds after the end of speech to wait for the complete answer.")
    var timeout: Double = 30

    @Option(name: .customLong("chunk-ms"), help: "Audio chunk length in milliseconds.")
    var chunkMs = 50

    @Option(help: "Model for the request body (sse; default gpt-audio, or the dialect file's defaults.model) — {{model}} of a dialect file.")
    var model: String?

    @Option(help: "Voice — {{voice}} of a dialect file (default: the file's defaults.voice).")
    var voice: String?

    @Option(help: ArgumentHelp("A dialect file (or a shipped dialect's name, `ttfa dialects`) in place of the transport's built-in dialect: check that it reads your endpoint's answer.", valueName: "file"))
    var dialect: String?

    @Flag(name: .customLong("insecure"), help: "Do not verify TLS certificates (self-signed test servers only).")
    var insecure = false

    @Option(name: .customLong("cacert"), help: "PEM file of CA certificates to trust (a private CA), instead of the system's.")
    var caFile: String?

    @OptionGroup var linkOptions: LinkOptions

    @OptionGroup var turnOptions: TurnOptions

    func validate() throws {
        guard timeout > 0, timeout <= 3600 else { throw ValidationError("--timeout must be between 0 and 3600 seconds, got \(timeout)") }
        guard (10...1000).contains(chunkMs) else { throw ValidationError("--chunk-ms must be between 10 and 1000, got \(chunkMs)") }
        if let caFile, !FileManager.default.isReadableFile(atPath: caFile) {
            throw ValidationError("--cacert \(caFile): no readable file there; give a PEM file of CA certificates")
        }
    }

    func run() async throws {
        // The same I/O priority as `ttfa run`'s default: a trace's times are measured as a run's are.
        IOLoopGroup.configure(realtime: true)
        var settings: TransportSettings
        let recording: Recording
        do throws(TransportError) {
            let endpoint = try Endpoint(url, for: transport, flag: "--url")
            var redactor = SecretRedactor()
            let parsedHeaders = try headers.map { (raw) throws(TransportError) in try HeaderParser.parse(raw) }
            for header in parsedHeaders { redactor.add(header.value) }
            redactor.addCredentials(fromURL: url)
            settings = TransportSettings(
                kind: transport, endpoint: endpoint, headers: parsedHeaders, connection: .cold,
                verifyTLS: !insecure, caFile: caFile, redactor: redactor,
                realtime: RealtimeOptions(voice: voice ?? RealtimeOptions().voice, turnDetection: turnOptions.parameters),
                chat: ChatCompletionsOptions(model: model ?? ChatCompletionsOptions().model, voice: voice ?? ChatCompletionsOptions().voice))
            if let dialect {
                let file = try DialectCatalog.load(dialect, flag: "--dialect")
                let wanted: DialectFile.Transport = transport.usesWebSocket ? .websocket : .sse
                guard file.transport == wanted, transport != .sseStream else {
                    throw TransportError(.input, "--dialect \(file.source): dialect \"\(file.name)\" is a \(file.transport.rawValue) dialect; trace it with --transport \(file.transport.rawValue)")
                }
                let values = FileDialectValues(model: model, voice: voice)
                if file.transport == .websocket {
                    settings.wsDialect = try FileWebSocketDialect(file, values: values)
                } else {
                    let sse = try FileSSEDialect(file, values: values)
                    for value in sse.headerValues { settings.redactor.add(value) }
                    settings.sseDialect = sse
                }
            }
            if let audio {
                recording = try BundledRecordings.recording(audio)
            } else {
                recording = try BundledRecordings.load()[0]
            }
        } catch {
            throw CommandFailure.input(error)
        }
        var relays = LinkRelays()
        if let link = try linkOptions.spec() {
            let (started, via) = try await LinkRelays.start(link, for: [settings.endpoint])
            relays = started
            settings.connectVia = via[0]
        }
        let outcome = await Tracer.run(settings: settings, recording: recording, chunkMs: chunkMs, timeout: .seconds(timeout), vad: turnOptions.parameters) { line in
            print(line)
        }
        await relays.stop()
        if outcome != .ok {
            throw ExitCode(ExitCodes.trialsFailed)
        }
    }
}

extension TransportKind: ExpressibleByArgument {}
