import Foundation
import Storage
import StorageSQLite
import TTFASupport

/// Runs and trials as the stores hold them, for the tests of storage, statistics, checks and
/// reports.
package func temporaryDatabase() -> String {
    FileManager.default.temporaryDirectory.appendingPathComponent("ttfa-test-\(UUID().uuidString)/results.sqlite").path
}

package func sampleRun() -> RunRecord {
    RunRecord(
        status: .running, startedAt: "2026-01-01T00:00:00Z", label: "test", hostname: "h", os: "os", cpuModel: "cpu",
        cpuCount: 2, swiftVersion: "6.3", curlVersion: "7.88.1", opensslVersion: "3", databaseVersion: "3.40",
        ttfaVersion: TTFAInfo.version, gitCommit: nil, commandLine: "ttfa", configJSON: "{}", seed: 1)
}

package func sampleTrial(
    runID: Int64, seq: Int, transport: String, ttfaMs: Int64?, status: TrialStatus = .ok, warmup: Bool = false,
    recording: String = "r.wav", connectionReused: Bool? = true
) -> TrialRecord {
    var trial = TrialRecord(
        runID: runID, seq: seq, transport: transport, endpoint: "ws://x", connection: "warm", recording: recording,
        recordingNs: 1_000_000_000, trial: seq, warmup: warmup, status: status, startedAt: "2026-01-01T00:00:00Z",
        speechEndNs: 1_000_000_000)
    trial.errorKind = status.errorKind
    trial.errorMessage = status == .ok ? nil : "=boom, \"quoted\""
    trial.ttfaNs = ttfaMs.map { $0 * 1_000_000 }
    trial.connectionReused = connectionReused
    trial.firstAudioNs = ttfaMs.map { 1_000_000_000 + $0 * 1_000_000 }
    trial.audioBytes = 4800
    trial.audioEvents = 1
    trial.maxSendLagNs = 100_000
    trial.chunksSent = 20
    trial.encodeNs = 200_000
    trial.uploadBlockedNs = 0
    trial.speechEndLagNs = 100_000
    trial.responseID = "resp_\(seq)"
    trial.audioBursts = 0
    return trial
}

package func storedRun(
    transports: [String: [Int64?]], statuses: [String: TrialStatus] = [:], recordings: [String] = ["r.wav"]
) async throws -> (SQLiteStore, RunRecord) {
    let store = try SQLiteStore(path: temporaryDatabase())
    var run = sampleRun()
    run.configJSON =
        #"{"trials": 3, "warmup": 0, "chunk_ms": 50, "timeout_ms": 30000, "transports": [], "recordings": []}"#
    run = try await store.createRun(run)
    var seq = 0
    for transport in ["websocket", "sse", "sse-stream"] {
        guard let values = transports[transport] else { continue }
        for (index, ttfa) in values.enumerated() {
            seq += 1
            var trial = sampleTrial(
                runID: run.id!, seq: seq, transport: transport, ttfaMs: ttfa,
                status: ttfa == nil ? (statuses[transport] ?? .failed(.timeout)) : .ok,
                recording: recordings[index % recordings.count])
            trial.recordingNs = Int64(index % recordings.count + 1) * 2_000_000_000
            trial.uploadDoneNs = ttfa.map { _ in trial.speechEndNs + 30_000_000 }
            trial.firstByteNs = ttfa.map { trial.speechEndNs + $0 * 1_000_000 - 5_000_000 }
            let events =
                ttfa == nil
                ? []
                : [
                    TrialEventRecord(trialID: 0, seq: 0, tNs: 50_000_000, kind: "chunk", value: 0, detail: "0"),
                    TrialEventRecord(
                        trialID: 0, seq: 1, tNs: trial.firstAudioNs!, kind: "audio", value: 4800, detail: nil),
                    TrialEventRecord(
                        trialID: 0, seq: 2, tNs: trial.firstAudioNs! + 400_000_000, kind: "audio", value: 4800,
                        detail: nil),
                ]
            _ = try await store.insertTrial(trial, events: events)
        }
    }
    try await store.finishRun(id: run.id!, status: .complete, endedAt: "2026-01-01T00:01:00Z")
    return (store, try await store.run(id: run.id!)!)
}
