import Checks
import Foundation
import Statistics
import Storage
import TTFASupport

/// Markdown for a CI job summary or a pull-request comment: each run's summary (with a Mermaid
/// chart GitHub renders), then the verdict of a comparison, a load group's contributions first.
package struct MarkdownRenderer: ReportRenderer {
    package init() {}

    package func render(_ report: Report) -> String {
        var out = report.group.map { TableRenderer.contributions($0, markdown: true) } ?? ""
        out += report.summaries.map(Self.summary).joined(separator: "\n")
        if let check = report.check { out += (report.summaries.isEmpty ? "" : "\n") + Self.check(check) }
        return out
    }

    /// One run's summary.
    package static func summary(_ summary: RunSummary) -> String {
        var out = "### ttfa \(TableRenderer.heading(summary))\n\n"
        guard !summary.transports.isEmpty else { return out + "No measured trials.\n" }
        out += "| | " + summary.transports.map(\.transport).joined(separator: " | ") + " |\n"
        out += "|---|" + summary.transports.map { _ in "---:|" }.joined() + "\n"
        for (label, cells) in TableRenderer.rows(summary) {
            let name = label.hasPrefix("  ") ? "&nbsp;&nbsp;" + label.dropFirst(2) : "**\(label)**"
            out += "| \(escape(String(name))) | " + cells.map(escape).joined(separator: " | ") + " |\n"
        }
        out += "\n" + mermaid(summary)
        for verdict in summary.verdicts { out += "**Verdict:** \(escape(verdict.text))\n\n" }
        if !summary.checks.isEmpty {
            out += "| threshold | measured | |\n|---|---:|:---:|\n"
            for check in summary.checks {
                out +=
                    "| `\(escape(check.threshold.expression))` | \(check.threshold.format(check.value)) | \(check.passed ? "✅" : "❌") |\n"
            }
            out += "\n"
        }
        return out
    }

    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "|", with: "\\|")
    }

    /// A Mermaid `xychart-beta` GitHub renders: p95 as bars, p50 as a line, per transport.
    static func mermaid(_ summary: RunSummary) -> String {
        let measured = summary.transports.filter { $0.ttfa != nil }
        guard !measured.isEmpty else { return "_No ok trials: no chart._\n\n" }
        func value(_ v: Double?) -> String { String(format: "%.1f", v ?? 0) }
        let top = Scale.niceMax((measured.compactMap { $0.ttfa?.p95 }.max() ?? 1) * 1.1)
        var out = "```mermaid\nxychart-beta\n"
        out += "    title \"TTFA per transport in ms, p95 as bars and p50 as a line\"\n"
        out += "    x-axis [" + summary.transports.map { "\"\($0.transport)\"" }.joined(separator: ", ") + "]\n"
        out += "    y-axis \"milliseconds\" 0 --> \(SVGChart.number(top))\n"
        out += "    bar [" + summary.transports.map { value($0.ttfa?.p95) }.joined(separator: ", ") + "]\n"
        out += "    line [" + summary.transports.map { value($0.ttfa?.p50) }.joined(separator: ", ") + "]\n```\n\n"
        let missing = summary.transports.filter { $0.ttfa == nil }.map(\.transport)
        if !missing.isEmpty { out += "_\(missing.joined(separator: ", ")): no ok trials (drawn as 0)._\n\n" }
        return out
    }

    // MARK: the comparison

    /// A regression check's table.
    package static func check(_ check: RegressionCheck) -> String {
        var out = "### ttfa compare: \(check.regressed.isEmpty ? "✅ no regression" : "❌ regression")\n\n"
        out +=
            "Baseline \(escape(check.baseline.source)) · candidate \(escape(check.candidate.source)) · tolerance \(escape(check.tolerance.description))\n\n"
        if !check.mismatches.isEmpty {
            out += "> **Configuration differs** — the numbers may not be comparable:\n"
            for m in check.mismatches { out += "> - \(escape(m.line))\n" }
            out += "\n"
        }
        out +=
            "| metric | baseline | candidate | difference | 95% CI | tolerance | verdict |\n|---|---:|---:|---:|---|---:|---|\n"
        for m in check.metrics {
            let icon = m.outcome == .regressed ? "❌ " : m.outcome == .improved ? "✅ " : ""
            let ci = m.ci95.map { "\(signed($0.low)) … \(signed($0.high))" } ?? (m.note ?? "–")
            out +=
                "| `\(m.metric)` | \(Format.ms(m.baseline)) | \(Format.ms(m.candidate)) | \(m.difference.map(signed) ?? "–") | \(escape(ci)) | \(m.toleranceMs.map { "±" + Format.ms($0) } ?? "–") | \(icon)\(m.outcome.rawValue) |\n"
        }
        out += "\n\(check.tally).\n"
        return out
    }

    package static func thresholds(_ thresholds: [ThresholdResult]) -> String {
        guard !thresholds.isEmpty else { return "" }
        let failed = thresholds.filter { !$0.passed }.count
        var out =
            "### ttfa thresholds: \(failed == 0 ? "✅ all \(thresholds.count) passed" : "❌ \(failed) of \(thresholds.count) failed")\n\n"
        out += "| threshold | measured | |\n|---|---:|:---:|\n"
        for t in thresholds {
            out +=
                "| `\(escape(t.threshold.expression))` | \(t.threshold.format(t.value)) | \(t.passed ? "✅" : "❌") |\n"
        }
        return out + "\n"
    }

    static func signed(_ v: Double) -> String { (v >= 0 ? "+" : "−") + Format.ms(abs(v)) }
}
