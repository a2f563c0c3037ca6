import Foundation
import ReferenceServer
import Harness
import VoiceTransport

/// One in-process reference server (port 0, instant profile) shared by the integration tests.
enum TestServer {
    private static let running = Task { try await ReferenceServer.start(.init(port: 0, profiles: EndpointProfiles(all: .instant))) }

    static func get() async throws -> RunningReferenceServer {
        try await running.value
    }
}

/// 300 ms of a 200 Hz tone: short turns, enough for the Realtime 100 ms commit rule.
let shortRecording: Recording = {
    var pcm: [UInt8] = []
    for n in 0..<(24_000 * 3 / 10) {
        let sample = Int16(8000 * sin(2 * Double.pi * 200 * Double(n) / 24_000))
        pcm += [UInt8(truncatingIfNeeded: sample), UInt8(truncatingIfNeeded: sample >> 8)]
    }
    return Recording(name: "tone-300ms", pcm: pcm)
}()

func settings(_ kind: TransportKind, _ server: RunningReferenceServer, query: String = "", connection: ConnectionMode = .warm) throws -> TransportSettings {
    let base = TransportSettings.referenceURL(of: kind, on: server)
    return TransportSettings(kind: kind, endpoint: try Endpoint(base + query, for: kind), connection: connection, connectTimeout: .seconds(5))
}

/// Runs `turns` turns on one transport (warm) and returns the timelines.
func runTurns(_ settings: TransportSettings, turns: Int, recording: Recording = shortRecording, timeout: Double = 5) async throws -> [TurnTimeline] {
    let transport = settings.makeTransport()
    var events = transport.events.makeAsyncIterator()
    try await transport.open()
    var timelines: [TurnTimeline] = []
    for turn in 1...turns {
        let timeline = await TurnRunner.run(
            transport: transport, events: &events, turn: turn, recording: recording, chunkMs: 50,
            start: MonotonicClock.now() + .milliseconds(10), timeout: .seconds(timeout))
        timelines.append(timeline)
    }
    await transport.close()
    return timelines
}

/// Runs one cold turn: a new transport whose connection opens inside the turn.
func runColdTurn(_ settings: TransportSettings, timeout: Double = 5) async -> TurnTimeline {
    let transport = settings.makeTransport()
    var events = transport.events.makeAsyncIterator()
    if !settings.kind.keepsOneConnection { try? await transport.open() }
    let timeline = await TurnRunner.run(
        transport: transport, events: &events, turn: 1, recording: shortRecording, chunkMs: 50,
        start: MonotonicClock.now() + .milliseconds(10), timeout: .seconds(timeout), openInside: settings.kind == .websocket)
    await transport.close()
    return timeline
}

extension TurnTimeline {
    var audioEvents: Int {
        events.filter { if case .audio = $0.event { return true } else { return false } }.count
    }

    /// Connections made (or reused) inside the turn; a warm connection opened before it is not counted.
    var connects: [ConnectTimings] {
        events.filter { $0.t >= start }.compactMap { if case .connected(let c) = $0.event { return c } else { return nil } }
    }
}

/// The built `ttfa` executable, next to the test bundle (or `TTFA_BINARY`).
var ttfaExecutable: URL {
    if let override = ProcessInfo.processInfo.environment["TTFA_BINARY"] {
        return URL(fileURLWithPath: override)
    }
    var directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    for _ in 0..<4 {
        let candidate = directory.appendingPathComponent("ttfa")
        if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
        directory = directory.deletingLastPathComponent()
    }
    return Bundle.main.bundleURL.deletingLastPathComponent().appendingPathComponent("ttfa")
}

/// A TCP server that accepts connections and never says a word: a TLS handshake or an HTTP
/// request to it hangs until the client gives up.
final class SilentServer: @unchecked Sendable {
    let port: Int
    private let fd: Int32
    private var accepted: [Int32] = []
    private let lock = NSLock()

    init() throws {
        let sock = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer -> Bool in
                bind(sock, pointer, length) == 0 && listen(sock, 16) == 0 && getsockname(sock, pointer, &length) == 0
            }
        }
        guard bound else { throw POSIXError(.EADDRNOTAVAIL) }
        fd = sock
        port = Int(UInt16(bigEndian: address.sin_port))
        let fd = sock
        Thread { [weak self] in
            while true {
                let client = accept(fd, nil, nil)
                guard client >= 0, let self else { return }
                self.lock.lock()
                self.accepted.append(client)
                self.lock.unlock()
            }
        }.start()
    }

    func stop() {
        shutdown(fd, Int32(SHUT_RDWR))
        close(fd)
        lock.lock()
        for client in accepted { close(client) }
        lock.unlock()
    }
}
