import Checks
import Foundation
import Statistics
import Storage
import TTFASupport

/// Renders a `RunSummary` for people (terminal table, Markdown) and machines (JSON).
public enum SummaryRenderer {
    // MARK: JSON (the `--json` contract)

    public static func json(_ summary: RunSummary, database: String) -> JSONValue {
        func stats(_ s: Summary?) -> JSONValue {
            guard let s else { return .null }
            return .object([
                ("p50", .double(round3(s.p50))), ("p90", .double(round3(s.p90))), ("p95", .double(round3(s.p95))),
                ("p99", .double(round3(s.p99))), ("mean", .double(round3(s.mean))), ("min", .double(round3(s.min))),
                ("max", .double(round3(s.max))),
            ])
        }
        func kinds(_ counts: [(kind: String, count: Int)]) -> JSONValue { .object(counts.map { ($0.kind, .int(Int64($0.count))) }) }
        return .object([
            ("run_id", .int(summary.run.id ?? 0)),
            ("database", .string(database)),
            ("label", .optional(summary.run.label)),
            ("status", .string(summary.run.status.rawValue)),
            ("context", .optional(summary.context)),
            ("transports", .array(summary.transports.map { t in
                .object([
                    ("transport", .string(t.transport)),
                    ("endpoint", .string(t.endpoint)),
                    ("connection", .string(t.connection)),
                    ("trials", .int(Int64(t.trials))),
                    ("ok", .int(Int64(t.ok))),
                    ("failed", .int(Int64(t.failed))),
                    ("invalid", .int(Int64(t.invalid))),
                    ("timeouts", .int(Int64(t.timeouts))),
                    ("anomalies", .int(Int64(t.anomalies))),
                    ("audio_bursts_p50", .optional(t.audioBurstsP50)),
                    ("looks_buffered", .bool(t.looksBuffered)),
                    ("errors", kinds(t.errors)),
                    ("warmup", .object([("trials", .int(Int64(t.warmup.trials))), ("ok", .int(Int64(t.warmup.ok))), ("errors", kinds(t.warmup.errors))])),
                    ("connection_reuse", .object([("warm_trials", .int(Int64(t.reuse.warm))), ("reused", .int(Int64(t.reuse.reused))),
                                                  ("reconnected", .int(Int64(t.reuse.reconnected)))])),
                    ("ttfa_ms", stats(t.ttfa)),
                    ("ttfa_p50_with_timeouts_ms", censored(t.ttfaWithTimeouts)),
                    ("phases_ms", .object(t.phases.map { ($0.phase.rawValue, .double(round3($0.summary.p50))) })),
                    ("breakdown_ms", t.breakdown.map { b in
                        .object([("trial", .int(Int64(b.trial))), ("ttfa", .double(round3(b.ttfaMs)))] + b.parts.map { ($0.name, .double(round3($0.ms))) })
                    } ?? .null),
                    ("recordings", .array(t.recordings.map { r in
                        .object([("recording", .string(r.name)), ("duration_ms", .double(round3(r.durationMs))), ("ttfa_ms", stats(r.ttfa))])
                    })),
                    ("underruns", .int(Int64(t.underruns))),
                    ("underrun_ms", .double(round3(t.underrunMs))),
                ])
            })),
            ("comparisons", .array(summary.comparisons.map { c in
                .object([
                    ("baseline", .string(c.baseline)), ("candidate", .string(c.candidate)), ("metric", "ttfa_p50"),
                    ("ratio", .double(round3(c.ratio))),
                    ("ci95", .array([.double(round3(c.ci95.low)), .double(round3(c.ci95.high))])),
                ])
            })),
            ("verdict", .optional(summary.verdict?.text)),
            ("verdicts", .array(summary.verdicts.map { .string($0.text) })),
            ("verdict_withheld", .bool(summary.verdict?.withheld ?? false)),
        ] + thresholds(summary.checks))
    }

    /// `thresholds`, when any were checked.
    static func thresholds(_ checks: [ThresholdResult]) -> [(String, JSONValue)] {
        guard !checks.isEmpty else { return [] }
        let items: [JSONValue] = checks.map { c in
            let value: JSONValue = c.value.map { .double(round3($0)) } ?? .null
            return .object([("threshold", .string(c.threshold.expression)), ("metric", .string(c.threshold.metricName)),
                            ("value", value), ("limit", .double(round3(c.threshold.limit))), ("passed", .bool(c.passed))])
        }
        return [("thresholds", .array(items))]
    }

    /// `null` without timeouts; otherwise `{"p50": ms}` or `{"at_least": ms}`.
    static func censored(_ value: CensoredMedian?) -> JSONValue {
        switch value {
        case nil: .null
        case .value(let ms): .object([("p50", .double(round3(ms)))])
        case .atLeast(let ms): .object([("at_least", ms.isFinite ? .double(round3(ms)) : .null)])
        }
    }

