import ArgumentParser
import Foundation
import Statistics
import VoiceTransport

/// `ttfa-accuracy`: how exactly ttfa's emulated conditions and its measurements track what they
/// are configured to be, each figure against a baseline measured in the same run. See README.md
/// beside this file.
@main
struct AccuracyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ttfa-accuracy",
        abstract:
            "Measure the link emulator's delay and rate, and the TTFA of dialect files and server delays, against same-run baselines.",
        discussion: """
            Prints one figure per line: what was measured, what the configuration asks for, and the \
            tolerance that this run's own baseline and jitter allow. Exit 1 when a figure lies \
            outside its tolerance.
            """
    )

    @Flag(help: "Print the figures and their samples as one JSON object.")
    var json = false

    @Option(help: "Pings per link round-trip measurement (each through the delayed and the direct relay).")
    var pings = 40

    @Option(help: "Rounds of interleaved turns per TTFA comparison.")
    var rounds = 12

    func run() async throws {
        let report = try await Self.measureAll(pings: pings, rounds: rounds) { line in
            if !json { print(line) }
        }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            print(String(decoding: try encoder.encode(report), as: UTF8.self))
        }
        if !report.figures.allSatisfy(\.withinTolerance) { throw ExitCode(1) }
    }

    struct Report: Sendable, Codable {
        var roundTrip: LinkAccuracy.RoundTrip
        var rate: LinkAccuracy.Rate
        var dialects: [DialectAccuracy.Comparison]
        var delays: [HarnessAccuracy.Delay]

        var figures: [Figure] { [roundTrip.figure, rate.figure] + dialects.map(\.figure) + delays.map(\.figure) }
    }

    /// Every measurement, one after another (none overlaps another).
    static func measureAll(pings: Int, rounds: Int, progress: (String) -> Void) async throws -> Report {
        let roundTrip = try await LinkAccuracy.roundTrip(pings: pings)
        progress(roundTrip.figure.line)
        let rate = try await LinkAccuracy.rate()
        progress(rate.figure.line)
        var dialects: [DialectAccuracy.Comparison] = []
        for kind in [TransportKind.websocket, .sse] {
            dialects.append(try await DialectAccuracy.compare(kind, rounds: rounds))
            progress(dialects.last!.figure.line)
        }
        var delays: [HarnessAccuracy.Delay] = []
        for kind in TransportKind.all {
            delays.append(try await HarnessAccuracy.delay(kind, rounds: rounds))
            progress(delays.last!.figure.line)
        }
        return Report(roundTrip: roundTrip, rate: rate, dialects: dialects, delays: delays)
    }
}
