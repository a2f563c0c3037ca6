import Foundation
import TestSupport
import Testing

@testable import Checks
@testable import Reports
@testable import Statistics
@testable import Storage
@testable import StorageSQLite
@testable import TTFASupport

@Suite("Thresholds")
struct ThresholdTests {
    /// websocket: TTFA 100…109 ms, one underrun somewhere; sse: 200…209 ms and 2 failures of 12.
    func summary() -> RunSummary {
        var trials: [TrialRecord] = []
        for i in 0..<10 {
            trials.append(
                sampleTrial(
                    runID: 1, seq: trials.count + 1, transport: "websocket", ttfaMs: Int64(100 + i),
                    recording: i < 5 ? "a.wav" : "b.wav"))
            trials.append(
                sampleTrial(
                    runID: 1, seq: trials.count + 1, transport: "sse", ttfaMs: Int64(200 + i),
                    recording: i < 5 ? "a.wav" : "b.wav"))
        }
        trials[0].underruns = 1
        trials.append(
            sampleTrial(runID: 1, seq: trials.count + 1, transport: "sse", ttfaMs: nil, status: .failed(.timeout)))
        trials.append(
            sampleTrial(runID: 1, seq: trials.count + 1, transport: "sse", ttfaMs: nil, status: .failed(.closed)))
        return RunSummary(run: sampleRun(), trials: trials)
    }

    @Test(
        arguments: [
            ("websocket.ttfa.p50 < 105ms", 104.5, true),
            ("websocket.ttfa.p50 < 104ms", 104.5, false),
            ("sse.ttfa.max <= 0.209s", 209, true),
            ("websocket[b.wav].ttfa.min >= 105ms", 105, true),
            ("sse[a.wav].ttfa.p50 == 202ms", 202, true),
            ("sse.failed < 5%", 2.0 / 12, false),
            ("sse.failed <= 2", 2, true),
            ("sse.timeouts == 1", 1, true),
            ("websocket.underruns == 0", 1, false),
            ("websocket.failed != 0", 0, false),
        ] as [(String, Double, Bool)])
    func evaluatesWhatTheSummaryShows(expression: String, measured: Double, passes: Bool) throws {
        let result = try Threshold(expression).evaluate(summary())
        #expect(abs((result.value ?? .nan) - measured) < 1e-9, "\(expression): \(result.value ?? .nan)")
        #expect(result.passed == passes, "\(expression)")
        #expect(result.line.hasPrefix(passes ? "✓" : "✗"))
    }

    @Test func aMetricWithoutAValueFails() throws {
        // No ok trials of a phase the transport never has: never a silent pass.
        let result = try Threshold("websocket.upload.p50 < 1s").evaluate(summary())
        #expect(result.value == nil && !result.passed)
        #expect(result.line.contains("no value"))
    }

    @Test(
        arguments: [
            ("websocket.ttfa < 700ms", "needs one statistic"),
            ("websocket.ttfb.p50 < 700ms", "unknown metric 'ttfb.p50'"),
            ("websocket.ttfa.p95 700ms", "no comparison"),
            ("websocket.ttfa.p95 < fast", "not a time"),
            ("websocket.ttfa.p95 < 5%", "not a percentage"),
            ("websocket.underruns < 5%", "is a count"),
            ("sse[long.wav.ttfa.p50 < 1s", "'[' without ']'"),
            ("sse[long.wav].failed < 1", "narrows ttfa only"),
            ("ttfa.p50 < 1s", "unknown metric"),
        ] as [(String, String)])
    func aTypoIsAnErrorThatSaysWhatIsValid(expression: String, mentions: String) {
        #expect {
            try Threshold(expression)
        } throws: { error in
            let message = (error as? CheckError)?.message ?? ""
            return message.contains(mentions) && message.contains(expression)
        }
    }

    @Test func namesAreCheckedAgainstTheRun() throws {
        let summary = summary()
        #expect(throws: CheckError.self) {
            try Threshold("sse-strem.ttfa.p50 < 1s").validate(
                transports: summary.transports.map(\.transport), recordings: summary.recordingNames)
        }
        #expect(throws: CheckError.self) {
            try Threshold("sse[long.wav].ttfa.p50 < 1s").validate(
                transports: summary.transports.map(\.transport), recordings: summary.recordingNames)
        }
        try Threshold("sse[a.wav].ttfa.p50 < 1s").validate(
            transports: summary.transports.map(\.transport), recordings: summary.recordingNames)
    }

    @Test func aFileIsAListOrAMapping() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "ttfa-thresholds-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let yaml = directory.appendingPathComponent("t.yaml").path
        try "thresholds:\n  - websocket.ttfa.p95 < 700ms\n  - 'sse.failed < 5%'\n".write(
            toFile: yaml, atomically: true, encoding: .utf8)
        #expect(try Threshold.load(file: yaml).map(\.expression) == ["websocket.ttfa.p95 < 700ms", "sse.failed < 5%"])
        let json = directory.appendingPathComponent("t.json").path
        try #"["sse.ttfa.p50 < 2s"]"#.write(toFile: json, atomically: true, encoding: .utf8)
        #expect(try Threshold.load(file: json).map(\.expression) == ["sse.ttfa.p50 < 2s"])
        try "limits: [a]\n".write(toFile: yaml, atomically: true, encoding: .utf8)
        #expect(throws: CheckError.self) { try Threshold.load(file: yaml) }
    }
}
