import Foundation
import TestSupport
import Testing
import VoiceTransport

@testable import Checks
@testable import Reports
@testable import Statistics
@testable import Storage
@testable import StorageSQLite
@testable import TTFASupport

/// Reads what the report's charts claim, from their data attributes.
struct ReportFile {
    let html: String

    /// Every value of `attribute` on elements with class `cls` (optionally of one transport).
    func values(_ cls: String, _ attribute: String, transport: String? = nil) -> [String] {
        var out: [String] = []
        var rest = Substring(html)
        while let start = rest.range(of: "class=\"\(cls)\"") {
            let elementStart = rest[..<start.lowerBound].lastIndex(of: "<") ?? start.lowerBound
            let end = rest[start.upperBound...].firstIndex(of: ">") ?? rest.endIndex
            let element = rest[elementStart..<end]
            if transport == nil || element.contains("data-transport=\"\(transport!)\"") {
                if let a = element.range(of: "\(attribute)=\"") {
                    out.append(String(element[a.upperBound...].prefix { $0 != "\"" }))
                }
            }
            rest = rest[end...]
        }
        return out
    }

    /// The waterfall rows: TTFA and the segments' milliseconds.
    var waterfall: [(transport: String, ttfa: Double, segments: [Double])] {
        html.components(separatedBy: "<g class=\"waterfall-row\"").dropFirst().map { row in
            let head = row.prefix { $0 != ">" }
            func attr(_ name: String) -> String {
                head.components(separatedBy: "\(name)=\"").dropFirst().first.map { String($0.prefix { $0 != "\"" }) }
                    ?? ""
            }
            let body = row.components(separatedBy: "</g>").first ?? ""
            let segments = body.components(separatedBy: "data-ms=\"").dropFirst().compactMap {
                Double($0.prefix { $0 != "\"" })
            }
            return (attr("data-transport"), Double(attr("data-ttfa-ms")) ?? -1, segments)
        }
    }
}

