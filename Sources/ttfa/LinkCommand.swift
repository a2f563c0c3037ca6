import ArgumentParser
import Foundation
import LinkEmulator
import Logging
import RunSession
import ServiceLifecycle

/// `ttfa link`: the link emulator alone, in front of anything.
struct LinkCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "link",
        abstract:
            "Relay TCP connections to an endpoint through an emulated network (delay, jitter, bandwidth, stalls, buffering).",
        discussion: """
            The first line on stdout is `relaying HOST:PORT -> TARGET:PORT (…)`. TLS passes through \
            untouched, so point the client at the relay but keep the real host name for TLS and \
            Host (curl --connect-to, or ttfa run --link, which does this for you). Stops on SIGINT \
            or SIGTERM.

            Examples:
              ttfa link --to api.openai.com:443 --link 4g --listen 127.0.0.1:9443
              ttfa link --to 127.0.0.1:8080 --link rtt=80ms,down=20mbit,up=5mbit,buffer=4k
            """
    )

    @Option(help: "Address to listen on, HOST:PORT (port 0 picks a free one).")
    var listen = "127.0.0.1:0"

    @Option(help: "The endpoint to relay to, HOST:PORT.")
    var to: String

    @OptionGroup var linkOptions: LinkOptions

    static func hostPort(_ text: String, flag: String) throws -> (String, Int) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
            (0...65535).contains(port)
        else {
            throw ValidationError("\(flag) \(text) is not HOST:PORT")
        }
        let host = String(text[..<colon]).trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        guard !host.isEmpty else { throw ValidationError("\(flag) \(text) has no host") }
        return (host, port)
    }

    func validate() throws {
        _ = try Self.hostPort(listen, flag: "--listen")
        let (_, port) = try Self.hostPort(to, flag: "--to")
        guard port > 0 else { throw ValidationError("--to \(to): the target needs a port") }
    }

    func run() async throws {
        let spec = try linkOptions.spec() ?? .broadband
        let (host, port) = try Self.hostPort(listen, flag: "--listen")
        let (targetHost, targetPort) = try Self.hostPort(to, flag: "--to")
        let relay: LinkRelay
        do {
            relay = try await LinkRelay.start(
                spec: spec, host: host, port: port, targetHost: targetHost, targetPort: targetPort)
        } catch {
            throw CommandFailure(message: "cannot listen on \(listen): \(error)", exitCode: ExitCodes.usage)
        }
        print("relaying \(relay.host):\(relay.port) -> \(targetHost):\(targetPort) (\(spec.name): \(spec.description))")
        // Until SIGINT or SIGTERM: the relay is a service that stops on the group's graceful shutdown.
        let group = ServiceGroup(
            services: [UntilShutdown { await relay.stop() }], gracefulShutdownSignals: [.sigterm, .sigint],
            logger: Logger(label: "ttfa.link"))
        try await group.run()
    }
}
