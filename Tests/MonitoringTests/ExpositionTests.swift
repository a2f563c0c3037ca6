import Foundation
import Monitoring
import Storage
import TestSupport
import Testing

func trialRecord(
    seq: Int, ttfaMs: Int64?, transport: String = "websocket", status: TrialStatus = .ok, warmup: Bool = false
) -> TrialRecord {
    var trial = sampleTrial(runID: 1, seq: seq, transport: transport, ttfaMs: ttfaMs, status: status, warmup: warmup)
    trial.uploadDoneNs = trial.speechEndNs + 20_000_000
    return trial
}

@Suite("Exposition: the text format and OpenMetrics")
struct ExpositionTests {
    func sampleMetrics() -> TTFAMetrics {
        let metrics = TTFAMetrics(version: "1.2.3", commit: "abc")
        let ttfas: [Int64] = [280, 300, 320, 900]
        for (index, ttfa) in ttfas.enumerated() {
            metrics.record(trialRecord(seq: index + 1, ttfaMs: ttfa), endpoint: "embedded/v1/realtime")
        }
        metrics.record(trialRecord(seq: 9, ttfaMs: 250, warmup: true), endpoint: "embedded/v1/realtime")
        metrics.record(
            trialRecord(seq: 10, ttfaMs: nil, transport: "sse", status: .failed(.timeout)),
            endpoint: "edge.example.com/v1")
        metrics.record(
            TTFAMetrics.Round(
                result: .failed, endedAt: 1_800_000_000, durationSeconds: 12.5,
                series: [
                    .init(transport: "websocket", endpoint: "embedded/v1/realtime", ttfaSeconds: [0.28, 0.3, 0.32])
                ],
                thresholds: [("websocket.ttfa.p95 < 700ms", true), ("sse.failed < 5%", false)]))
        return metrics
    }

    @Test("histograms hold measured ok trials; the counter every stored trial by status")
    func familiesAndValues() {
        let page = sampleMetrics().exposition(.prometheus)
        let series = #"transport="websocket",endpoint="embedded/v1/realtime""#
        #expect(page.contains("# TYPE ttfa_time_to_first_audio_seconds histogram"))
        #expect(
            page.contains(#"ttfa_time_to_first_audio_seconds_count{\#(series),recording="r.wav",connection="warm"} 4"#))
        #expect(
            page.contains(
                #"ttfa_time_to_first_audio_seconds_bucket{\#(series),recording="r.wav",connection="warm",le="0.3"} 2"#))
        #expect(
            page.contains(
                #"ttfa_time_to_first_audio_seconds_bucket{\#(series),recording="r.wav",connection="warm",le="+Inf"} 4"#)
        )
        #expect(page.contains(#"ttfa_trials_total{\#(series),status="ok"} 5"#))
        #expect(page.contains(#"ttfa_trials_total{transport="sse",endpoint="edge.example.com/v1",status="timeout"} 1"#))
        #expect(page.contains(#"ttfa_phase_seconds_count{\#(series),phase="upload"} 4"#))
        #expect(page.contains(#"ttfa_phase_seconds_count{\#(series),phase="first_audio"} 4"#))
        #expect(page.contains(#"ttfa_last_round_ttfa_p50_seconds{\#(series)} 0.3"#))
        // sse measured nothing in the round: down, and its percentiles not a number.
        #expect(page.contains(#"ttfa_endpoint_up{transport="sse",endpoint="edge.example.com/v1"} 0"#))
        #expect(page.contains(#"ttfa_last_round_ttfa_p95_seconds{transport="sse",endpoint="edge.example.com/v1"} NaN"#))
        #expect(page.contains(#"ttfa_endpoint_up{\#(series)} 1"#))
        #expect(page.contains(#"ttfa_threshold_breached{threshold="sse.failed < 5%"} 1"#))
        #expect(page.contains(#"ttfa_threshold_breached{threshold="websocket.ttfa.p95 < 700ms"} 0"#))
        #expect(page.contains(#"ttfa_rounds_total{result="failed"} 1"#))
        #expect(page.contains(#"ttfa_rounds_total{result="complete"} 0"#))
        #expect(page.contains(#"ttfa_build_info{version="1.2.3",commit="abc"} 1"#))
        #expect(!page.contains("# EOF"))
    }

    @Test("OpenMetrics: counters' families without _total, units, # EOF; families in name order")
    func openMetrics() {
        let page = sampleMetrics().exposition(.openMetrics)
        #expect(page.contains("# TYPE ttfa_trials counter\n"))
        #expect(page.contains("# HELP ttfa_trials Trials stored"))
        #expect(
            page.contains(#"ttfa_trials_total{transport="websocket",endpoint="embedded/v1/realtime",status="ok"} 5"#))
        #expect(page.contains("# UNIT ttfa_time_to_first_audio_seconds seconds\n"))
        #expect(page.hasSuffix("# EOF\n"))
        let families = page.split(separator: "\n").filter { $0.hasPrefix("# TYPE ") }.map {
            $0.split(separator: " ")[2]
        }
        #expect(families == families.sorted())
        #expect(families.count == Set(families).count)
    }

    @Test("Accept negotiation: OpenMetrics when asked for, the text format otherwise")
    func negotiation() {
        #expect(
            ExpositionFormat.negotiated(
                accept:
                    "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"
            ) == .openMetrics)
        #expect(ExpositionFormat.negotiated(accept: "text/plain;version=0.0.4") == .prometheus)
        #expect(ExpositionFormat.negotiated(accept: "application/openmetrics-text; q=0") == .prometheus)
        #expect(ExpositionFormat.negotiated(accept: nil) == .prometheus)
    }

    @Test(
        "promtool accepts the text format",
        .enabled(if: promtool != nil, "promtool (Debian's prometheus) is not installed"))
    func promtoolAccepts() async throws {
        let page = sampleMetrics().exposition(.prometheus)
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("ttfa-metrics-\(UUID()).prom")
        try page.write(to: file, atomically: true, encoding: .utf8)
        let result = try await command(
            URL(fileURLWithPath: "/bin/sh"), ["-c", "\(promtool!) check metrics < \(file.path)"])
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
    }
}

let promtool: String? = ["/usr/bin/promtool", "/usr/local/bin/promtool"].first {
    FileManager.default.isExecutableFile(atPath: $0)
}
