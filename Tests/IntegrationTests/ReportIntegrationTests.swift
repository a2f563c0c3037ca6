import Foundation
import TestSupport
import Testing
import VoiceTransport

@Suite("Reports of a real run")
struct ReportIntegrationTests {
    /// `ttfa run --report` writes the HTML report of what it measured; its numbers are the
    /// run's `--json` numbers, and `ttfa report --format html` writes the same file.
    @Test func runWritesTheHTMLReportWithTheNumbersOfItsJSON() async throws {
        let scratch = try Scratch()
        let second = scratch.directory.appendingPathComponent("longer.wav").path
        try Data(WAVFile.encode(pcm: shortRecording.pcm + shortRecording.pcm + shortRecording.pcm)).write(
            to: URL(fileURLWithPath: second))
        let html = scratch.directory.appendingPathComponent("out/report.html").path
        let run = try await ttfa([
            "run", "--audio", scratch.audio, "--audio", second, "--profile", "instant", "--link", "loopback", "--plain",
            "--trials", "2", "--warmup", "0", "--lag-budget-ms", "1000", "--db", scratch.database, "--json", "--quiet",
            "--report", html,
        ])
        #expect(run.status == 0, "\(run.stderr)")
        let summary = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
        let text = try String(contentsOfFile: html, encoding: .utf8)
        for section in ["verdict", "facts", "summary", "cdf", "waterfall", "length", "timeline", "failures"] {
            #expect(text.contains("<section id=\"\(section)\">"), "\(section)")
        }
        let transports = try #require(summary["transports"] as? [[String: Any]])
        // The table's p50 cells are the JSON's p50s (which are rounded to the microsecond; the
        // table shows three significant digits).
        let p50 = transports.map { (($0["ttfa_ms"] as? [String: Any])?["p50"] as? Double) ?? -1 }
        let row = try #require(
            text.components(separatedBy: "<th>TTFA p50</th>").dropFirst().first?.components(separatedBy: "</tr>").first)
        let cells = row.components(separatedBy: "<td>").dropFirst().compactMap {
            Double($0.components(separatedBy: " ms").first ?? "")
        }
        #expect(cells.count == p50.count)
        for (cell, value) in zip(cells, p50) {
            #expect(abs(cell - value) <= max(0.006, value * 0.005), "\(cells) vs \(p50)")
        }
        for t in transports {
            #expect(text.contains("data-transport=\"\(t["transport"] as! String)\" data-n=\"\(t["ok"] as! Int)\""))
        }
        let again = scratch.directory.appendingPathComponent("again.html").path
        let report = try await ttfa(["report", "--db", scratch.database, "--format", "html", "--out", again])
        #expect(report.status == 0, "\(report.stderr)")
        #expect(try String(contentsOfFile: again, encoding: .utf8) == text)
        let bad = try await ttfa(["report", "--db", scratch.database, "--format", "markdown", "--against", "1"])
        #expect(bad.status == 2 && bad.stderr.contains("--against draws two runs in one HTML report"))
    }
}
