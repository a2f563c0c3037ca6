import Foundation

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
        return .object([
            ("run_id", .int(summary.run.id ?? 0)),
            ("database", .string(database)),
            ("label", .optional(summary.run.label)),
            ("status", .string(summary.run.status)),
            ("transports", .array(summary.transports.map { t in
                .object([
                    ("transport", .string(t.transport)),
                    ("endpoint", .string(t.endpoint)),
                    ("connection", .string(t.connection)),
                    ("trials", .int(Int64(t.trials))),
                    ("ok", .int(Int64(t.ok))),
                    ("failed", .int(Int64(t.failed))),
                    ("invalid", .int(Int64(t.invalid))),
                    ("errors", .object(t.errors.map { ($0.kind, .int(Int64($0.count))) })),
                    ("ttfa_ms", stats(t.ttfa)),
                    ("phases_ms", .object(t.phases.map { ($0.name, .double(round3($0.summary.p50))) })),
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
            ("verdict", .optional(summary.verdict)),
        ])
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
        let setupLabels = ["dns": "DNS", "connect": "TCP connect", "tls": "TLS", "upgrade": "WebSocket upgrade"]
        let afterLabels = [
            "upload": "request body sent", "response_headers": "response headers", "first_byte": "first byte",
            "first_event": "first event", "first_audio": "first audio = TTFA", "last_audio": "last audio", "done": "answer complete",
        ]
        let setup = ["dns", "connect", "tls", "upgrade"].filter { name in ts.contains { $0.phase(name) != nil } }
        if !setup.isEmpty {
            rows.append(("connection setup in trial (p50)", ts.map { _ in "" }))
            for name in setup { rows.append(("  \(setupLabels[name]!)", cells { Format.ms($0.phase(name)?.p50) })) }
        }
        let after = ["upload", "response_headers", "first_byte", "first_event", "first_audio", "last_audio", "done"]
            .filter { name in ts.contains { $0.phase(name) != nil } }
        if !after.isEmpty {
            rows.append(("after speech end (p50)", ts.map { _ in "" }))
            for name in after { rows.append(("  \(afterLabels[name]!)", cells { Format.ms($0.phase(name)?.p50) })) }
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
        rows.append(("errors", cells { $0.errors.isEmpty ? "none" : $0.errors.map { "\($0.kind) ×\($0.count)" }.joined(separator: ", ") }))
        return rows
    }

    static func heading(_ summary: RunSummary) -> String {
        var parts = ["run \(summary.run.id ?? 0)", summary.run.status, summary.run.startedAt]
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
        }
        if let verdict = summary.verdict {
            out += "verdict: \(verdict)\n"
        }
        if summary.warmups > 0 {
            out += "(\(summary.warmups) warm-up trials stored but left out of the statistics)\n"
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
        out += "\n"
        if let verdict = summary.verdict { out += "**Verdict:** \(verdict)\n" }
        return out
    }

    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "|", with: "\\|")
    }
}

extension String {
    func trimmingTrailingSpaces() -> String {
        var s = self
        while s.last == " " { s.removeLast() }
        return s
    }
}
