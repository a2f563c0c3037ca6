import Foundation
import GRDB
import ReferenceServer
import Replay
import Storage
import StorageSQLite
import TestSupport
import Testing
import VoiceTransport

/// A server that misbehaves the way real ones do must never get a wrong number stored as `ok`.
///
/// Each scenario is a multi-trial warm `ttfa run` against the in-process reference server,
/// whose first-audio delay differs for every request (`first_audio_ms=20..200`) and which
/// plays a fault on every N-th request. For every stored trial: either it is `ok` and its TTFA
/// is that of its own answer — the answer it names (`response_id`) is in the server's log, no
/// other trial names it, its TTFA is no shorter than the delay the server chose for it, and it
/// received exactly the audio events the server wrote for that answer — or it failed with a kind
/// that fits the fault, on the faulted request or, at most, on the one right after it (collateral).
@Suite("Hostile servers: every stored number belongs to its own request", .serialized)
struct HostileServerTests {
    struct Scenario: CustomTestStringConvertible, Sendable {
        var transport: TransportKind
        var fault: Fault
        var every: Int?
        /// Kinds a faulted (or collateral) trial may fail with; empty: every trial must be ok.
        var failures: Set<String>
        /// Whether a faulted answer leaves anomalies in its (ok) trial.
        var anomalies = false
        var timeout = 5.0

        var testDescription: String { "\(transport.rawValue) \(fault.rawValue)" + (every.map { " every \($0)" } ?? "") }
    }

    static let scenarios: [Scenario] = [
        // The seed's reports: a connection dropped after [DONE] without the final chunk, and a
        // non-JSON event mid-stream, each used to shift every later SSE trial by one request.
        Scenario(transport: .sse, fault: .dropAfterDone, every: 3, failures: [], anomalies: true),
        Scenario(transport: .sse, fault: .garbageEvent, every: 3, failures: ["protocol"]),
        Scenario(transport: .sse, fault: .errorMidStream, every: 3, failures: ["server_error"]),
        Scenario(transport: .sse, fault: .dropMidStream, every: 3, failures: ["closed"]),
        Scenario(transport: .sse, fault: .stall, every: 3, failures: ["timeout"], timeout: 4),
        Scenario(transport: .sse, fault: .optionsBody, every: nil, failures: []),
        Scenario(transport: .sse, fault: .closeIdle, every: 2, failures: []),
        Scenario(transport: .websocket, fault: .staleDelta, every: 2, failures: [], anomalies: true),
        Scenario(transport: .websocket, fault: .earlyAudio, every: 2, failures: [], anomalies: true),
        Scenario(transport: .websocket, fault: .garbageEvent, every: 3, failures: ["protocol"]),
        Scenario(transport: .websocket, fault: .errorMidStream, every: 3, failures: []),
        Scenario(transport: .websocket, fault: .dropAfterDone, every: 3, failures: ["closed"]),
        Scenario(transport: .websocket, fault: .closeIdle, every: 3, failures: ["closed"]),
        Scenario(transport: .websocket, fault: .dropMidStream, every: 3, failures: ["closed"]),
        Scenario(transport: .websocket, fault: .stall, every: 3, failures: ["timeout"], timeout: 4),
    ]

