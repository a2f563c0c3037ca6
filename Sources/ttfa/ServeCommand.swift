import ArgumentParser
import DialectSpec
import Foundation
import ReferenceServer
import Replay
import TTFASupport
import VoiceTransport

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the reference server alone (both dialects, deployment profiles, fault injection).",
        discussion: """
            The first line on stdout is `listening on http://HOST:PORT` (https:// with TLS; with --port 0, the port actually bound).

            Endpoints: ws://HOST:PORT/v1/realtime (OpenAI Realtime GA), \
            http://HOST:PORT/v1/chat/completions (Chat Completions audio over SSE) and \
            http://HOST:PORT/v1/chat/completions/stream (the recording as a chunked PCM16 body, the same SSE answer), \
            POST /v1/realtime/client_secrets and POST /v1/realtime/calls (OpenAI Realtime over WebRTC: a client secret, then \
            an SDP offer answered by a WebRTC peer); \
            GET /debug/log lists every answer. Each endpoint answers as its deployment profile says \
            (realtime behind the WebSocket, edge-sse behind SSE by default; `ttfa profile list`).
            Dialect files (--sse-dialect, --ws-dialect, repeatable) are spoken at their own paths, built from their \
            rules — test a dialect file without your endpoint. The shipped openai-tts dialect is always served at /v1/audio/speech.
            Per request: ?first_audio_ms=N (or A..B) delays the first audio by exactly that, in place of the profile's phases; ?fault=NAME injects a fault \
            (\(Fault.allCases.map(\.rawValue).joined(separator: ", "))).
            Stops on SIGINT or SIGTERM.
            """
    )

    @Option(help: "Address to listen on.")
    var host = "127.0.0.1"

    @Option(help: "Port to listen on (0 picks a free one).")
    var port = 8080

    @OptionGroup var profiles: ProfileOptions

    @Option(
        name: .customLong("sse-dialect"),
        help: ArgumentHelp("An SSE dialect file to speak at its path (repeatable).", valueName: "file"))
    var sseDialects: [String] = []

    @Option(
        name: .customLong("ws-dialect"),
        help: ArgumentHelp("A WebSocket dialect file to speak at its path (repeatable).", valueName: "file"))
    var wsDialects: [String] = []

    @Flag(
        help:
            "Serve https:// and wss:// with a certificate made at start by a local CA (its certificate is written to --ca-out)."
    )
    var tls = false

    @Option(help: "Serve TLS with this certificate (PEM, chain allowed) instead of a generated one; needs --key.")
    var cert: String?

    @Option(help: "The private key (PEM) of --cert.")
    var key: String?

    @Option(
        name: .customLong("ca-out"),
        help:
            "Where to write the generated CA certificate, for clients' --cacert (default: a new file in the temporary folder, named on stderr)."
    )
    var caOut: String?

    func validate() throws {
        guard (0...65535).contains(port) else { throw ValidationError("--port \(port) is not a TCP port (0–65535)") }
        if (cert == nil) != (key == nil) { throw ValidationError("--cert and --key go together") }
        if caOut != nil && cert != nil {
            throw ValidationError("--ca-out writes the generated CA; with --cert you bring your own")
        }
    }

    func run() async throws {
        var identity: ServerTLS?
        do {
            if let cert, let key {
                identity = try ServerTLS.files(certificate: cert, key: key)
            } else if tls || caOut != nil {
                let generated = try ServerTLS.generated()
                let path: String
                if let caOut {
                    try Data(generated.authority!.caPEM.utf8).write(to: URL(fileURLWithPath: caOut))
                    path = caOut
                } else {
                    path = try generated.authority!.writeCA()
                }
                Terminal.error(
                    "TLS with a certificate from a local CA made at start: clients trust it with --cacert \(path)\n")
                identity = generated
            }
        } catch {
            throw CommandFailure(message: "TLS could not be set up: \(error)", exitCode: ExitCodes.usage)
        }
        var dialects: [DialectFile] = []
        do throws(TransportError) {
            for (flag, paths) in [("--sse-dialect", sseDialects), ("--ws-dialect", wsDialects)] {
                for path in paths {
                    let file = try DialectCatalog.load(path, flag: flag)
                    guard file.transport == (flag == "--sse-dialect" ? .sse : .websocket) else {
                        throw TransportError(
                            .input,
                            "\(flag) \(file.source): dialect \"\(file.name)\" is a \(file.transport.rawValue) dialect")
                    }
                    if file.transport == .websocket, file.endOfSpeech.isEmpty {
                        throw TransportError(
                            .input,
                            "\(flag) \(file.source): end_of_speech.send is empty, so the server cannot tell when to answer; serve needs an end-of-speech message"
                        )
                    }
                    if ReferenceServer.builtInPaths.contains(file.path) {
                        Terminal.error(
                            "ttfa serve: \(file.source): \(file.path) is a built-in endpoint, answered by the built-in dialect, not by this file; give the file another path to serve it\n"
                        )
                    }
                    if let clash = dialects.first(where: { $0.path == file.path }) {
                        throw TransportError(
                            .input,
                            "\(flag) \(file.source): path \(file.path) is already \(clash.source)'s; give one of them another path"
                        )
                    }
                    dialects.append(file)
                }
            }
            if !dialects.contains(where: { $0.path == "/v1/audio/speech" }),
                let tts = try? DialectCatalog.load("openai-tts", flag: "openai-tts")
            {
                dialects.append(tts)
            }
        } catch {
            throw CommandFailure.input(error)
        }
        let server = ReferenceServer(
            .init(host: host, port: port, profiles: try profiles.load(), tls: identity, dialects: dialects))
        let host = self.host
        let scheme = identity == nil ? "http" : "https"
        do {
            try await server.run { port in
                print("listening on \(scheme)://\(host):\(port)")
            }
        } catch {
            throw CommandFailure(
                message: "the reference server could not run on \(host):\(port): \(error)", exitCode: ExitCodes.usage)
        }
    }
}
