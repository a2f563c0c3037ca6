import ArgumentParser
import Foundation
import ReferenceServer

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the reference server alone (both dialects, deployment profiles, fault injection).",
        discussion: """
        The first line on stdout is `listening on http://HOST:PORT` (https:// with TLS; with --port 0, the port actually bound).

        Endpoints: ws://HOST:PORT/v1/realtime (OpenAI Realtime GA), \
        http://HOST:PORT/v1/chat/completions (Chat Completions audio over SSE) and \
        http://HOST:PORT/v1/chat/completions/stream (the recording as a chunked PCM16 body, the same SSE answer); \
        GET /debug/log lists every answer. Each endpoint answers as its deployment profile says \
        (realtime behind the WebSocket, edge-sse behind SSE by default; `ttfa profile list`).
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

    @Flag(help: "Serve https:// and wss:// with a certificate made at start by a local CA (its certificate is written to --ca-out).")
    var tls = false

    @Option(help: "Serve TLS with this certificate (PEM, chain allowed) instead of a generated one; needs --key.")
    var cert: String?

    @Option(help: "The private key (PEM) of --cert.")
    var key: String?

    @Option(name: .customLong("ca-out"), help: "Where to write the generated CA certificate, for clients' --cacert (default: a new file in the temporary folder, named on stderr).")
    var caOut: String?

    func validate() throws {
        guard (0...65535).contains(port) else { throw ValidationError("--port \(port) is not a TCP port (0–65535)") }
        if (cert == nil) != (key == nil) { throw ValidationError("--cert and --key go together") }
        if caOut != nil && cert != nil { throw ValidationError("--ca-out writes the generated CA; with --cert you bring your own") }
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
                Terminal.error("TLS with a certificate from a local CA made at start: clients trust it with --cacert \(path)\n")
                identity = generated
            }
        } catch {
            throw CommandFailure(message: "TLS could not be set up: \(error)", exitCode: ExitCodes.usage)
        }
        let server = ReferenceServer(.init(host: host, port: port, profiles: try profiles.load(), tls: identity))
        let host = self.host
        let scheme = identity == nil ? "http" : "https"
        do {
            try await server.run { port in
                print("listening on \(scheme)://\(host):\(port)")
            }
        } catch {
            throw CommandFailure(message: "the reference server could not run on \(host):\(port): \(error)", exitCode: ExitCodes.usage)
        }
    }
}