@Suite("HTML and Markdown reports")
struct HTMLReportTests {
    @Test func everyChartCarriesTheStoredNumbers() async throws {
        let (store, run) = try await storedRun(
            transports: ["websocket": [300, 320, 310, 305, 330], "sse": [900, 950, 1200, nil]],
            recordings: ["short.wav", "long.wav"])
        let data = try await ReportData.load(run, from: store)
        let file = ReportFile(html: HTMLRenderer.render(data))
        for section in ["verdict", "facts", "summary", "cdf", "waterfall", "length", "timeline", "failures"] {
            #expect(file.html.contains("<section id=\"\(section)\">"), "\(section)")
        }
        // The CDF: one point per ok trial, at the stored TTFAs.
        #expect(file.values("cdf", "data-n", transport: "websocket") == ["5", "5"], "linear and log")
        #expect(file.values("cdf", "data-n", transport: "sse") == ["3", "3"])
        let points = file.values("cdf", "points", transport: "sse").first?.split(separator: " ").count
        #expect(points == 3)
        #expect(file.values("cdf", "data-ttfa-ms", transport: "sse").first == "900.000 950.000 1200.000")
        // The waterfall adds up to its trial's TTFA, which is the median ok trial's.
        for row in file.waterfall {
            #expect(abs(row.segments.reduce(0, +) - row.ttfa) < 1, "\(row)")
        }
        #expect(file.waterfall.map(\.ttfa) == [310, 950])
        // The summary table shows what --format json says.
        let json = try #require(
            try JSONSerialization.jsonObject(
                with: Data(JSONRenderer.summary(data.summary, database: store.path).pretty().utf8)) as? [String: Any])
        let p50s = try #require(json["transports"] as? [[String: Any]]).map {
            ($0["ttfa_ms"] as? [String: Any])?["p50"] as? Double
        }
        #expect(p50s == [310, 950])
        #expect(file.html.contains("<th>TTFA p50</th><td>\(Format.ms(p50s[0]))</td><td>\(Format.ms(p50s[1]))</td>"))
        // The failed trial, with its kind and message.
        #expect(file.values("failure", "class").count == 1 && file.html.contains("<td>timeout</td>"))
        #expect(file.html.contains("=boom, &quot;quoted&quot;"), "messages are escaped")
        // Length: every ok trial as a dot, a p50 per recording.
        #expect(file.values("median", "cx").count == 4)
    }

    @Test func theFileNeedsNothingFromTheNetwork() async throws {
        let (store, run) = try await storedRun(transports: ["websocket": [300, 310], "sse": [900, 910]])
        let html = HTMLRenderer.render(try await ReportData.load(run, from: store))
        for reference in ["<script", "<link", "src=", "href=", "url(", "@import", "http://", "https://"] {
            #expect(!html.contains(reference), "\(reference)")
        }
    }

    @Test func aThousandTrialRunStaysUnderOneMegabyte() async throws {
        let values = (0..<1000).map { Int64(300 + ($0 * 37) % 400) as Int64? }
        // Seconds of bootstrap in a debug build: off the pool the in-process server needs.
        let html = try await offThePool {
            let (store, run) = try await storedRun(
                transports: ["websocket": values, "sse": values.map { $0.map { $0 * 3 } }],
                recordings: ["a.wav", "b.wav", "c.wav"])
            return HTMLRenderer.render(try await ReportData.load(run, from: store))
        }
        #expect(html.utf8.count < 1_000_000, "\(html.utf8.count) bytes")
        #expect(ReportFile(html: html).values("cdf", "data-n", transport: "websocket").first == "1000")
    }

    @Test func runsWithoutOkTrialsOrWithOneTransportSaySoInBothFormats() async throws {
        let (none, noneRun) = try await storedRun(
            transports: ["websocket": [nil, nil], "sse": [nil]],
            statuses: ["websocket": .failed(.connect), "sse": .failed(.httpStatus)])
        let data = try await ReportData.load(noneRun, from: none)
        let html = HTMLRenderer.render(data)
        #expect(
            html.contains("No ok trials: no TTFA distribution to draw.")
                && html.contains("No ok trials: no phases to draw."))
        #expect(html.contains("<td>connect</td>") && html.contains("<td>http_status</td>"))
        let markdown = MarkdownRenderer.summary(data.summary)
        #expect(markdown.contains("No ok trials: no chart.") && !markdown.contains("```mermaid"))

        let (one, oneRun) = try await storedRun(transports: ["sse": [900, 1000, 950]])
        let single = try await ReportData.load(oneRun, from: one)
        #expect(HTMLRenderer.render(single).contains("One transport measured: no comparison."))
        #expect(MarkdownRenderer.summary(single.summary).contains("x-axis [\"sse\"]"))
    }

    @Test func markdownCarriesAMermaidChartGitHubRenders() async throws {
        let (store, run) = try await storedRun(transports: [
            "websocket": [300, 320, 310], "sse": [900, 950, nil], "sse-stream": [nil, nil],
        ])
        let markdown = MarkdownRenderer.summary(try await ReportData.load(run, from: store).summary)
        let block = try #require(
            markdown.components(separatedBy: "```mermaid\n").dropFirst().first?.components(separatedBy: "\n```").first)
        let lines = block.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
        #expect(lines.first == "xychart-beta")
        #expect(lines.contains("x-axis [\"websocket\", \"sse\", \"sse-stream\"]"))
        let bar = try #require(lines.first { $0.hasPrefix("bar [") })
        let line = try #require(lines.first { $0.hasPrefix("line [") })
        #expect(bar.split(separator: ",").count == 3 && line.split(separator: ",").count == 3)
        #expect(line == "line [310.0, 925.0, 0.0]")
        #expect(markdown.contains("sse-stream: no ok trials (drawn as 0)"))
    }

    @Test func againstOverlaysTwoRunsAndTabulatesTheDifferences() async throws {
        let (store, run) = try await storedRun(transports: ["websocket": [300, 310, 320]])
        let (_, _) = (store, run)
        let (store2, run2) = try await storedRun(transports: ["websocket": [330, 341, 352]])
        let html = HTMLRenderer.render(
            try await ReportData.load(run2, from: store2), against: try await ReportData.load(run, from: store))
        let file = ReportFile(html: html)
        #expect(file.values("cdf", "stroke-dasharray").count == 2, "the other run's lines are dashed (linear and log)")
        #expect(html.contains("<td>p50</td><td>\(Format.ms(341))</td><td>\(Format.ms(310))</td><td>+\(Format.ms(31))"))
        #expect(file.waterfall.count == 2)
    }
}
