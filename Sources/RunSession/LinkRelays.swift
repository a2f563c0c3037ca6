import LinkEmulator
import VoiceTransport

/// One relay per distinct endpoint host and port, and where each endpoint should connect; and,
/// when a transport's media is UDP, the datagram relays its calls open.
struct LinkRelays: Sendable {
    var relays: [LinkRelay] = []
    var datagrams: DatagramLinks?

    /// The link for UDP media, for `TransportSettings.mediaLink`.
    var mediaLink: (any MediaLink)? { datagrams.map(EmulatedMediaLink.init) }

    /// Starts the relays for `endpoints` and returns, per endpoint, the "HOST:PORT" to connect via.
    /// - Parameter datagrams: whether calls will relay UDP media too.
    static func start(_ spec: LinkSpec, for endpoints: [Endpoint], datagrams: Bool = false) async throws -> (
        LinkRelays, [String]
    ) {
        var byTarget: [String: LinkRelay] = [:]
        var relays = LinkRelays()
        if datagrams { relays.datagrams = DatagramLinks(spec: spec) }
        var via: [String] = []
        for endpoint in endpoints {
            let key = "\(endpoint.host):\(endpoint.port)"
            if byTarget[key] == nil {
                do {
                    let relay = try await LinkRelay.start(
                        spec: spec, targetHost: endpoint.host, targetPort: endpoint.port)
                    byTarget[key] = relay
                    relays.relays.append(relay)
                } catch {
                    await relays.stop()
                    throw RunInputError("the link emulator could not start in front of \(endpoint.redacted): \(error)")
                }
            }
            via.append("127.0.0.1:\(byTarget[key]!.port)")
        }
        return (relays, via)
    }

    func stop() async {
        for relay in relays { await relay.stop() }
        await datagrams?.shutdown()
    }
}

/// The datagram relays as the transports see them.
struct EmulatedMediaLink: MediaLink {
    let links: DatagramLinks

    func relay(toHost host: String, port: Int) throws -> any MediaRelay {
        try links.relay(toHost: host, port: port)
    }
}

extension DatagramLinkRelay: MediaRelay {}
