import Foundation
import ReferenceServer
import Synchronization
import TTFASupport
import VoiceTransport

/// The reference servers a run starts in-process: one per side that has a transport without a
/// URL (an A/B comparison of two profiles runs two, each with its own answer log), over TLS with
/// a certificate authority made for the run unless the plan says plain.
final class EmbeddedServers: Sendable {
    private let servers: [Int: RunningReferenceServer]
    /// The CA file that verifies the servers' certificate, removed when the run ends.
    let caFile: String?
    private let stopped = Mutex(false)

    private init(servers: [Int: RunningReferenceServer], caFile: String?) {
        self.servers = servers
        self.caFile = caFile
    }

    /// Starts a server for every side that needs one.
    /// - Throws: `RunInputError` when one cannot start (those already started are stopped).
    static func start(for plan: RunPlan) async throws -> EmbeddedServers {
        var servers: [Int: RunningReferenceServer] = [:]
        var caFile: String?
        var tls: ServerTLS?
        do {
            for (index, side) in plan.sides.enumerated() where plan.kinds.contains(where: { side.urls[$0] == nil }) {
                if !plan.plain && tls == nil {
                    tls = try ServerTLS.generated()
                    caFile = try tls?.authority?.writeCA()
                }
                servers[index] = try await ReferenceServer.start(
                    .init(
                        port: 0, profiles: side.profiles, tls: plan.plain ? nil : tls,
                        dialects: Array(Set(plan.dialectFiles.values.map(\.source))).compactMap { source in
                            plan.dialectFiles.values.first { $0.source == source }
                        }))
            }
        } catch {
            for server in servers.values { await server.stop() }
            if let caFile { try? FileManager.default.removeItem(atPath: caFile) }
            throw RunInputError("the embedded reference server could not start: \(error)")
        }
        return EmbeddedServers(servers: servers, caFile: caFile)
    }

    /// The server of the plan's side at `index`, if it has one.
    func server(at index: Int) -> RunningReferenceServer? { servers[index] }

    var running: Bool { !servers.isEmpty }

    /// Stops every server (once; later calls return at once).
    func stop() async {
        let first = stopped.withLock { done -> Bool in
            defer { done = true }
            return !done
        }
        guard first else { return }
        for server in servers.values { await server.stop() }
    }

    func removeCA() {
        if let caFile { try? FileManager.default.removeItem(atPath: caFile) }
    }

    /// The profiles as a run stores them: each profile slot under the name of the first
    /// transport that uses it (`websocket`: realtime, `sse`: chat-completions).
    static func stored(_ profiles: EndpointProfiles) -> JSONValue {
        .object([
            (
                "profiles",
                .object(
                    EndpointProfiles.slots.compactMap { slot in
                        guard let name = transport(of: slot), let profile = profiles[slot: slot] else { return nil }
                        return (name, JSONValue(any: profile.jsonObject))
                    })
            )
        ])
    }

    /// The first transport whose endpoint the profile slot plays.
    static func transport(of slot: String) -> String? {
        TransportKind.all.first { $0.profileSlot == slot }?.rawValue
    }
}