    @Test(arguments: scenarios)
    func everyStoredTrialIsItsOwnRequestsOrAFittingFailure(_ scenario: Scenario) async throws {
        let server = try await TestServer.get()
        let tag = UUID().uuidString.prefix(8)
        var query = "?first_audio_ms=20..200&fault=\(scenario.fault.rawValue)&scenario=\(tag)"
        if let every = scenario.every { query += "&fault_every=\(every)" }
        let result = try await hostileRun(
            server, scenario.transport, query: query, trials: 6, timeout: scenario.timeout)
        #expect([0, 3].contains(result.status), "\(result.stderr)")
        let trials = try await storedTrials(result.database)
        #expect(trials.count == 6, "every trial is stored: \(trials.map(\.status))")
        let answers = server.log.answers().filter { $0.target.contains(String(tag)) }
        try checkAttribution(trials: trials, answers: answers, scenario: scenario)
        if scenario.failures.isEmpty {
            #expect(
                trials.allSatisfy { $0.status == .ok }, "\(trials.map { "\($0.status): \($0.errorMessage ?? "")" })")
        }
        if scenario.fault == .optionsBody {
            // The prime read the 405's body: the kept-alive connection carried every trial.
            #expect(trials.allSatisfy { $0.connectionReused == true })
        }
        if scenario.fault == .closeIdle && scenario.transport == .sse {
            // The server closed the kept-alive connection between trials: those trials had to
            // reconnect inside the trial, and say so.
            #expect(trials.contains { $0.connectionReused == false })
            let summary = try #require(
                try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
            let transport = try #require((summary["transports"] as? [[String: Any]])?.first)
            #expect(((transport["connection_reuse"] as? [String: Any])?["reconnected"] as? Int ?? 0) > 0)
        }
    }

    /// The checks that make a number trustworthy, for every stored trial.
    func checkAttribution(trials: [TrialRecord], answers: [ServerLog.Answer], scenario: Scenario) throws {
        let byID = Dictionary(answers.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        var seen = Set<String>()
        let ordered = trials.sorted { $0.seq < $1.seq }
        for (index, trial) in ordered.enumerated() {
            let own = trial.responseID.flatMap { byID[$0] }
            if trial.status == .ok {
                let id = try #require(trial.responseID, "an ok trial names its answer")
                let answer = try #require(own, "\(id) is one of this scenario's answers")
                #expect(seen.insert(id).inserted, "no two trials claim answer \(id)")
                let ttfa = Double(try #require(trial.ttfaNs)) / 1e6
                #expect(
                    ttfa >= Double(answer.firstAudioDelayMs),
                    "trial \(trial.seq): TTFA \(ttfa) ms, yet its answer waited \(answer.firstAudioDelayMs) ms")
                // And its first audio is that answer's first: the trial received every audio event
                // the server wrote for it, and no other (a stale or skipped one would change the count).
                #expect(
                    trial.audioEvents == answer.audioEventsSent,
                    "trial \(trial.seq): \(trial.audioEvents) audio events, the server wrote \(answer.audioEventsSent) for \(id)"
                )
                if scenario.anomalies && answer.fault != nil {
                    #expect(trial.anomalies > 0, "trial \(trial.seq): the faulted answer's misbehaviour is recorded")
                }
            } else {
                #expect(
                    scenario.failures.contains(trial.status.rawValue),
                    "trial \(trial.seq) failed with \(trial.status): \(trial.errorMessage ?? "")")
                let previous = index > 0 ? ordered[index - 1].responseID.flatMap { byID[$0] } : nil
                #expect(
                    own?.fault != nil || previous?.fault != nil,
                    "trial \(trial.seq) (\(trial.status): \(trial.errorMessage ?? "")) is neither a faulted request nor right after one"
                )
            }
        }
    }

    @Test func coldWebSocketSendsSessionUpdateFirstAndNoAudioBeforeSessionUpdated() async throws {
        let server = try await TestServer.get()
        let tag = UUID().uuidString.prefix(8)
        // session.updated leaves 150 ms after session.update: audio captured meanwhile must wait.
        let result = try await hostileRun(
            server, .websocket, query: "?session_delay_ms=150&scenario=\(tag)", trials: 3,
            extra: ["--connection", "cold"])
        #expect(result.status == 0, "\(result.stderr)")
        let connections = server.log.connections().filter { $0.target.contains(String(tag)) }
        #expect(connections.count == 3, "one connection per cold trial")
        for connection in connections {
            #expect(connection.messages.first?.type == "session.update", "\(connection.messages.prefix(3).map(\.type))")
            let ready = try #require(connection.sessionUpdatedNs.first)
            let appends = connection.messages.filter { $0.type == "input_audio_buffer.append" }
            #expect(
                !appends.isEmpty && appends.allSatisfy { $0.receivedNs > ready }, "no audio before session.updated left"
            )
        }
        // The wait is the connection's, not the harness's: no trial is invalid for it.
        #expect(try await storedTrials(result.database).allSatisfy { $0.status == .ok })
    }

    @Test func warmWebSocketTurnsAnswerAOneTurnConversationUnlessKept() async throws {
        let server = try await TestServer.get()
        let reset = UUID().uuidString.prefix(8)
        let first = try await hostileRun(server, .websocket, query: "?scenario=\(reset)", trials: 20)
        #expect(first.status == 0, "\(first.stderr)")
        let seen = server.log.answers().filter { $0.target.contains(String(reset)) }.map(\.conversationItems)
        #expect(seen.count == 20)
        #expect(seen.allSatisfy { $0 == 1 }, "every response.create sees only its own turn: \(seen)")

        let keep = UUID().uuidString.prefix(8)
        let second = try await hostileRun(
            server, .websocket, query: "?scenario=\(keep)", trials: 5, extra: ["--context", "keep"])
        #expect(second.status == 0, "\(second.stderr)")
        let growing = server.log.answers().filter { $0.target.contains(String(keep)) }.compactMap(\.conversationItems)
        #expect(growing == [1, 3, 5, 7, 9], "each turn adds a user item and an answer")
        let config = try #require(try await SQLiteStore(path: second.database, create: false).latestRun()?.configJSON)
        #expect(config.contains("\"context\":\"keep\""))
    }

    @Test func aStorageFailureStopsAConcurrentRunWithoutStoringWorkThatNeverRan() async throws {
        let scratch = try Scratch()
        // A database that refuses its fourth trial, as a full disk would.
        _ = try SQLiteStore(path: scratch.database)
        try DatabaseQueue(path: scratch.database).inDatabase {
            try $0.execute(
                sql:
                    "CREATE TRIGGER full_disk BEFORE INSERT ON trials WHEN (SELECT count(*) FROM trials) >= 3 BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END;"
            )
        }
        let result = try await ttfa(quickRun(scratch, trials: 20, extra: ["--concurrency", "3", "--quiet"]))
        #expect(result.status == 2, "\(result.stderr)")
        #expect(result.stderr.contains("could not store a trial"))
        let trials = try await SQLiteStore(path: scratch.database, create: false).trials(runID: 1)
        #expect(trials.count == 3)
        #expect(
            trials.allSatisfy { $0.status == .ok },
            "no instant failures stored for trials cut short: \(trials.map(\.status))")
        #expect(try await SQLiteStore(path: scratch.database, create: false).run(id: 1)?.status == .interrupted)
    }
}

/// `ttfa run` on one transport of the in-process server, quick trials on the scratch tone.
func hostileRun(
    _ server: RunningReferenceServer, _ transport: TransportKind, query: String, trials: Int, timeout: Double = 5,
    extra: [String] = []
) async throws -> (status: Int32, stdout: String, stderr: String, database: String) {
    let scratch = try Scratch()
    let url = transport.referenceURL(on: server) + query
    let result = try await ttfa(
        [
            "run", "--transport", transport.rawValue, "--url", "\(transport)=\(url)",
            "--trials", String(trials), "--warmup", "0", "--audio", scratch.audio, "--db", scratch.database,
            "--lag-budget-ms", "1000", "--timeout", String(timeout), "--json", "--quiet",
        ] + extra)
    return (result.status, result.stdout, result.stderr, scratch.database)
}

func storedTrials(_ database: String) async throws -> [TrialRecord] {
    try await SQLiteStore(path: database, create: false).trials(runID: 1)
}
