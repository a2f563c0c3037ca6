import Foundation
import ReferenceServer
import Replay
import VoiceTransport

/// One in-process reference server (port 0, instant profile) shared by the tests of a process.
package enum TestServer {
    private static let running = Task {
        try await ReferenceServer.start(.init(port: 0, profiles: EndpointProfiles(all: .instant)))
    }

    package static func get() async throws -> RunningReferenceServer {
        try await running.value
    }
}

/// How long a behaviour test waits for a connection or an answer. The in-process server answers
/// in milliseconds; the wait is long because the parallel suite can keep both cores (and the
/// cooperative pool the server's handlers run on) busy for seconds, and a test that checks what
/// happened must not turn a busy machine into a timeout. A test of the timeout passes its own.
package let behaviourTimeout: Double = 30

/// Settings for `kind` against the reference server's built-in endpoint, with `query` appended.
package func settings(
    _ kind: TransportKind, _ server: RunningReferenceServer, query: String = "", connection: ConnectionMode = .warm,
    connectTimeout: Double = behaviourTimeout
) throws -> TransportSettings {
    let base = kind.referenceURL(on: server)
    return TransportSettings(
        kind: kind, endpoint: try Endpoint(base + query, for: kind), connection: connection,
        connectTimeout: .seconds(connectTimeout))
}

/// Runs `turns` turns on one transport (warm) and returns the timelines.
package func runTurns(
    _ settings: TransportSettings, turns: Int, recording: Recording = shortRecording, timeout: Double = behaviourTimeout
) async throws -> [TurnTimeline] {
    let transport = try settings.makeTransport()
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
package func runColdTurn(_ settings: TransportSettings, timeout: Double = behaviourTimeout) async throws -> TurnTimeline
{
    let transport = try settings.makeTransport()
    var events = transport.events.makeAsyncIterator()
    if !settings.kind.keepsOneConnection { try? await transport.open() }
    let timeline = await TurnRunner.run(
        transport: transport, events: &events, turn: 1, recording: shortRecording, chunkMs: 50,
        start: MonotonicClock.now() + .milliseconds(10), timeout: .seconds(timeout),
        openInside: settings.kind == .websocket)
    await transport.close()
    return timeline
}

/// Several warm transports taking turns one after another, so that what each measures shares
/// the same moments of the machine (an interleaved comparison).
package final class TurnTaker {
    private let transports: [any VoiceTransport]
    private var iterators: [TransportEventStream.AsyncIterator]
    private var turns: [Int]

    package init(_ settings: [TransportSettings]) async throws {
        transports = try settings.map { try $0.makeTransport() }
        iterators = transports.map { $0.events.makeAsyncIterator() }
        turns = transports.map { _ in 0 }
        for transport in transports { try await transport.open() }
    }

    /// One turn on the transport at `index`.
    package func turn(_ index: Int, recording: Recording = shortRecording, timeout: Double = behaviourTimeout) async
        -> TurnTimeline
    {
        turns[index] += 1
        return await TurnRunner.run(
            transport: transports[index], events: &iterators[index], turn: turns[index], recording: recording,
            chunkMs: 50,
            start: MonotonicClock.now() + .milliseconds(10), timeout: .seconds(timeout))
    }

    package func close() async {
        for transport in transports { await transport.close() }
    }
}

extension TurnTimeline {
    package var audioEvents: Int {
        events.filter { if case .audio = $0.event { return true } else { return false } }.count
    }

    /// Connections made (or reused) inside the turn; a warm connection opened before it is not counted.
    package var connects: [ConnectTimings] {
        events.filter { $0.t >= start }.compactMap {
            if case .connected(let c) = $0.event { return c } else { return nil }
        }
    }
}

extension TransportKind {
    /// The transports a plain run measures whose answer arrives over TCP (WebSocket, SSE): the
    /// tests that count deltas and connections. WebRTC's media has tests of its own.
    package static var measuredOverTCP: [TransportKind] { all.filter { $0.measuredByDefault && !$0.mediaOverUDP } }
}
