import DialectSpec
import Foundation
import Replay
import Statistics
import TestSupport
import VoiceTransport

/// Whether a dialect file that says what the built-in code says also measures what it
/// measures: the shipped `openai-realtime.yaml` and `openai-chat-completions.yaml` against the
/// built-in dialects, on the in-process reference server.
enum DialectAccuracy {
    struct Comparison: Sendable, Codable {
        var transport: String
        /// TTFA less the encode phase of the built-in dialect (two interleaved groups) and of the
        /// file, ms; and the encode phases themselves.
        var builtInA: Sample
        var builtInB: Sample
        var file: Sample
        var builtInEncode: Sample
        var fileEncode: Sample
        var figure: Figure
    }

    /// The shipped file of the dialect `settings` speak built in (`openai-realtime.yaml`, …).
    static func shippedFile(_ settings: TransportSettings) throws -> DialectFile {
        try DialectCatalog.load(try settings.dialect().name, flag: "accuracy")
    }

    /// `rounds` rounds of three warm turns — built-in, file, built-in — with the server's first
    /// audio `firstAudioMs` after the end of speech. The figure is the file's median TTFA minus
    /// the built-in's (expected 0), each less the trial's own encode phase: building a request
    /// from a file's template is client work a real client of that format does too, which ttfa
    /// keeps inside TTFA and reports as its own phase (both medians are printed); what must not
    /// differ is everything after it. The two built-in groups are the baseline of what the same
    /// code measures twice in this run.
    static func compare(_ kind: TransportKind, rounds: Int = 12, firstAudioMs: Int = 120) async throws -> Comparison {
        let server = try await TestServer.get()
        let builtIn = try settings(kind, server, query: "?first_audio_ms=\(firstAudioMs)")
        var fromFile = builtIn
        let file = try shippedFile(builtIn)
        fromFile.dialectFile = file
        let taker = try await TurnTaker([builtIn, fromFile, builtIn])
        var samples: [[Double]] = [[], [], []]
        var encodes: [[Double]] = [[], [], []]
        for _ in 0..<rounds {
            for index in 0..<3 {
                let timeline = await taker.turn(index)
                let metrics = TrialMetrics(timeline: timeline, lagBudgetNs: .seconds(1))
                guard timeline.outcome == .ok, let ttfa = timeline.ttfaNs else { continue }
                let encode = Double(metrics.encodeNs ?? 0) / 1e6
                samples[index].append(Double(ttfa) / 1e6 - encode)
                encodes[index].append(encode)
            }
        }
        await taker.close()
        let a = Sample(samples[0])
        let f = Sample(samples[1])
        let b = Sample(samples[2])
        let both = Sample(samples[0] + samples[2])
        let builtInEncode = Sample(encodes[0] + encodes[2])
        let fileEncode = Sample(encodes[1])
        let figure = Figure(
            name: "\(kind.rawValue) dialect file vs built-in: TTFA difference", unit: "ms", expected: 0,
            measured: f.median - both.median,
            tolerance: Figure.tolerance(f, both),
            basis:
                "TTFA less encode: file p50 \(Figure.format(f.median)) ms vs built-in p50 \(Figure.format(both.median)) ms (\(f.values.count) and "
                + "\(both.values.count) turns, first_audio_ms=\(firstAudioMs)); the built-in measured twice: \(Figure.format(a.median)) and "
                + "\(Figure.format(b.median)) ms; encode p50 \(Figure.format(fileEncode.median)) ms (file), \(Figure.format(builtInEncode.median)) ms (built-in)"
        )
        return Comparison(
            transport: kind.rawValue, builtInA: a, builtInB: b, file: f, builtInEncode: builtInEncode,
            fileEncode: fileEncode, figure: figure)
    }
}
