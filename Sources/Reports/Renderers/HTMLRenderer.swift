import Foundation
import Statistics
import Storage
import TTFASupport

/// The self-contained HTML report (`ttfa report --format html`): inline CSS and SVG, no
/// scripts, nothing fetched — readable offline, in a CI artifact viewer, and printed on A4.
package struct HTMLRenderer: ReportRenderer {
    package init() {}

    /// The report's charts (`Report.charts`; nothing to draw without them).
    package func render(_ report: Report) -> String {
        guard let charts = report.charts else { return "" }
        return Self.render(charts.run, against: charts.baseline)
    }

    package static func render(_ data: ReportData, against: ReportData? = nil) -> String {
        let s = data.summary
        var html = """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
            <title>ttfa report — run \(s.run.id ?? 0)\(against.map { " against run \($0.summary.run.id ?? 0)" } ?? "")</title>
            <style>\(css)</style></head><body>
            <header><h1>Time to first audio — run \(s.run.id ?? 0)\(against.map { " against run \($0.summary.run.id ?? 0)" } ?? "")</h1>
            <p class="sub">\(esc(TableRenderer.heading(s)))</p></header>

            """
        html += section("verdict", "Verdict", verdict(data, against: against))
        html += section("facts", "The run", facts(data, against: against))
        html += section("summary", "Summary", summaryTable(data, against: against))
        let colors = colorMap(data, against)
        var series: [ReportCharts.Series] = data.summary.transports.map {
            .init(
                name: label($0.transport, run: against == nil ? nil : data), color: colors[$0.transport]!,
                values: $0.ttfaValues)
        }
        if let against {
            series += against.summary.transports.map {
                .init(
                    name: label($0.transport, run: against), color: colors[$0.transport]!, dashed: true,
                    values: $0.ttfaValues)
            }
        }
        html += section(
            "cdf", "Distribution of TTFA",
            "<p class=\"note\">Each line passes through one point per ok trial: the share of trials that had answered by that time. Left and up is faster. Failed and invalid trials are not in it (they are listed below).</p>"
                + ReportCharts.cdf(series, log: false) + ReportCharts.cdf(series, log: true))
        var rows = data.summary.transports.compactMap {
            data.waterfallRow($0, label: label($0.transport, run: against == nil ? nil : data))
        }
        if let against {
            rows += against.summary.transports.compactMap {
                against.waterfallRow($0, label: label($0.transport, run: against))
            }
        }
        let serverKnown = data.summary.transports.contains { $0.breakdown != nil }
        html += section(
            "waterfall", "Why one transport is slower",
            "<p class=\"note\">The median trial of each transport, from the end of speech to its first audio. \(serverKnown ? "The server's own record (the embedded reference server) splits its time into edge overhead, ingest and model; the rest is the client's work and the network." : "Milestones the client saw: its own work, the request on the wire, then waiting for the answer.")</p>"
                + ReportCharts.waterfall(rows))
        let recordings = Set(data.trials.map(\.recording))
        if recordings.count >= 2 {
            var lengthSeries = lengthSeries(data, colors: colors, dashed: false, tagged: against != nil)
            if let against { lengthSeries += self.lengthSeries(against, colors: colors, dashed: true, tagged: true) }
            html += section(
                "length", "TTFA versus recording length",
                "<p class=\"note\">A transport that uploads the recording only at the end of speech grows with its length; one that streams while the user speaks stays flat.</p>"
                    + ReportCharts.length(lengthSeries))
        } else {
            html += section(
                "length", "TTFA versus recording length",
                "<p class=\"empty\">One recording in this run: measure several (<code>--audio</code>, repeatable) to see how TTFA grows with length.</p>"
            )
        }
        var timelines = ""
        for item in data.timelines {
            timelines += "<h3>\(esc(item.transport)) — trial \(item.trial.seq), \(esc(item.trial.recording))</h3>"
            timelines += ReportCharts.timeline(
                transport: item.transport, trial: item.trial, events: item.events,
                color: colors[item.transport] ?? "#000000")
        }
        html += section(
            "timeline", "One turn, event by event",
            timelines.isEmpty
                ? "<p class=\"empty\">No ok trials: no turn to show.</p>"
                : "<p class=\"note\">Each transport's median trial: microphone chunks as they left, messages as they arrived, audio, the end of speech (dashed) and the first audio; orange bars are where a player would have run dry.</p>"
                    + timelines)
        html += section(
            "failures", "Failed and invalid trials",
            failures(data) + (against.map { "<h3>Run \($0.summary.run.id ?? 0)</h3>" + failures($0) } ?? ""))
        html +=
            "<footer>ttfa \(esc(s.run.ttfaVersion)) · recomputed from the stored trials · \(esc(s.run.startedAt))</footer></body></html>\n"
        return html
    }

    // MARK: sections

    static func section(_ id: String, _ title: String, _ body: String) -> String {
        "<section id=\"\(id)\"><h2>\(esc(title))</h2>\(body)</section>\n"
    }

    static func verdict(_ data: ReportData, against: ReportData?) -> String {
        let s = data.summary
        var out = ""
        if s.transports.isEmpty { out += "<p class=\"verdict\">No measured trials in this run.</p>" }
        for v in s.verdicts { out += "<p class=\"verdict\">\(esc(v.text))</p>" }
        if s.verdicts.isEmpty && !s.transports.isEmpty {
            out += "<p class=\"verdict\">One transport measured: no comparison.</p>"
        }
        let config = (try? JSONSerialization.jsonObject(with: Data(s.run.configJSON.utf8))) as? [String: Any]
        let health = s.health(maxInvalidShare: config?["max_invalid"] as? Double ?? 0.1)
        for problem in health.problems { out += "<p class=\"problem\">\(esc(problem))</p>" }
        if !s.checks.isEmpty {
            out += "<table class=\"checks\"><tr><th>threshold</th><th>measured</th><th></th></tr>"
            for c in s.checks {
                out +=
                    "<tr><td><code>\(esc(c.threshold.expression))</code></td><td>\(esc(c.threshold.format(c.value)))</td><td>\(c.passed ? "pass" : "<strong>fail</strong>")</td></tr>"
            }
            out += "</table>"
        }
        if let against {
            out +=
                "<p class=\"note\">Against run \(against.summary.run.id ?? 0) (\(esc(TableRenderer.heading(against.summary)))): its lines are dashed.</p>"
        }
        return out
    }

    static func facts(_ data: ReportData, against: ReportData?) -> String {
        func table(_ run: RunRecord, _ trials: [TrialRecord]) -> String {
            let config = (try? JSONSerialization.jsonObject(with: Data(run.configJSON.utf8))) as? [String: Any] ?? [:]
            var rows: [(String, String)] = [
                ("run", "\(run.id ?? 0) · \(run.status.rawValue)\(run.label.map { " · \"\($0)\"" } ?? "")"),
                ("when", "\(run.startedAt) → \(run.endedAt ?? "–") (UTC)"),
                ("where", "\(run.hostname) · \(run.os) · \(run.cpuCount) × \(run.cpuModel)"),
                (
                    "versions",
                    "ttfa \(run.ttfaVersion)\(run.gitCommit.map { " (\($0.prefix(12)))" } ?? "") · Swift \(run.swiftVersion) · \(run.curlVersion) · \(run.opensslVersion) · \(run.databaseVersion)"
                ),
            ]
            if let server = config["reference_server"] as? [String: Any],
                let profiles = server["profiles"] as? [String: Any]
            {
                let described = profiles.keys.sorted().map { key -> String in
                    let profile = profiles[key] as? [String: Any]
                    return
                        "\(key): \(profile?["name"] as? String ?? "?")\((profile?["description"] as? String).map { " — \($0)" } ?? "")"
                }
                rows.append(("server", "the embedded reference server; " + described.joined(separator: "; ")))
            } else if config["reference_server"] != nil {
                rows.append(("server", "the embedded reference server"))
            } else {
                rows.append(("server", "your own endpoints"))
            }
            rows.append(
                (
                    "link",
                    (config["link"] as? [String: Any]).map { link in
                        "\(link["name"] as? String ?? "custom")\((link["description"] as? String).map { ": \($0)" } ?? "")"
                    } ?? "none (the network ttfa ran on)"
                ))
            let recordings = (config["recordings"] as? [[String: Any]] ?? []).map {
                "\($0["name"] as? String ?? "?") (\(Format.ms($0["duration_ms"] as? Double)))"
            }
            rows.append(("recordings", recordings.joined(separator: ", ")))
            rows.append(
                (
                    "trials",
                    "\(config["trials"] as? Int ?? 0) measured + \(config["warmup"] as? Int ?? 0) warm-up per transport and recording · chunks of \(config["chunk_ms"] as? Int ?? 0) ms · timeout \(Format.ms(config["timeout_ms"] as? Double))"
                ))
            for t in config["transports"] as? [[String: Any]] ?? [] {
                let dialect = (t["dialect"] as? [String: Any])?["name"] as? String
                rows.append(
                    (
                        t["transport"] as? String ?? "?",
                        "\(t["endpoint"] as? String ?? "?") · \(t["connection"] as? String ?? "?")\(dialect.map { " · dialect \($0)" } ?? "")"
                    ))
            }
            let turn = (config["turn"] as? [String: Any])?["detection"] as? String
            rows.append(("turns", "\(turn ?? "manual") · context \(config["context"] as? String ?? "reset")"))
            rows.append(("command", run.commandLine))
            return "<table class=\"facts\">"
                + rows.map { "<tr><th>\(esc($0.0))</th><td>\(esc($0.1))</td></tr>" }.joined() + "</table>"
        }
        var out = table(data.summary.run, data.trials)
        if let against {
            out += "<h3>Run \(against.summary.run.id ?? 0)</h3>" + table(against.summary.run, against.trials)
        }
        return out
    }

    static func summaryTable(_ data: ReportData, against: ReportData?) -> String {
        let s = data.summary
        guard !s.transports.isEmpty else { return "<p class=\"empty\">No measured trials.</p>" }
        var out =
            "<table class=\"summary\"><tr><th></th>" + s.transports.map { "<th>\(esc($0.transport))</th>" }.joined()
            + "</tr>"
        for (label, cells) in TableRenderer.rows(s) {
            let indented = label.hasPrefix("  ")
            out +=
                "<tr\(indented ? " class=\"sub\"" : "")><th>\(esc(label.trimmingCharacters(in: .whitespaces)))</th>"
                + cells.map { "<td>\(esc($0))</td>" }.joined() + "</tr>"
        }
        out += "</table>"
        guard let against else { return out }
        out +=
            "<h3>Against run \(against.summary.run.id ?? 0)</h3><table class=\"summary diff\"><tr><th>transport</th><th>percentile</th><th>run \(s.run.id ?? 0)</th><th>run \(against.summary.run.id ?? 0)</th><th>difference</th></tr>"
        for t in s.transports {
            guard let other = against.summary.transports.first(where: { $0.transport == t.transport }) else { continue }
            for (name, a, b) in [
                ("p50", t.ttfa?.p50, other.ttfa?.p50), ("p90", t.ttfa?.p90, other.ttfa?.p90),
                ("p95", t.ttfa?.p95, other.ttfa?.p95), ("p99", t.ttfa?.p99, other.ttfa?.p99),
            ] {
                var difference = "–"
                if let a, let b, b > 0 {
                    let delta = a - b
                    difference =
                        "\(delta >= 0 ? "+" : "−")\(Format.ms(abs(delta))) (\(delta >= 0 ? "+" : "−")\(String(format: "%.1f", abs(delta) / b * 100))%)"
                }
                out +=
                    "<tr class=\"diffrow\" data-transport=\"\(esc(t.transport))\" data-percentile=\"\(name)\"><td>\(esc(t.transport))</td><td>\(name)</td><td>\(esc(Format.ms(a)))</td><td>\(esc(Format.ms(b)))</td><td>\(esc(difference))</td></tr>"
            }
        }
        return out + "</table>"
    }

    static func failures(_ data: ReportData) -> String {
        let bad = data.trials.filter { !$0.warmup && $0.status != .ok }
        guard !bad.isEmpty else { return "<p class=\"empty\">None: every measured trial was ok.</p>" }
        var out =
            "<table class=\"failures\"><tr><th>trial</th><th>transport</th><th>recording</th><th>status</th><th>why</th></tr>"
        for t in bad.prefix(200) {
            out +=
                "<tr class=\"failure\"><td>\(t.seq)</td><td>\(esc(t.transport))</td><td>\(esc(t.recording))</td><td>\(esc(t.status.rawValue))</td><td>\(esc(t.errorMessage ?? ""))</td></tr>"
        }
        out += "</table>"
        if bad.count > 200 {
            out += "<p class=\"note\">… and \(bad.count - 200) more (ttfa export lists them all).</p>"
        }
        return out
    }

    // MARK: helpers

    static func colorMap(_ data: ReportData, _ against: ReportData?) -> [String: String] {
        var names: [String] = []
        for t in data.summary.transports + (against?.summary.transports ?? []) where !names.contains(t.transport) {
            names.append(t.transport)
        }
        var map: [String: String] = [:]
        for (i, name) in names.enumerated() { map[name] = SVGChart.palette[i % SVGChart.palette.count] }
        return map
    }

    static func label(_ transport: String, run: ReportData?) -> String {
        run.map { "\(transport) (run \($0.summary.run.id ?? 0))" } ?? transport
    }

    static func lengthSeries(_ data: ReportData, colors: [String: String], dashed: Bool, tagged: Bool) -> [ReportCharts
        .LengthSeries]
    {
        data.summary.transports.map { t in
            let ok = data.trials.filter { $0.transport == t.transport && $0.isMeasuredOK && $0.ttfaNs != nil }
            return .init(
                name: label(t.transport, run: tagged ? data : nil), color: colors[t.transport] ?? "#000000",
                dashed: dashed,
                points: ok.map { (Double($0.recordingNs) / 1e9, Double($0.ttfaNs!) / 1e6) },
                medians: t.recordings.compactMap { r in r.ttfa.map { (r.durationMs / 1000, $0.p50) } })
        }
    }

    static func compact(_ value: Any) -> String {
        guard JSONSerialization.isValidJSONObject(value),
            let data = try? JSONSerialization.data(
                withJSONObject: value, options: [.sortedKeys, .withoutEscapingSlashes])
        else { return "\(value)" }
        return String(decoding: data, as: UTF8.self)
    }

    static func esc(_ text: String) -> String { SVGChart.escape(text) }

    static let css = """
        body{font:14px/1.45 -apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;color:#1a1a1a;max-width:760px;margin:24px auto;padding:0 16px}
        h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #ddd;padding-bottom:4px}h3{font-size:15px;margin:16px 0 6px}
        .sub{color:#555;margin:0}.note{color:#444;font-size:13px}.empty{color:#555;font-style:italic}
        .verdict{font-size:16px;font-weight:600;background:#f3f6fa;border-left:4px solid #0072B2;padding:8px 12px}.problem{color:#a33c00;font-weight:600}
        table{border-collapse:collapse;width:100%;font-size:13px;margin:6px 0}th,td{border-bottom:1px solid #e4e4e4;padding:3px 6px;text-align:left;vertical-align:top}
        table.summary{table-layout:fixed}table.summary tr:first-child th:first-child{width:200px}table.summary td{text-align:right;font-variant-numeric:tabular-nums;overflow-wrap:anywhere}table.summary tr.sub th{padding-left:18px;font-weight:normal;color:#444}
        table.facts th{width:110px;color:#444;font-weight:600}table.facts td{word-break:break-word}
        svg.chart{display:block;max-width:100%;height:auto;margin:8px 0 16px;font-size:11px}
        svg .grid{stroke:#e8e8e8}svg .axis{stroke:#333}svg .tick{fill:#444}svg .label{fill:#222;font-size:12px}
        svg .rowlabel{fill:#222;font-size:12px;font-weight:600}svg .rowsub{fill:#555;font-size:10px}svg .inbar{fill:#fff;font-size:10px;font-weight:600}
        svg .legendtext{fill:#222;font-size:11px}svg .marker{fill:#222;font-size:10px}
        footer{color:#777;font-size:12px;margin:32px 0 8px;border-top:1px solid #ddd;padding-top:6px}
        @media print{body{max-width:none;margin:0}section{break-inside:avoid}svg.chart{max-width:180mm}}
        """
}
