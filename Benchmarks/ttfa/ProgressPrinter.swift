import Foundation
import Synchronization
import Harness

/// Progress of a run on stderr: a redrawn bar on a terminal, one line per trial otherwise,
/// nothing with --quiet.
final class ProgressPrinter: Sendable {
    enum Mode {
        case bar, lines, quiet
    }

    private let mode: Mode
    private let total: Int
    private let started = Date()
    private let state = Mutex(State())

    private struct State {
        var completed = 0
        var live: [(String, Double?)] = []
        var lastLine = ""
        var finished = false
    }

    init(mode: Mode, total: Int) {
        self.mode = mode
        self.total = total
    }

    func trialFinished(_ progress: TrialProgress) {
        let line: String? = state.withLock { s in
            s.completed = progress.completed
            s.live = progress.liveP50
            if mode == .lines {
                let t = progress.trial
                let what = t.status == "ok" ? "ok, TTFA \(Format.ms(t.ttfaNs.map { Double($0) / 1e6 }))" : "\(t.status): \(t.errorMessage ?? "")"
                return "trial \(progress.completed)/\(total) \(progress.transport) \(t.recording) round \(t.trial)\(t.warmup ? " (warm-up)" : ""): \(what)\n"
            }
            return nil
        }
        if let line { Terminal.error(line) }
        if mode == .bar { redraw() }
    }

    /// Redraws the bar (also called by a timer so elapsed time keeps moving).
    func redraw() {
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
            let p50 = s.live.map { "\($0.0) \(Format.ms($0.1))" }.joined(separator: " · ")
            s.lastLine = "\(bar) \(s.completed)/\(total) trials  \(Self.clock(elapsed)) elapsed  ETA \(eta)  p50 \(p50)"
            return "\r\u{1B}[K" + s.lastLine
        }
        if let text { Terminal.error(text) }
    }

    /// Ends the bar line so the summary starts on a fresh line.
    func finish() {
        let wasDrawing = state.withLock { s -> Bool in
            defer { s.finished = true }
            return !s.finished && mode == .bar
        }
        if wasDrawing { Terminal.error("\n") }
    }

    func note(_ text: String) {
        guard mode != .quiet else { return }
        if mode == .bar { Terminal.error("\r\u{1B}[K") }
        Terminal.error(text + "\n")
        if mode == .bar { redraw() }
    }

    static func clock(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        return s >= 3600 ? String(format: "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60) : String(format: "%d:%02d", s / 60, s % 60)
    }
}
