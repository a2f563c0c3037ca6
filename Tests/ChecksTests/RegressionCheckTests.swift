import Foundation
import SeededRandom
import TestSupport
import Testing

@testable import Checks
@testable import Reports
@testable import Statistics
@testable import Storage
@testable import StorageSQLite
@testable import TTFASupport

@Suite("Regression checks")
struct RegressionCheckTests {
    /// A seeded log-normal-ish sample around `median` ms with a 10% spread.
    func sample(_ count: Int, median: Double, seed: UInt64) -> [Double] {
        var generator = SeededGenerator(seed: seed)
        return (0..<count).map { _ in
            median
                * exp(
                    0.1 * (Double.random(in: -1...1, using: &generator) + Double.random(in: -1...1, using: &generator)))
        }
    }

    @Test func noiseAloneIsUnchanged() {
        // Twenty independent pairs of identical distributions: never a regression.
        for seed in 1...20 as ClosedRange<UInt64> {
            let m = MetricComparison(
                metric: "sse.ttfa.p50", quantile: 0.5, baseline: [sample(15, median: 1000, seed: seed)],
                candidate: [sample(15, median: 1000, seed: seed + 100)], tolerance: Tolerance(), seed: seed)
            #expect(m.outcome == .unchanged, "seed \(seed): \(m.differenceText)")
        }
    }

    @Test func aThirtyPercentSlowdownRegressesAndASpeedUpImproves() {
        let base = [sample(15, median: 1000, seed: 1)]
        let slower = MetricComparison(
            metric: "sse.ttfa.p50", quantile: 0.5, baseline: base, candidate: [sample(15, median: 1300, seed: 2)],
            tolerance: Tolerance())
        #expect(slower.outcome == .regressed, "\(slower.differenceText)")
        #expect(slower.difference! > 200 && slower.ci95!.low > slower.toleranceMs!)
        let faster = MetricComparison(
            metric: "sse.ttfa.p50", quantile: 0.5, baseline: base, candidate: [sample(15, median: 700, seed: 3)],
            tolerance: Tolerance())
        #expect(faster.outcome == .improved)
    }

    @Test func aSlowdownWithinTheToleranceIsUnchanged() {
        // 5% slower, measured precisely: real, but inside the 10% tolerance.
        let base = (0..<30).map { 1000 + Double($0 % 3) }
        let m = MetricComparison(
            metric: "websocket.ttfa.p50", quantile: 0.5, baseline: [base], candidate: [base.map { $0 * 1.05 }],
            tolerance: Tolerance())
        #expect(m.outcome == .unchanged && m.ci95!.low > 0, "\(m.differenceText)")
        // Twenty milliseconds is the floor of the tolerance for fast metrics.
        let fast = MetricComparison(
            metric: "websocket.ttfa.p50", quantile: 0.5, baseline: [[10, 10, 10, 10]], candidate: [[25, 25, 25, 25]],
            tolerance: Tolerance())
        #expect(fast.outcome == .unchanged && fast.toleranceMs == 20)
        let strict = MetricComparison(
            metric: "websocket.ttfa.p50", quantile: 0.5, baseline: [[10, 10, 10, 10]], candidate: [[25, 25, 25, 25]],
            tolerance: try! Tolerance(parsing: "10%,5ms"))
        #expect(strict.outcome == .regressed)
    }

