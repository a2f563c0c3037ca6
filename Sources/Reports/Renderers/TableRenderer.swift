import Checks
import Foundation
import Statistics
import Storage
import TTFASupport

/// The terminal table: for each run its side-by-side summary, then the A/B or `compare`
/// verdict, a load group's contributions first (`ttfa run`, `ttfa report`, `ttfa compare`).
package struct TableRenderer: ReportRenderer {
    package init() {}

    package func render(_ report: Report) -> String {
        var out = report.group.map(Self.group) ?? ""
        for summary in report.summaries { out += Self.summary(summary) }
        if let check = report.check { out += Self.check(check) }
        return out
    }

    /// One run's summary.
    /// A load group's contributions.
    package static func group(_ group: LoadGroup) -> String { contributions(group, markdown: false) }

    package static func summary(_ summary: RunSummary) -> String {
        guard !summary.transports.isEmpty else {
            return heading(summary) + "\nno measured trials\n"
        }
        let header = ("", summary.transports.map(\.transport))
        let all = [header] + rows(summary)
        let labelWidth = all.map { $0.0.count }.max() ?? 0
        let widths = summary.transports.indices.map { i in all.map { $0.1[i].count }.max() ?? 0 }
        var out = heading(summary) + "\n"
        for (label, cells) in all {
            var line = label.padding(toLength: labelWidth, withPad: " ", startingAt: 0)
            for (i, cell) in cells.enumerated() {
                line += "  " + cell.padding(toLength: widths[i], withPad: " ", startingAt: 0)
            }
            out += line.trimmingTrailingSpaces() + "\n"
        }
        out += footer(summary)
        return out
    }

    static func footer(_ summary: RunSummary) -> String {
        var out = ""
        for t in summary.transports {
            for (kind, message) in t.exampleErrors {
                out += "\(t.transport) \(kind): \(message)\n"
            }
            if let example = t.warmup.example {
                out += "\(t.transport) warm-up \(t.warmup.errors.first?.kind ?? ""): \(example)\n"
            }
            if t.looksBuffered, let bursts = t.audioBurstsP50 {
                out +=
                    "note: \(t.transport) audio arrived in clumps (median \(Format.number(bursts)) per answer of events landing within 1 ms of each other) rather than as the server paced it: a proxy or platform buffering the response is a likely cause (nginx: proxy_buffering off / X-Accel-Buffering: no); --link buffer=4k reproduces it\n"
            }
            if t.reuse.reconnected > 0 {
                out +=
                    "warning: \(t.reuse.reconnected) of \(t.reuse.warm) warm \(t.transport) trials had to open a new connection inside the trial (the server closed the kept-alive one between trials); their TTFA includes connection set-up\n"
            }
        }
        for verdict in summary.verdicts {
            out += "verdict: \(verdict.text)\n"
        }
        if !summary.checks.isEmpty {
            let failed = summary.checks.filter { !$0.passed }.count
            out +=
                "thresholds: \(failed == 0 ? "all \(summary.checks.count) passed" : "\(failed) of \(summary.checks.count) failed")\n"
            for check in summary.checks { out += "  \(check.line)\n" }
        }
        if summary.warmups > 0 {
            out += "(\(Format.count(summary.warmups, "warm-up trial")) stored but left out of the statistics)\n"
        }
        return out
    }

    // MARK: rows shared with Markdown and HTML

    /// (label, one cell per transport) rows of the side-by-side summary.
    static func rows(_ summary: RunSummary) -> [(String, [String])] {
        let ts = summary.transports
        func cells(_ f: (TransportSummary) -> String) -> [String] { ts.map(f) }
        var rows: [(String, [String])] = [
            ("endpoint", cells(\.endpoint)),
            ("connection", cells(\.connection)),
            ("trials", cells { "\($0.trials): \($0.ok) ok, \($0.failed) failed, \($0.invalid) invalid" }),
            ("TTFA p50", cells { Format.ms($0.ttfa?.p50) }),
            ("TTFA p90", cells { Format.ms($0.ttfa?.p90) }),
            ("TTFA p95", cells { Format.ms($0.ttfa?.p95) }),
            ("TTFA p99", cells { Format.ms($0.ttfa?.p99) }),
            ("TTFA mean", cells { Format.ms($0.ttfa?.mean) }),
            ("TTFA min … max", cells { $0.ttfa.map { "\(Format.ms($0.min)) … \(Format.ms($0.max))" } ?? "–" }),
        ]
        if ts.contains(where: { $0.timeouts > 0 }) {
            rows.append(("TTFA p50 with timeouts", cells { $0.ttfaWithTimeouts?.text ?? Format.ms($0.ttfa?.p50) }))
        }
        if ts.contains(where: { $0.warmup.trials > 0 }) {
            rows.append(
                (
                    "warm-up trials",
                    cells { w in
                        w.warmup.trials == w.warmup.ok
                            ? "\(w.warmup.trials): all ok"
                            : "\(w.warmup.trials): \(w.warmup.ok) ok, \(Format.kinds(w.warmup.errors))"
                    }
                ))
        }
        if ts.contains(where: { $0.reuse.warm > 0 }) {
            rows.append(
                (
                    "warm connection reused",
                    cells { t in
                        guard t.reuse.warm > 0 else { return "– (cold)" }
                        return "\(t.reuse.reused) of \(t.reuse.warm)"
                            + (t.reuse.reconnected > 0 ? ", \(t.reuse.reconnected) reconnected in the trial" : "")
                    }
                ))
        }
        let present = Phase.allCases.filter { phase in ts.contains { $0.phase(phase) != nil } }
        let setup = present.filter(\.isConnectionSetup)
        if !setup.isEmpty {
            rows.append(("connection setup in trial (p50)", ts.map { _ in "" }))
            for phase in setup { rows.append(("  \(label(phase))", cells { Format.ms($0.phase(phase)?.p50) })) }
        }
        let after = present.filter { !$0.isConnectionSetup }
        if !after.isEmpty {
            rows.append(("after speech end (p50)", ts.map { _ in "" }))
            for phase in after { rows.append(("  \(label(phase))", cells { Format.ms($0.phase(phase)?.p50) })) }
        }
        if ts.contains(where: { $0.breakdown != nil }) {
            rows.append(("where the time goes (median trial)", ts.map { _ in "" }))
            for name in ["encode", "connection_setup", "upload", "edge", "ingest", "model", "network"] {
                guard ts.contains(where: { ($0.breakdown?.parts.first { $0.name == name }?.ms ?? 0) >= 0.05 }) else {
                    continue
                }
                rows.append(
                    (
                        "  \(Breakdown.labels[name]!)",
                        cells { t in
                            t.breakdown.map { Format.ms($0.parts.first { $0.name == name }!.ms) } ?? "–"
                        }
                    ))
            }
            rows.append(("  = TTFA of that trial", cells { $0.breakdown.map { Format.ms($0.ttfaMs) } ?? "–" }))
        }
        var recordingNames: [(String, Double)] = []
        for t in ts {
            for r in t.recordings where !recordingNames.contains(where: { $0.0 == r.name }) {
                recordingNames.append((r.name, r.durationMs))
            }
        }
        if recordingNames.count > 1 {
            rows.append(("TTFA p50 per recording", ts.map { _ in "" }))
            for (name, duration) in recordingNames {
                rows.append(
                    (
                        "  \(name) (\(String(format: "%.1f", duration / 1000)) s)",
                        cells { t in Format.ms(t.recordings.first { $0.name == name }?.ttfa?.p50) }
                    ))
            }
        }
        rows.append(
            (
                "playback underruns",
                cells { $0.underruns == 0 ? "none" : "\($0.underruns) (\(Format.ms($0.underrunMs)) stalled)" }
            ))
        if ts.contains(where: { $0.anomalies > 0 }) {
            rows.append(("anomalies set aside", cells { $0.anomalies == 0 ? "none" : String($0.anomalies) }))
        }
        rows.append(("errors", cells { $0.errors.isEmpty ? "none" : Format.kinds($0.errors) }))
        return rows
    }

    /// A phase's row label in the table.
    static func label(_ phase: Phase) -> String {
        switch phase {
        case .dns: "DNS"
        case .connect: "TCP connect"
        case .tls: "TLS"
        case .upgrade: "WebSocket upgrade"
        case .secret: "client secret (edge)"
        case .offerAnswer: "SDP offer/answer"
        case .ice: "ICE"
        case .dtls: "DTLS"
        case .datachannel: "data channel open"
        case .firstRTP: "first RTP packet"
        case .playout: "playout (jitter buffer)"
        case .encode: "client encode (duration)"
        case .upload: "request body sent"
        case .uploadBlocked: "blocked on the network (duration)"
        case .responseHeaders: "response headers"
        case .firstByte: "first byte"
        case .firstEvent: "first event"
        case .firstAudio: "first audio = TTFA"
        case .lastAudio: "last audio"
        case .done: "answer complete"
        }
    }

    static func heading(_ summary: RunSummary) -> String {
        var parts = ["run \(summary.run.id ?? 0)", summary.run.status.rawValue, summary.run.startedAt]
        if let label = summary.run.label { parts.append("label \"\(label)\"") }
        return parts.joined(separator: " · ")
    }

    // MARK: the comparison

    /// A regression check's table and verdict.
    package static func check(_ check: RegressionCheck) -> String {
        var out = "ttfa compare: baseline \(check.baseline.source) vs candidate \(check.candidate.source)\n"
        out += "tolerance: \(check.tolerance) (a metric regresses only when its whole 95% CI lies beyond it)\n"
        for m in check.mismatches { out += "configuration differs — \(m.line)\n" }
        let rows: [[String]] =
            [["metric", "baseline", "candidate", "difference (95% CI; tolerance)", "verdict"]]
            + check.metrics.map { m in
                [m.metric, Format.ms(m.baseline), Format.ms(m.candidate), m.differenceText, m.outcome.rawValue]
            }
        let widths = (0..<5).map { column in rows.map { $0[column].count }.max() ?? 0 }
        for row in rows {
            out +=
                zip(row, widths).map { $0.0.padding(toLength: $0.1, withPad: " ", startingAt: 0) }.joined(
                    separator: "  "
                ).trimmingTrailingSpaces() + "\n"
        }
        out += "verdict: \(headline(check))\n"
        return out
    }

    /// "regression: sse.ttfa.p50 +312 ms (…)" or "no regression: 0 regressed, 1 improved, 9 unchanged".
    package static func headline(_ check: RegressionCheck) -> String {
        if check.metrics.isEmpty { return "nothing to compare: the two sides share no transport with ok trials" }
        if check.regressed.isEmpty { return "no regression (\(check.tally))" }
        return "regression (\(check.tally)): "
            + check.regressed.map { "\($0.metric) \($0.differenceText)" }.joined(separator: "; ")
    }

    // MARK: a load group

    /// Which machine contributed what, as a table (terminal) or Markdown.
    static func contributions(_ group: LoadGroup, markdown: Bool) -> String {
        let (name, runs, contributions) = (group.name, group.runs, group.contributions)
        let header = ["run", "machine", "status", "trials", "ok", "failed", "invalid", "p50 TTFA"]
        let rows = contributions.map { c in
            [
                String(c.run.id ?? 0), c.run.hostname, c.run.status.rawValue, String(c.trials), String(c.ok),
                String(c.failed), String(c.invalid),
                c.p50.map { "\($0.transport) \($0.ms.map { String(format: "%.1f ms", $0) } ?? "–")" }.joined(
                    separator: ", "),
            ]
        }
        let total = contributions.reduce(0) { $0 + $1.trials }
        let title =
            "Load group \(name): \(runs.count) run\(runs.count == 1 ? "" : "s") on \(Set(runs.map(\.hostname)).count) machine\(Set(runs.map(\.hostname)).count == 1 ? "" : "s"), \(total) trials merged"
        if markdown {
            var text =
                "### \(title)\n\n| " + header.joined(separator: " | ") + " |\n|"
                + header.map { _ in "---" }.joined(separator: "|") + "|\n"
            for row in rows {
                text +=
                    "| " + row.map { $0.replacingOccurrences(of: "|", with: "\\|") }.joined(separator: " | ") + " |\n"
            }
            return text + "\n"
        }
        let widths = header.indices.map { i in ([header[i]] + rows.map { $0[i] }).map(\.count).max()! }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { i, cell in cell.padding(toLength: widths[i], withPad: " ", startingAt: 0) }.joined(
                separator: "  "
            )
            .trimmingCharacters(in: .whitespaces)
        }
        return ([title, line(header)] + rows.map(line)).joined(separator: "\n") + "\n\n"
    }
}

extension String {
    func trimmingTrailingSpaces() -> String {
        var s = self
        while s.last == " " { s.removeLast() }
        return s
    }
}