    static func round3(_ v: Double) -> Double { (v * 1000).rounded() / 1000 }

    // MARK: rows shared by table and Markdown

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
            rows.append(("warm-up trials", cells { w in
                w.warmup.trials == w.warmup.ok ? "\(w.warmup.trials): all ok" : "\(w.warmup.trials): \(w.warmup.ok) ok, \(Format.kinds(w.warmup.errors))"
            }))
        }
        if ts.contains(where: { $0.reuse.warm > 0 }) {
            rows.append(("warm connection reused", cells { t in
                guard t.reuse.warm > 0 else { return "– (cold)" }
                return "\(t.reuse.reused) of \(t.reuse.warm)" + (t.reuse.reconnected > 0 ? ", \(t.reuse.reconnected) reconnected in the trial" : "")
            }))
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
                guard ts.contains(where: { ($0.breakdown?.parts.first { $0.name == name }?.ms ?? 0) >= 0.05 }) else { continue }
                rows.append(("  \(Breakdown.labels[name]!)", cells { t in
                    t.breakdown.map { Format.ms($0.parts.first { $0.name == name }!.ms) } ?? "–"
                }))
            }
            rows.append(("  = TTFA of that trial", cells { $0.breakdown.map { Format.ms($0.ttfaMs) } ?? "–" }))
        }
        var recordingNames: [(String, Double)] = []
        for t in ts { for r in t.recordings where !recordingNames.contains(where: { $0.0 == r.name }) { recordingNames.append((r.name, r.durationMs)) } }
        if recordingNames.count > 1 {
            rows.append(("TTFA p50 per recording", ts.map { _ in "" }))
            for (name, duration) in recordingNames {
                rows.append(("  \(name) (\(String(format: "%.1f", duration / 1000)) s)", cells { t in Format.ms(t.recordings.first { $0.name == name }?.ttfa?.p50) }))
            }
        }
        rows.append(("playback underruns", cells { $0.underruns == 0 ? "none" : "\($0.underruns) (\(Format.ms($0.underrunMs)) stalled)" }))
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

    // MARK: terminal table

    public static func table(_ summary: RunSummary) -> String {
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
                out += "note: \(t.transport) audio arrived in clumps (median \(Format.number(bursts)) per answer of events landing within 1 ms of each other) rather than as the server paced it: a proxy or platform buffering the response is a likely cause (nginx: proxy_buffering off / X-Accel-Buffering: no); --link buffer=4k reproduces it\n"
            }
            if t.reuse.reconnected > 0 {
                out += "warning: \(t.reuse.reconnected) of \(t.reuse.warm) warm \(t.transport) trials had to open a new connection inside the trial (the server closed the kept-alive one between trials); their TTFA includes connection set-up\n"
            }
        }
        for verdict in summary.verdicts {
            out += "verdict: \(verdict.text)\n"
        }
        if !summary.checks.isEmpty {
            let failed = summary.checks.filter { !$0.passed }.count
            out += "thresholds: \(failed == 0 ? "all \(summary.checks.count) passed" : "\(failed) of \(summary.checks.count) failed")\n"
            for check in summary.checks { out += "  \(check.line)\n" }
        }
        if summary.warmups > 0 {
            out += "(\(Format.count(summary.warmups, "warm-up trial")) stored but left out of the statistics)\n"
        }
        return out
    }

    // MARK: Markdown

    public static func markdown(_ summary: RunSummary) -> String {
        var out = "### ttfa \(heading(summary))\n\n"
        guard !summary.transports.isEmpty else { return out + "No measured trials.\n" }
        out += "| | " + summary.transports.map(\.transport).joined(separator: " | ") + " |\n"
        out += "|---|" + summary.transports.map { _ in "---:|" }.joined() + "\n"
        for (label, cells) in rows(summary) {
            let name = label.hasPrefix("  ") ? "&nbsp;&nbsp;" + label.dropFirst(2) : "**\(label)**"
            out += "| \(escape(String(name))) | " + cells.map(escape).joined(separator: " | ") + " |\n"
        }
        out += "\n" + mermaid(summary)
        for verdict in summary.verdicts { out += "**Verdict:** \(escape(verdict.text))\n\n" }
        if !summary.checks.isEmpty {
            out += "| threshold | measured | |\n|---|---:|:---:|\n"
            for check in summary.checks {
                out += "| `\(escape(check.threshold.expression))` | \(check.threshold.format(check.value)) | \(check.passed ? "✅" : "❌") |\n"
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
}

extension String {
    func trimmingTrailingSpaces() -> String {
        var s = self
        while s.last == " " { s.removeLast() }
        return s
    }
}
