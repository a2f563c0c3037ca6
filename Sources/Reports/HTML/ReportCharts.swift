import Foundation
import Storage
import TTFASupport

/// The report's charts, each drawn from stored trials only. Every data element carries its
/// numbers as `data-*` attributes, so a test (or a reader's tool) can check a picture against
/// the figures it claims to show.
enum ReportCharts {
    /// One line of a chart: a transport (of a run).
    struct Series {
        var name: String
        var color: String
        /// Drawn dashed: the `--against` run.
        var dashed = false
        var values: [Double]
    }

    // MARK: CDF

    /// The empirical CDF of TTFA: one point per ok trial, at (TTFA, rank / n).
    static func cdf(_ series: [Series], log: Bool) -> String {
        let all = series.flatMap(\.values)
        guard let maxValue = all.max(), let minValue = all.min() else {
            return empty("cdf-\(log ? "log" : "linear")", "No ok trials: no TTFA distribution to draw.")
        }
        let domain = log ? max(0.1, minValue * 0.8)...(maxValue * 1.25) : 0...Scale.niceMax(maxValue * 1.05)
        var chart = SVGChart(height: 300, x: domain, y: 0...1, xLog: log)
        chart.axes(
            xLabel: "time to first audio (ms\(log ? ", log scale" : ""))", yLabel: "share of ok trials",
            yFormat: { "\(Int(($0 * 100).rounded()))%" })
        for s in series where !s.values.isEmpty {
            let sorted = s.values.sorted()
            let points = sorted.enumerated().map { i, v in
                "\(SVGChart.n(chart.x(v))),\(SVGChart.n(chart.y(Double(i + 1) / Double(sorted.count))))"
            }
            chart.add(
                "<polyline class=\"cdf\" data-transport=\"\(SVGChart.escape(s.name))\" data-n=\"\(sorted.count)\" data-ttfa-ms=\"\(sorted.map { String(format: "%.3f", $0) }.joined(separator: " "))\" fill=\"none\" stroke=\"\(s.color)\" stroke-width=\"2\"\(s.dashed ? " stroke-dasharray=\"6 4\"" : "") points=\"\(points.joined(separator: " "))\"/>"
            )
        }
        // Bottom right: the one corner a CDF leaves empty.
        let items = series.map { ($0.name + " (\($0.values.count) ok)", $0.color, $0.dashed) }
        chart.add(legend(items, x: chart.x.to - 210, y: chart.y.from - 10 - 18 * Double(items.count)))
        return chart.render(
            id: "cdf-\(log ? "log" : "linear")", title: "CDF of time to first audio, \(log ? "log" : "linear") axis")
    }

    // MARK: waterfall

    struct WaterfallRow {
        var label: String
        var trialSeq: Int
        var ttfaMs: Double
        var segments: [(name: String, ms: Double)]
    }

    /// Segment colours by name, the same in every row.
    static let segmentColors: [String: String] = [
        "encode": "#CC79A7", "connection_setup": "#D55E00", "upload": "#E69F00", "edge": "#F0E442", "ingest": "#56B4E9",
        "model": "#0072B2", "network": "#009E73", "response_headers": "#56B4E9", "first_byte": "#0072B2",
        "first_audio": "#009E73",
    ]

    static let segmentLabels: [String: String] = Breakdown.labels.merging([
        "response_headers": "waiting for the response", "first_byte": "to the first byte",
        "first_audio": "first byte to first audio",
    ]) { a, _ in a }

    /// Each row: the median trial's time from the end of speech to its first audio, as
    /// consecutive parts on a shared axis.
    static func waterfall(_ rows: [WaterfallRow]) -> String {
        guard let longest = rows.map(\.ttfaMs).max(), longest > 0 else {
            return empty("waterfall", "No ok trials: no phases to draw.")
        }
        let rowHeight = 34.0
        var chart = SVGChart(
            height: 60 + rowHeight * Double(rows.count) + 56, x: 0...Scale.niceMax(longest * 1.05), y: 0...1)
        chart.left = 150
        chart.x = Scale(domain: chart.x.domain, from: chart.left, to: SVGChart.width - chart.right, log: false)
        chart.bottom = 56 + 44
        chart.y = Scale(domain: 0...1, from: chart.height - chart.bottom, to: chart.top, log: false)
        chart.axes(xLabel: "milliseconds after the end of speech", yLabel: "", yTicks: false)
        var names: [String] = []
        for (index, row) in rows.enumerated() {
            let y = chart.top + 8 + Double(index) * rowHeight
            var out =
                "<g class=\"waterfall-row\" data-transport=\"\(SVGChart.escape(row.label))\" data-trial=\"\(row.trialSeq)\" data-ttfa-ms=\"\(String(format: "%.3f", row.ttfaMs))\">"
            out +=
                "<text class=\"rowlabel\" x=\"\(SVGChart.n(chart.left - 8))\" y=\"\(SVGChart.n(y + 14))\" text-anchor=\"end\">\(SVGChart.escape(row.label))</text>"
            out +=
                "<text class=\"rowsub\" x=\"\(SVGChart.n(chart.left - 8))\" y=\"\(SVGChart.n(y + 26))\" text-anchor=\"end\">trial \(row.trialSeq), \(SVGChart.escape(Format.ms(row.ttfaMs)))</text>"
            var start = 0.0
            for segment in row.segments where segment.ms > 0 {
                if !names.contains(segment.name) { names.append(segment.name) }
                let x0 = chart.x(start)
                let x1 = chart.x(start + segment.ms)
                let label = segmentLabels[segment.name] ?? segment.name
                out +=
                    "<rect class=\"segment\" data-segment=\"\(segment.name)\" data-ms=\"\(String(format: "%.3f", segment.ms))\" x=\"\(SVGChart.n(x0))\" y=\"\(SVGChart.n(y))\" width=\"\(SVGChart.n(max(0.5, x1 - x0)))\" height=\"24\" fill=\"\(segmentColors[segment.name] ?? "#999999")\"><title>\(SVGChart.escape("\(label): \(Format.ms(segment.ms))"))</title></rect>"
                if x1 - x0 > 44 {
                    let light = ["#F0E442", "#56B4E9", "#E69F00"].contains(segmentColors[segment.name] ?? "")
                    out +=
                        "<text class=\"inbar\"\(light ? " style=\"fill:#1a1a1a\"" : "") x=\"\(SVGChart.n((x0 + x1) / 2))\" y=\"\(SVGChart.n(y + 16))\" text-anchor=\"middle\">\(SVGChart.escape(Format.ms(segment.ms)))</text>"
                }
                start += segment.ms
            }
            chart.add(out + "</g>")
        }
        let legendY = chart.y.from + 48
        chart.add(
            legend(
                names.map { (segmentLabels[$0] ?? $0, segmentColors[$0] ?? "#999999", false) }, x: 16, y: legendY,
                box: true, columns: 4))
        return chart.render(id: "waterfall", title: "Where the median trial's time to first audio went")
    }

    // MARK: TTFA versus recording length

    struct LengthSeries {
        var name: String
        var color: String
        var dashed = false
        /// Every ok trial: (recording duration s, TTFA ms).
        var points: [(seconds: Double, ms: Double)]
        /// Per recording: (duration s, p50 ms).
        var medians: [(seconds: Double, ms: Double)]
    }

    static func length(_ series: [LengthSeries]) -> String {
        let seconds = series.flatMap { $0.points.map(\.seconds) }
        let values = series.flatMap { $0.points.map(\.ms) }
        guard let maxS = seconds.max(), let maxMs = values.max() else {
            return empty("length", "No ok trials: nothing to plot against length.")
        }
        var chart = SVGChart(height: 300, x: 0...Scale.niceMax(maxS * 1.1), y: 0...Scale.niceMax(maxMs * 1.1))
        chart.axes(xLabel: "recording length (s)", yLabel: "time to first audio (ms)")
        for s in series {
            var out = "<g class=\"length\" data-transport=\"\(SVGChart.escape(s.name))\">"
            for p in s.points {
                out +=
                    "<circle class=\"trial\" cx=\"\(SVGChart.n(chart.x(p.seconds)))\" cy=\"\(SVGChart.n(chart.y(p.ms)))\" r=\"2.5\" fill=\"\(s.color)\" fill-opacity=\"0.35\"/>"
            }
            let line = s.medians.sorted { $0.seconds < $1.seconds }.map {
                "\(SVGChart.n(chart.x($0.seconds))),\(SVGChart.n(chart.y($0.ms)))"
            }
            out +=
                "<polyline class=\"p50\" data-p50-ms=\"\(s.medians.map { String(format: "%.3f", $0.ms) }.joined(separator: " "))\" fill=\"none\" stroke=\"\(s.color)\" stroke-width=\"2\"\(s.dashed ? " stroke-dasharray=\"6 4\"" : "") points=\"\(line.joined(separator: " "))\"/>"
            for m in s.medians {
                out +=
                    "<circle class=\"median\" cx=\"\(SVGChart.n(chart.x(m.seconds)))\" cy=\"\(SVGChart.n(chart.y(m.ms)))\" r=\"4\" fill=\"\(s.color)\"><title>\(SVGChart.escape("\(s.name), \(String(format: "%.1f", m.seconds)) s: p50 \(Format.ms(m.ms))"))</title></circle>"
            }
            chart.add(out + "</g>")
        }
        chart.add(
            legend(
                series.map { ($0.name + " (p50 line, trials as dots)", $0.color, $0.dashed) }, x: chart.x.from + 12,
                y: chart.y.to + 8))
        return chart.render(id: "length", title: "Time to first audio versus recording length")
    }

    // MARK: timeline of one turn

    /// One trial from its start: microphone chunks sent, messages received, audio, the end of
    /// speech, the first audio, and the playback's underruns.
    static func timeline(transport: String, trial: TrialRecord, events: [TrialEventRecord], color: String) -> String {
        let ms = { (ns: Int64) in Double(ns) / 1e6 }
        let visible = events.filter { $0.tNs >= 0 }
        let end = max(
            ms(trial.doneNs ?? trial.lastAudioNs ?? trial.firstAudioNs ?? trial.speechEndNs),
            visible.map { ms($0.tNs) }.max() ?? 0)
        var chart = SVGChart(height: 210, x: 0...Scale.niceMax(end * 1.02), y: 0...1)
        chart.left = 110
        chart.x = Scale(domain: chart.x.domain, from: chart.left, to: SVGChart.width - chart.right, log: false)
        chart.axes(
            xLabel: "milliseconds since the trial started (the first chunk of speech)", yLabel: "", yTicks: false)
        let lanes = [("chunks sent", 28.0), ("received", 62.0), ("audio", 96.0), ("underruns", 130.0)]
        var out = "<g class=\"timeline\" data-transport=\"\(SVGChart.escape(transport))\" data-trial=\"\(trial.seq)\">"
        for (name, y) in lanes {
            out +=
                "<text class=\"rowlabel\" x=\"\(SVGChart.n(chart.left - 8))\" y=\"\(SVGChart.n(y + 4))\" text-anchor=\"end\">\(name)</text>"
        }
        func tick(_ t: Double, lane: Double, cls: String, color: String, height: Double = 16) -> String {
            "<line class=\"\(cls)\" x1=\"\(SVGChart.n(chart.x(t)))\" y1=\"\(SVGChart.n(lane - height / 2))\" x2=\"\(SVGChart.n(chart.x(t)))\" y2=\"\(SVGChart.n(lane + height / 2))\" stroke=\"\(color)\" stroke-width=\"1.2\"/>"
        }
        var audio: [(t: Int64, bytes: Int)] = []
        for event in visible {
            switch event.kind {
            case "chunk": out += tick(ms(event.tNs), lane: 28, cls: "ev-chunk", color: "#555555")
            case "ws.message", "sse.event", "http.response", "first.byte":
                out += tick(ms(event.tNs), lane: 62, cls: "ev-received", color: "#555555")
            case "audio":
                out += tick(ms(event.tNs), lane: 96, cls: "ev-audio", color: color, height: 20)
                audio.append((event.tNs, Int(event.value ?? 0)))
            default: break
            }
        }
        // Underruns: where a player that started at the first audio ran dry.
        if let first = audio.first {
            var playedUntil = first.t
            for (t, bytes) in audio {
                if t > playedUntil && t != first.t {
                    let x0 = chart.x(ms(playedUntil))
                    let x1 = chart.x(ms(t))
                    out +=
                        "<rect class=\"underrun\" data-ms=\"\(String(format: "%.3f", ms(t - playedUntil)))\" x=\"\(SVGChart.n(x0))\" y=\"122\" width=\"\(SVGChart.n(max(1, x1 - x0)))\" height=\"16\" fill=\"#D55E00\"/>"
                }
                playedUntil = max(playedUntil, t) + Int64(bytes) * 1_000_000_000 / 48_000
            }
        }
        let speechEnd = ms(trial.speechEndNs)
        out +=
            "<line class=\"speech-end\" x1=\"\(SVGChart.n(chart.x(speechEnd)))\" y1=\"14\" x2=\"\(SVGChart.n(chart.x(speechEnd)))\" y2=\"\(SVGChart.n(chart.height - chart.bottom))\" stroke=\"#000000\" stroke-dasharray=\"4 3\"/>"
        out +=
            "<text class=\"marker\" x=\"\(SVGChart.n(chart.x(speechEnd) - 4))\" y=\"12\" text-anchor=\"end\">end of speech</text>"
        if let first = trial.firstAudioNs {
            let x = chart.x(ms(first))
            out +=
                "<line class=\"first-audio\" data-ttfa-ms=\"\(String(format: "%.3f", ms(first - trial.speechEndNs)))\" x1=\"\(SVGChart.n(x))\" y1=\"14\" x2=\"\(SVGChart.n(x))\" y2=\"\(SVGChart.n(chart.height - chart.bottom))\" stroke=\"\(color)\" stroke-width=\"2\"/>"
            out +=
                "<text class=\"marker\" x=\"\(SVGChart.n(x + 4))\" y=\"12\">first audio (TTFA \(SVGChart.escape(Format.ms(ms(first - trial.speechEndNs)))))</text>"
        }
        chart.add(out + "</g>")
        return chart.render(
            id: "timeline-\(transport.replacingOccurrences(of: " ", with: "-"))",
            title: "Timeline of one \(transport) turn (trial \(trial.seq))")
    }

    // MARK: pieces

    static func legend(_ items: [(String, String, Bool)], x: Double, y: Double, box: Bool = false, columns: Int = 1)
        -> String
    {
        var out = "<g class=\"legend\">"
        for (index, (name, color, dashed)) in items.enumerated() {
            let column = index % columns
            let row = index / columns
            let lx = x + Double(column) * 175
            let ly = y + Double(row) * 18
            if box {
                out +=
                    "<rect x=\"\(SVGChart.n(lx))\" y=\"\(SVGChart.n(ly))\" width=\"12\" height=\"12\" fill=\"\(color)\"/>"
            } else {
                out +=
                    "<line x1=\"\(SVGChart.n(lx))\" y1=\"\(SVGChart.n(ly + 6))\" x2=\"\(SVGChart.n(lx + 22))\" y2=\"\(SVGChart.n(ly + 6))\" stroke=\"\(color)\" stroke-width=\"2.5\"\(dashed ? " stroke-dasharray=\"6 4\"" : "")/>"
            }
            out +=
                "<text class=\"legendtext\" x=\"\(SVGChart.n(lx + (box ? 18 : 28)))\" y=\"\(SVGChart.n(ly + 10))\">\(SVGChart.escape(name))</text>"
        }
        return out + "</g>"
    }

    static func empty(_ id: String, _ message: String) -> String {
        "<p class=\"empty\" id=\"\(id)\">\(SVGChart.escape(message))</p>"
    }
}
