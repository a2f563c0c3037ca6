import Foundation
import ReferenceServer
import Replay
import TestSupport
import Testing
import VoiceTransport

@Suite("Both transports against the in-process reference server")
struct TransportIntegrationTests {
    @Test(arguments: TransportKind.measuredOverTCP)
    func oneWarmTurnDeliversTheWholeAnswer(kind: TransportKind) async throws {
        let server = try await TestServer.get()
        let timeline = try #require(try await runTurns(settings(kind, server), turns: 1).first)
        #expect(timeline.outcome == .ok)
        #expect(timeline.audioEvents == 6, "600 ms of answer in 100 ms deltas")
        let ttfa = try #require(timeline.ttfaNs)
        #expect(ttfa > 0, "the answer came after the end of speech")
    }

    @Test(arguments: TransportKind.measuredOverTCP)
    func severalTurnsOnOneTransport(kind: TransportKind) async throws {
        let server = try await TestServer.get()
        let timelines = try await runTurns(settings(kind, server), turns: 3)
        #expect(timelines.map(\.outcome) == [.ok, .ok, .ok])
        #expect(timelines.allSatisfy { $0.audioEvents == 6 })
        if !kind.keepsOneConnection {
            // Warm HTTP: open() primed the kept-alive connection; every request reuses it.
            #expect(timelines.map { $0.connects.first?.reused } == [true, true, true])
        } else {
            // One WebSocket connection for all turns: no connect inside any turn after the first.
            #expect(timelines.dropFirst().allSatisfy { $0.connects.isEmpty })
        }
    }

    @Test(arguments: TransportKind.measuredOverTCP)
    func coldTurnsOpenAFreshConnectionInsideTheTurn(kind: TransportKind) async throws {
        let server = try await TestServer.get()
        for _ in 0..<2 {
            let timeline = try await runColdTurn(try settings(kind, server, connection: .cold))
            #expect(timeline.outcome == .ok)
            #expect(timeline.connects.map(\.reused) == [false])
        }
    }

    @Test(arguments: TransportKind.measuredOverTCP)
    func firstAudioWaitsForTheRequestedDelayAfterSpeechEnd(kind: TransportKind) async throws {
        let server = try await TestServer.get()
        let timeline = try #require(
            try await runTurns(settings(kind, server, query: "?first_audio_ms=300"), turns: 1).first)
        #expect(timeline.outcome == .ok)
        let ttfa = try #require(timeline.ttfaNs)
        #expect(ttfa >= .milliseconds(300), "never earlier than the server's delay (how much later: TimingTests)")
    }

    @Test(arguments: TransportKind.measuredOverTCP)
    func sendsLeaveOnScheduleWithSmallLag(kind: TransportKind) async throws {
        let server = try await TestServer.get()
        let timeline = try #require(try await runTurns(settings(kind, server), turns: 1).first)
        let lags = timeline.events.compactMap { event -> Int64? in
            if case .chunkSent(_, _, let lag, _) = event.event { return lag }
            if case .chunkCaptured(_, _, let lag) = event.event { return lag }
            return nil
        }
        #expect(lags.count == 6, "300 ms in 50 ms chunks")
        #expect(lags.allSatisfy { $0 >= 0 }, "nothing leaves before it is due")
    }

    static let faults: [(Fault, TransportKind, ErrorKind)] = [
        (.rejectUpgrade, .websocket, .handshake),
        (.closeBeforeUpgrade, .websocket, .handshake),
        (.http500, .websocket, .httpStatus),
        (.http429, .websocket, .httpStatus),
        (.dropMidStream, .websocket, .closed),
        (.stall, .websocket, .timeout),
        (.badJSON, .websocket, .protocol),
        (.noAudio, .websocket, .noAudio),
        (.serverError, .websocket, .serverError),
        (.closeBeforeUpgrade, .sse, .closed),
        (.http500, .sse, .httpStatus),
        (.http429, .sse, .httpStatus),
        (.dropMidStream, .sse, .closed),
        (.stall, .sse, .timeout),
        (.badJSON, .sse, .protocol),
        (.noAudio, .sse, .noAudio),
        (.serverError, .sse, .serverError),
        (.http500, .sseStream, .httpStatus),
        (.dropMidStream, .sseStream, .closed),
        (.stall, .sseStream, .timeout),
        (.badJSON, .sseStream, .protocol),
        (.noAudio, .sseStream, .noAudio),
        (.serverError, .sseStream, .serverError),
    ]

    /// Each fault ends its trial by itself, with its own kind; only a stall waits for the
    /// timeout (short, so the stall's case is quick; the others get a long one, so a busy
    /// machine cannot turn their kind into a timeout). A hang would fail the time limit.
    @Test("every fault gives its own error kind", .timeLimit(.minutes(1)), arguments: faults)
    func fault(_ fault: Fault, _ kind: TransportKind, _ expected: ErrorKind) async throws {
        let server = try await TestServer.get()
        let timeout = fault == .stall ? 1.5 : 30
        let timeline = try await runColdTurn(
            try settings(kind, server, query: "?fault=\(fault.rawValue)", connection: .cold), timeout: timeout)
        #expect(timeline.outcome.error?.kind == expected, "\(timeline.outcome.error?.message ?? "ok")")
        if kind == .websocket, fault == .rejectUpgrade || fault == .closeBeforeUpgrade {
            #expect(timeline.outcome.error?.message.contains("upgrade did not complete") == true)
        }
    }

    @Test func unreachableEndpointFailsWithConnect() async throws {
        let settings = TransportSettings(
            kind: .websocket, endpoint: try Endpoint("ws://127.0.0.1:1/v1/realtime", for: .websocket))
        let timeline = try await runColdTurn(settings)
        #expect(timeline.outcome.error?.kind == .connect)
    }

    @Test func echoServerIsNotTakenForARealtimeEndpoint() async throws {
        // The SSE endpoint does not speak WebSocket at all: the upgrade is refused.
        let server = try await TestServer.get()
        let settings = TransportSettings(
            kind: .websocket,
            endpoint: try Endpoint(
                server.baseURL.replacingOccurrences(of: "http", with: "ws") + "/health", for: .websocket))
        let timeline = try await runColdTurn(settings)
        #expect(timeline.outcome.error?.kind == .handshake)
    }

    @Test func sseEndpointThatAnswersJSONIsAProtocolError() async throws {
        let server = try await TestServer.get()
        // GET-only endpoint answering text: wrong dialect.
        let settings = TransportSettings(
            kind: .sse, endpoint: try Endpoint(server.baseURL + "/v1/realtime", for: .sse), connection: .cold)
        let timeline = try await runColdTurn(settings)
        #expect(timeline.outcome.error?.kind == .httpStatus || timeline.outcome.error?.kind == .protocol)
    }

    @Test func betaHeaderIsRefusedLikeTheRealAPI() async throws {
        let server = try await TestServer.get()
        var settings = try settings(.websocket, server)
        settings.headers = [("OpenAI-Beta", "realtime=v1")]
        let timeline = try await runColdTurn(settings)
        #expect(timeline.outcome.error?.kind == .serverError)
    }
}
