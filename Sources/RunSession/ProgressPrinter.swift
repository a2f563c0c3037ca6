import Foundation
import Replay
import Synchronization
import TTFASupport
import VoiceTransport

/// Progress of a run on stderr: a redrawn bar on a terminal, one line per trial otherwise
/// (for a load run — open model, or 20 sessions and more — one line per second instead, with
/// sessions in flight and TTFA p50/p99 from the run's HDR histograms), nothing with --quiet.
package final class ProgressPrinter: Sendable {
    package enum Mode: Sendable {
        case bar, lines, quiet
    }

    private let mode: Mode
    private let total: Int
    private let perSecond: Bool
    /// The run's I/O loops: whether they got the real-time priority asked for.
    private let loops: IOLoopGroup?
    private let started = Date()
    private let state = Mutex(State())

    private struct State {
        var completed = 0
        var live: [(String, Double?)] = []
        var load: [LoadMonitor.Live] = []
        var lastLine = ""
        var finished = false
    }

    package init(mode: Mode, total: Int, loops: IOLoopGroup? = nil, perSecond: Bool = false) {
        self.loops = loops
        self.mode = mode
        self.total = total
        self.perSecond = perSecond
    }

    /// Once a second: a load line (lines mode, load runs), the bar's figures otherwise.
    package func second(_ live: [LoadMonitor.Live], at second: Int) {
        if second == 1, perSecond, let loops, loops.realtimeIO == false, loops.realtimeRequested {
            note(
                "note: the I/O loops run without real-time priority (it needs root, CAP_SYS_NICE or an RLIMIT_RTPRIO allowance); when the machine runs out of CPU the replay clock may fall behind — such trials are stored as invalid"
            )
        }
        let line: String? = state.withLock { s in
            s.load = live
            guard mode == .lines, perSecond, !s.finished else { return nil }
            let parts = live.map { l in
                "\(l.transport) \(l.active) active, \(l.completed) done (\(l.lastSecondCompleted)/s), p50 \(Format.ms(l.p50)) p99 \(Format.ms(l.p99))"
                    + (l.errors > 0 ? ", \(l.errors) failed" : "") + (l.invalid > 0 ? ", \(l.invalid) invalid" : "")
                    + (l.late > 0 ? ", \(l.late) late starts" : "")
            }
            return "\(Self.clock(Double(second))) \(s.completed)/\(total) · " + parts.joined(separator: " · ") + "\n"
        }
        if let line { Terminal.error(line) }
        if mode == .bar { redraw() }
    }

    package func trialFinished(_ progress: TrialProgress) {
        let line: String? = state.withLock { s in
            s.completed = progress.completed
            s.live = progress.liveP50
            if mode == .lines && !perSecond {
                let t = progress.trial
                let what =
                    t.status == .ok
                    ? "ok, TTFA \(Format.ms(t.ttfaNs.map { Double($0) / 1e6 }))"
                    : "\(t.status): \(t.errorMessage ?? "")"
                return
                    "trial \(progress.completed)/\(total) \(progress.transport) \(t.recording) round \(t.trial)\(t.warmup ? " (warm-up)" : ""): \(what)\n"
            }
            return nil
        }
        if let line { Terminal.error(line) }
        if mode == .bar { redraw() }
    }

    /// Redraws the bar (also called by a timer so elapsed time keeps moving).
    package func redraw() {
        guard mode == .bar else { return }
        let text: String? = state.withLock { s in
            guard !s.finished else { return nil }
            let elapsed = Date().timeIntervalSince(started)
            let width = 24
            let filled = total > 0 ? width * s.completed / total : width
            let bar = String(repeating: "█", count: filled) + String(repeating: "░", count: width - filled)
            var eta = "–"
            if s.completed > 0 {
                eta = Self.clock(elapsed / Double(s.completed) * Double(total - s.completed))
            }
            let p50: String
            if perSecond, !s.load.isEmpty {
                p50 = s.load.map { "\($0.transport) \($0.active) active \(Format.ms($0.p50))/\(Format.ms($0.p99))" }
                    .joined(separator: " · ")
            } else {
                p50 = s.live.map { "\($0.0) \(Format.ms($0.1))" }.joined(separator: " · ")
            }
            s.lastLine =
                "\(bar) \(s.completed)/\(total) trials  \(Self.clock(elapsed)) elapsed  ETA \(eta)  \(perSecond ? "p50/p99" : "p50") \(p50)"
            return "\r\u{1B}[K" + s.lastLine
        }
        if let text { Terminal.error(text) }
    }

    /// Ends the bar line so the summary starts on a fresh line.
    package func finish() {
        let wasDrawing = state.withLock { s -> Bool in
            defer { s.finished = true }
            return !s.finished && mode == .bar
        }
        if wasDrawing { Terminal.error("\n") }
    }

    package func note(_ text: String) {
        guard mode != .quiet else { return }
        if mode == .bar { Terminal.error("\r\u{1B}[K") }
        Terminal.error(text + "\n")
        if mode == .bar { redraw() }
    }

    static func clock(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        return s >= 3600
            ? String(format: "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60) : String(format: "%d:%02d", s / 60, s % 60)
    }
}
