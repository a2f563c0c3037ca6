import Foundation
import GRDB
import Testing
@testable import Harness
import VoiceTransport

func temporaryDatabase() -> String {
    FileManager.default.temporaryDirectory.appendingPathComponent("ttfa-test-\(UUID().uuidString)/results.sqlite").path
}

func sampleRun() -> RunRecord {
    RunRecord(status: "running", startedAt: "2026-01-01T00:00:00Z", label: "test", hostname: "h", os: "os", cpuModel: "cpu",
              cpuCount: 2, swiftVersion: "6.3", curlVersion: "7.88.1", opensslVersion: "3", sqliteVersion: "3.40",
              ttfaVersion: TTFAInfo.version, gitCommit: nil, commandLine: "ttfa", configJSON: "{}", seed: 1)
}

func sampleTrial(runID: Int64, seq: Int, transport: String, ttfaMs: Int64?, status: String = "ok", warmup: Bool = false,
                 recording: String = "r.wav", connectionReused: Bool? = true) -> TrialRecord {
    TrialRecord(id: nil, runID: runID, seq: seq, transport: transport, endpoint: "ws://x", connection: "warm", recording: recording,
                recordingNs: 1_000_000_000, trial: seq, warmup: warmup, status: status, errorKind: status == "ok" ? nil : status,
                errorMessage: status == "ok" ? nil : "=boom, \"quoted\"", startedAt: "2026-01-01T00:00:00Z", speechEndNs: 1_000_000_000,
                ttfaNs: ttfaMs.map { $0 * 1_000_000 }, dnsNs: nil, connectNs: nil, tlsNs: nil, upgradeNs: nil, connectionReused: connectionReused,
                responseHeadersNs: nil, uploadDoneNs: nil, firstByteNs: nil, firstEventNs: nil,
                firstAudioNs: ttfaMs.map { 1_000_000_000 + $0 * 1_000_000 }, lastAudioNs: nil, doneNs: nil,
                audioBytes: 4800, audioEvents: 1, maxAudioGapNs: nil, underruns: 0, underrunNs: 0, maxSendLagNs: 100_000, chunksSent: 20,
                curlNamelookupNs: nil, curlConnectNs: nil, curlAppconnectNs: nil, curlPretransferNs: nil, curlStarttransferNs: nil,
                curlTotalNs: nil, httpVersion: nil, encodeNs: 200_000, uploadBlockedNs: 0, speechEndLagNs: 100_000,
                responseID: "resp_\(seq)", anomalies: 0, audioBursts: 0, serverRequestNs: nil, serverFirstAudioNs: nil,
                serverEdgeNs: nil, serverIngestNs: nil, serverModelNs: nil)
}

@Suite("Results database")
struct ResultsStoreTests {
    @Test func runsAndTrialsRoundTrip() throws {
        let store = try SQLiteStore(path: temporaryDatabase())
        let run = try store.createRun(sampleRun())
        let id = try #require(run.id)
        try store.insertTrial(sampleTrial(runID: id, seq: 1, transport: "websocket", ttfaMs: 400),
                              events: [TrialEventRecord(trialID: 0, seq: 0, tNs: 5, kind: "audio", value: 4800, detail: nil)])
        try store.insertTrial(sampleTrial(runID: id, seq: 2, transport: "sse", ttfaMs: 1000), events: [])
        try store.finishRun(id: id, status: "complete", endedAt: "2026-01-01T00:01:00Z")
        #expect(try store.run(id: id)?.status == "complete")
        let trials = try store.trials(runID: id)
        #expect(trials.map(\.transport) == ["websocket", "sse"])
        #expect(try store.events(trialID: trials[0].id!).map(\.kind) == ["audio"])
        #expect(try store.integrityCheck() == "ok")
    }

    @Test func severalWritersCreatingOneNewDatabaseAtOnceAllSucceed() throws {
        for _ in 0..<5 {
            let path = temporaryDatabase()
            let failures = LockedBox<[String]>([])
            DispatchQueue.concurrentPerform(iterations: 4) { _ in
                do {
                    let store = try SQLiteStore(path: path)
                    _ = try store.createRun(sampleRun())
                } catch {
                    failures.withLock { $0.append("\(error)") }
                }
            }
            #expect(failures.withLock { $0 }.isEmpty)
            #expect(try SQLiteStore(path: path).runs().count == 4)
        }
    }

    @Test func pragmasAreSetOnEveryConnection() throws {
        let path = temporaryDatabase()
        _ = try SQLiteStore(path: path)
        let queue = try DatabaseQueue(path: path)
        #expect(try queue.read { try String.fetchOne($0, sql: "PRAGMA journal_mode") } == "wal")
    }

    @Test func aDatabaseFromANewerTTFAIsRefused() throws {
        let path = temporaryDatabase()
        _ = try SQLiteStore(path: path)
        let queue = try DatabaseQueue(path: path)
        try queue.write { try $0.execute(sql: "INSERT INTO grdb_migrations (identifier) VALUES ('v99-from-the-future')") }
        #expect {
            try SQLiteStore(path: path)
        } throws: { error in
            let message = "\(error)"
            return (error as? TransportError)?.kind == .input && message.contains("newer ttfa") && message.contains(path)
        }
    }

    @Test func unwritableLocationIsAnInputErrorNamingThePath() {
        #expect {
            try SQLiteStore(path: "/proc/ttfa-cannot-write-here/results.sqlite")
        } throws: { error in
            (error as? TransportError)?.kind == .input && "\(error)".contains("/proc/ttfa-cannot-write-here")
        }
    }

    @Test func notADatabaseIsAnInputError() throws {
        let path = temporaryDatabase()
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try Data("this is not sqlite, just text that is long enough to be a header........".utf8).write(to: URL(fileURLWithPath: path))
        #expect(throws: TransportError.self) { try SQLiteStore(path: path) }
    }

    @Test func summaryUsesMeasuredOKTrialsOnly() throws {
        let trials = [
            sampleTrial(runID: 1, seq: 1, transport: "websocket", ttfaMs: 999, warmup: true),
            sampleTrial(runID: 1, seq: 2, transport: "websocket", ttfaMs: 400),
            sampleTrial(runID: 1, seq: 3, transport: "sse", ttfaMs: 1000),
            sampleTrial(runID: 1, seq: 4, transport: "websocket", ttfaMs: 420),
            sampleTrial(runID: 1, seq: 5, transport: "sse", ttfaMs: nil, status: "timeout"),
            sampleTrial(runID: 1, seq: 6, transport: "sse", ttfaMs: 1100),
        ]
        var run = sampleRun()
        run.id = 1
        let summary = RunSummary(run: run, trials: trials)
        #expect(summary.warmups == 1)
        let ws = try #require(summary.transports.first)
        #expect(ws.transport == "websocket" && ws.trials == 2 && ws.ok == 2 && ws.ttfa?.p50 == 410)
        let sse = try #require(summary.transports.last)
        #expect(sse.trials == 3 && sse.failed == 1 && sse.errors.map(\.kind) == ["timeout"])
        #expect(summary.unsuccessful == 1)
        #expect(summary.comparisons.count == 1)
        let json = SummaryRenderer.json(summary, database: "db").serialized()
        #expect(json.contains("\"comparisons\":[{\"baseline\":\"websocket\",\"candidate\":\"sse\",\"metric\":\"ttfa_p50\""))
        let csv = CSVExporter.row(trials[4])
        #expect(csv.contains(",\"'=boom, \"\"quoted\"\"\","), "text neutralised, then quoted")
    }
}
