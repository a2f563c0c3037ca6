import Foundation
import Statistics
import TTFASupport
import TestSupport
import Testing

@testable import Checks
@testable import Reports
@testable import Storage

/// Every format renders the same `Report`; `ttfa run` and `ttfa report` build one and differ
/// only in where they write it.
@Suite("One report, every format")
struct RendererTests {
    static func report() async throws -> Report {
        let (store, run) = try await storedRun(transports: [
            "websocket": [400, 410, 420, nil], "sse": [900, 950, 990, 1010],
        ])
        var data = try await ReportData.load(run, from: store)
        data.summary.check(try [Threshold("sse.ttfa.p50 < 800ms")])
        return Report(
            summaries: [data.summary], healths: [data.summary.health], thresholds: data.summary.checks,
            database: store.path, charts: (data, nil), trials: data.trials, timestamp: "2026-01-01T00:00:00")
    }

    @Test func everyFormatHasARenderer() {
        #expect(
            ReportFormat.allCases.map(\.rawValue) == [
                "table", "json", "csv", "markdown", "junit", "html", "openmetrics", "prometheus",
            ])
    }

    @Test("the metric formats: the run's trials as ttfa monitor exports a round")
    func metricFormats() async throws {
        let report = try await Self.report()
        let text = ReportFormat.prometheus.renderer.render(report)
        let series = #"transport="websocket",endpoint="x/""#
        #expect(text.contains(#"ttfa_trials_total{\#(series),status="ok"} 3"#))
        #expect(text.contains(#"ttfa_trials_total{\#(series),status="timeout"} 1"#))
        #expect(
            text.contains(#"ttfa_time_to_first_audio_seconds_count{\#(series),recording="r.wav",connection="warm"} 3"#))
        #expect(text.contains(#"ttfa_last_round_ttfa_p50_seconds{\#(series)} 0.41"#))
        #expect(text.contains(#"ttfa_threshold_breached{threshold="sse.ttfa.p50 < 800ms"} 1"#))
        // The run failed trials: its round is a failed one.
        #expect(text.contains(#"ttfa_rounds_total{result="failed"} 1"#))
        let open = ReportFormat.openmetrics.renderer.render(report)
        #expect(open.hasSuffix("# EOF\n") && open.contains("# TYPE ttfa_trials counter"))
    }

    @Test func eachFormatSaysWhatTheSummarySays() async throws {
        let report = try await Self.report()
        let summary = report.summaries[0]
        let table = ReportFormat.table.renderer.render(report)
        #expect(table == TableRenderer.summary(summary))
        #expect(table.contains("TTFA p50") && table.contains("thresholds: 1 of 1 failed"))

        let json = try #require(
            try JSONSerialization.jsonObject(with: Data(ReportFormat.json.renderer.render(report).utf8))
                as? [String: Any])
        #expect(json["database"] as? String == report.database)
        #expect((json["thresholds"] as? [[String: Any]])?.first?["passed"] as? Bool == false)

        let csv = ReportFormat.csv.renderer.render(report).components(separatedBy: "\r\n").filter { !$0.isEmpty }
        #expect(csv.first == CSVRenderer.columns.joined(separator: ","))
        #expect(csv.count == 1 + report.trials.count)

        let markdown = ReportFormat.markdown.renderer.render(report)
        #expect(markdown.hasPrefix("### ttfa run") && markdown.contains("```mermaid") && markdown.contains("❌"))

        let junit = ReportFormat.junit.renderer.render(report)
        #expect(junit.contains("<testsuite name=\"ttfa thresholds\"") && junit.contains("<failure"))
        #expect(junit.contains("name=\"websocket trials\"") && junit.contains("timestamp=\"2026-01-01T00:00:00\""))

        let html = ReportFormat.html.renderer.render(report)
        #expect(html.hasPrefix("<!DOCTYPE html>") && html.contains("sse.ttfa.p50"))
    }

    @Test func aComparisonAloneRendersItsVerdict() async throws {
        let (store, run) = try await storedRun(transports: ["websocket": [400, 410, 420, 430, 440]])
        let trials = try await store.trials(runID: run.id!)
        let baseline = Baseline(run: run, trials: trials)
        let check = RegressionCheck(
            baseline: baseline, candidate: baseline, tolerance: try Tolerance(parsing: "10%"), tolerances: [], seed: 1)
        let report = Report(summaries: [], check: check)
        #expect(TableRenderer().render(report) == TableRenderer.check(check))
        #expect(MarkdownRenderer().render(report) == MarkdownRenderer.check(check))
        #expect(JSONRenderer().render(report) == JSONRenderer.check(check).pretty() + "\n")
        #expect(JUnitRenderer().render(report).contains("ttfa compare:"))
    }
}