    @Test func aTailPercentileNeedsEnoughTrials() {
        let m = MetricComparison(
            metric: "sse.ttfa.p95", quantile: 0.95, baseline: [sample(9, median: 1000, seed: 1)],
            candidate: [sample(9, median: 2000, seed: 2)], tolerance: Tolerance())
        #expect(m.outcome == .insufficient && m.note!.contains("at least 20"))
        #expect(
            MetricComparison.minimumCount(for: 0.5) == 3 && MetricComparison.minimumCount(for: 0.9) == 10
                && MetricComparison.minimumCount(for: 0.99) == 100)
    }

    @Test func tolerancesParse() throws {
        #expect(try Tolerance(parsing: "10%,20ms") == Tolerance(relative: 0.1, absoluteMs: 20))
        #expect(try Tolerance(parsing: "0.5s") == Tolerance(relative: 0, absoluteMs: 500))
        #expect(throws: CheckError.self) { try Tolerance(parsing: "ten percent") }
    }

    func run(
        id: Int64, config: String = #"{"recordings":[{"name":"r.wav","duration_ms":1000}],"link":null}"#,
        cpu: String = "cpu"
    ) -> RunRecord {
        var r = sampleRun()
        r.id = id
        r.status = .complete
        r.configJSON = config
        r.cpuModel = cpu
        return r
    }

    @Test func aBaselineFileRoundTripsAndReadsWellInADiff() throws {
        let trials =
            (1...6).map {
                sampleTrial(runID: 1, seq: $0, transport: $0 % 2 == 0 ? "sse" : "websocket", ttfaMs: Int64(100 * $0))
            }
            + [sampleTrial(runID: 1, seq: 7, transport: "sse", ttfaMs: nil, status: .failed(.timeout))]
        let baseline = Baseline(run: run(id: 1), trials: trials)
        let text = baseline.fileText(savedAt: "2026-11-27T00:00:00Z")
        #expect(text.contains("\"format\" : \"ttfa-baseline/1\""))
        #expect(text.contains("        200,\n"), "one sample per line")
        let path = FileManager.default.temporaryDirectory.appendingPathComponent(
            "ttfa-baseline-\(UUID().uuidString).json"
        ).path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        let read = try Baseline(file: path)
        #expect(read.transports.map(\.name) == ["websocket", "sse"])
        #expect(
            read.samples("sse")
                == Baseline.TransportSamples(
                    trials: 4, ok: 3, failed: 1, invalid: 0, ttfaMs: ["r.wav": [200, 400, 600]]))
        #expect(RegressionCheck(baseline: read, candidate: baseline).mismatches.isEmpty)
    }

    @Test(arguments: [
        ("", "no such file"),
        ("{\"format\": \"ttfa-baseline/1\"", "not a JSON object"),
        ("{\"format\": \"something-else\"}", "expected 'ttfa-baseline/1'"),
        ("{\"format\": \"ttfa-baseline/1\", \"run\": {}, \"host\": {}, \"configuration\": {}}", "'transport_order'"),
    ])
    func aMissingOrCorruptBaselineSaysHowToMakeOne(content: String, mentions: String) throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent(
            "ttfa-baseline-\(UUID().uuidString).json"
        ).path
        if !content.isEmpty { try content.write(toFile: path, atomically: true, encoding: .utf8) }
        #expect {
            try Baseline(file: path)
        } throws: { error in
            let message = (error as? CheckError)?.message ?? ""
            return message.contains(mentions) && message.contains("ttfa baseline save --run ID --out \(path)")
        }
    }

    @Test func configurationDifferencesAreNamed() {
        let trials = [sampleTrial(runID: 1, seq: 1, transport: "sse", ttfaMs: 100)]
        let a = Baseline(run: run(id: 1), trials: trials)
        let b = Baseline(
            run: run(
                id: 2,
                config:
                    #"{"recordings":[{"name":"r.wav","duration_ms":1000}],"link":{"name":"4g","rtt":170,"description":"a long enough description of the link to be shortened"}}"#,
                cpu: "other cpu"), trials: trials)
        let facts = RegressionCheck(baseline: a, candidate: b).mismatches.map(\.fact)
        #expect(facts == ["host class", "link"])
        #expect(RegressionCheck(baseline: a, candidate: b).mismatches.last!.candidate.hasPrefix("4g (parameters #"))
    }

    @Test func junitEscapesWhatXMLCannotHold() throws {
        let threshold = try Threshold("sse.ttfa.p50 < 1ms")
        let xml = JUnitRenderer.junit(
            runs: [], thresholds: [ThresholdResult(threshold: threshold, value: 2, passed: false)], check: nil,
            timestamp: "2026-11-27T00:00:00")
        #expect(xml.contains("name=\"sse.ttfa.p50 &lt; 1ms\""))
        #expect(xml.contains("tests=\"1\" failures=\"1\""))
        #expect(JUnitRenderer.xml("a\u{0}b\u{1}c&\"") == "abc&amp;&quot;")
    }
}
