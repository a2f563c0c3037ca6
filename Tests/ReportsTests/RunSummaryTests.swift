import Foundation
import Storage
import TestSupport
import Testing

@testable import Reports

@Suite("Run summaries")
struct RunSummaryTests {
    @Test func summaryUsesMeasuredOKTrialsOnly() throws {
        let trials = [
            sampleTrial(runID: 1, seq: 1, transport: "websocket", ttfaMs: 999, warmup: true),
            sampleTrial(runID: 1, seq: 2, transport: "websocket", ttfaMs: 400),
            sampleTrial(runID: 1, seq: 3, transport: "sse", ttfaMs: 1000),
            sampleTrial(runID: 1, seq: 4, transport: "websocket", ttfaMs: 420),
            sampleTrial(runID: 1, seq: 5, transport: "sse", ttfaMs: nil, status: .failed(.timeout)),
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
        let json = JSONRenderer.summary(summary, database: "db").serialized()
        #expect(
            json.contains("\"comparisons\":[{\"baseline\":\"websocket\",\"candidate\":\"sse\",\"metric\":\"ttfa_p50\""))
        let csv = CSVRenderer.row(trials[4])
        #expect(csv.contains(",\"'=boom, \"\"quoted\"\"\","), "text neutralised, then quoted")
    }

    @Test func invalidTrialsWarnUpToTheAllowedShareAndFailBeyondIt() throws {
        func run(invalid: Int, of trials: Int, warmupsFailed: Bool = false) -> RunHealth {
            var records = (1...trials).map {
                sampleTrial(
                    runID: 1, seq: $0, transport: "websocket", ttfaMs: 100, status: $0 <= invalid ? .invalid : .ok)
            }
            records.append(
                sampleTrial(
                    runID: 1, seq: 99, transport: "websocket", ttfaMs: nil,
                    status: warmupsFailed ? .failed(.closed) : .ok, warmup: true))
            return RunSummary(run: sampleRun(), trials: records).health(maxInvalidShare: 0.1)
        }
        let one = run(invalid: 1, of: 36)
        #expect(one.passed, "one late trial of 36 is a note, not a failed run")
        #expect(one.notes.first?.contains("1 of 36 trials invalid (3%, allowed 10%)") == true)
        #expect(!run(invalid: 5, of: 36).passed)
        #expect(!run(invalid: 1, of: 3).passed, "fewer than 3 valid trials left")
        let warm = run(invalid: 0, of: 5, warmupsFailed: true)
        #expect(!warm.passed && warm.problems.first?.contains("every warm-up trial failed (closed ×1)") == true)
    }

    /// Clumped audio is diagnosed as a buffering proxy on the transports whose answer is an HTTP
    /// response or a WebSocket stream; WebRTC's RTP crosses no such proxy.
    @Test func clumpedAudioIsAProxysSignatureOnlyOverTCP() {
        let trials = ["sse", "webrtc"].enumerated().flatMap { index, transport in
            (1...3).map { n in
                var trial = sampleTrial(runID: 1, seq: index * 3 + n, transport: transport, ttfaMs: 300)
                trial.audioBursts = 4
                return trial
            }
        }
        let summary = RunSummary(run: sampleRun(), trials: trials)
        #expect(summary.transports.map(\.transport) == ["sse", "webrtc"])
        #expect(summary.transports.map(\.looksBuffered) == [true, false])
        #expect(summary.transports.map(\.audioBurstsP50) == [4, 4], "the clumps are still reported")
    }
}
