import LinkEmulator
import VoiceTransport

/// One relay per distinct endpoint host and port, and where each endpoint should connect.
struct LinkRelays: Sendable {
    var relays: [LinkRelay] = []

    /// Starts the relays for `endpoints` and returns, per endpoint, the "HOST:PORT" to connect via.
    static func start(_ spec: LinkSpec, for endpoints: [Endpoint]) async throws -> (LinkRelays, [String]) {
        var byTarget: [String: LinkRelay] = [:]
        var relays = LinkRelays()
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
    }
}
