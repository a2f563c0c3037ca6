import Foundation
import TestSupport
import VoiceTransport

/// Whether a server's first-audio delay shows up in TTFA as itself: turns against the
/// in-process reference server asking for `first_audio_ms=base+D`, interleaved with turns asking
/// for `base`. Both answers come after a timer, into a client that is idle by then, so what the
/// timer's wake-up and the transport cost cancels in the difference of medians, which is D.
enum HarnessAccuracy {
    struct Delay: Sendable, Codable {
        var transport: String
        var delayed: Sample
        var immediate: Sample
        var figure: Figure
    }

    static func delay(_ kind: TransportKind, delayMs: Int = 300, baseMs: Int = 50, rounds: Int = 12) async throws
        -> Delay
    {
        let server = try await TestServer.get()
        let taker = try await TurnTaker([
            try settings(kind, server, query: "?first_audio_ms=\(baseMs + delayMs)"),
            try settings(kind, server, query: "?first_audio_ms=\(baseMs)"),
        ])
        var samples: [[Double]] = [[], []]
        for _ in 0..<rounds {
            for index in 0..<2 {
                let timeline = await taker.turn(index)
                if timeline.outcome == .ok, let ttfa = timeline.ttfaNs { samples[index].append(Double(ttfa) / 1e6) }
            }
        }
        await taker.close()
        let d = Sample(samples[0])
        let i = Sample(samples[1])
        let figure = Figure(
            name: "\(kind.rawValue) first_audio_ms +\(delayMs): TTFA added", unit: "ms", expected: Double(delayMs),
            measured: d.median - i.median, tolerance: Figure.tolerance(d, i),
            basis:
                "p50 \(Figure.format(d.median)) ms at \(baseMs + delayMs) (min \(Figure.format(d.min))) minus p50 \(Figure.format(i.median)) ms at \(baseMs) "
                + "(IQR \(Figure.format(i.iqr))), \(d.values.count) and \(i.values.count) warm turns interleaved")
        return Delay(transport: kind.rawValue, delayed: d, immediate: i, figure: figure)
    }
}
