import ArgumentParser
import Foundation
import ReferenceServer

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the reference server alone (both dialects, deployment profiles, fault injection).",
        discussion: """
        The first line on stdout is `listening on http://HOST:PORT` (with --port 0, the port actually bound).

        Endpoints: ws://HOST:PORT/v1/realtime (OpenAI Realtime GA) and \
        http://HOST:PORT/v1/chat/completions (Chat Completions audio over SSE).
        Per request: ?first_audio_ms=N delays the first audio by N ms; ?fault=NAME injects a fault \
        (\(Fault.allCases.map(\.rawValue).joined(separator: ", "))).
        Stops on SIGINT or SIGTERM.
        """
    )

    @Option(help: "Address to listen on.")
    var host = "127.0.0.1"

    @Option(help: "Port to listen on (0 picks a free one).")
    var port = 8080

    @OptionGroup var profiles: ProfileOptions

    func validate() throws {
        guard (0...65535).contains(port) else { throw ValidationError("--port \(port) is not a TCP port (0–65535)") }
    }

    func run() async throws {
        let server = ReferenceServer(.init(host: host, port: port, profiles: try profiles.load()))
        let host = self.host
        do {
            try await server.run { port in
                print("listening on http://\(host):\(port)")
            }
        } catch {
            throw CommandFailure(message: "the reference server could not run on \(host):\(port): \(error)", exitCode: ExitCodes.usage)
        }
    }
}
