import Foundation
import Replay
import StorageSQLite
import TestSupport
import Testing
import VoiceTransport

@testable import AccuracyBenchmark

/// What must measure time, run alone (`make test-timing`, after the parallel suite): every
/// figure is judged against a baseline measured in the same run, interleaved with it, with a
/// tolerance derived from that run's own jitter (see `Figure.tolerance`). The figures come from
/// the accuracy benchmark (`Benchmarks/Accuracy`), which prints the same numbers for a reader.
@Suite("Timing, judged against same-run baselines", .serialized)
struct TimingTests {
    @Test func theLinkAddsItsConfiguredRoundTrip() async throws {
        let result = try await LinkAccuracy.roundTrip(rttMs: 40)
        print(result.figure.line)
        #expect(result.delayed.values.count == 40 && result.baseline.values.count == 40, "every ping came back")
        #expect(result.figure.withinTolerance, "\(result.figure.line)")
        // The delay is held, never shortened: no ping beats the link.
        #expect(result.delayed.min >= 40, "\(result.delayed.values)")
    }

    @Test func theLinkSerializesAtItsConfiguredRate() async throws {
        let result = try await LinkAccuracy.rate(mbit: 8)
        print(result.figure.line)
        #expect(result.figure.withinTolerance, "\(result.figure.line)")
    }

    @Test(arguments: [TransportKind.websocket, .sse])
    func aShippedDialectFileMeasuresWhatTheBuiltInCodeMeasures(kind: TransportKind) async throws {
        let result = try await DialectAccuracy.compare(kind)
        print(result.figure.line)
        #expect(
            result.file.values.count == 12 && result.builtInA.values.count == 12 && result.builtInB.values.count == 12,
            "every turn ok")
        #expect(result.figure.withinTolerance, "\(result.figure.line)")
    }

    @Test(arguments: TransportKind.measuredOverTCP)
    func theServersDelayShowsUpInTTFAAsItself(kind: TransportKind) async throws {
        let result = try await HarnessAccuracy.delay(kind)
        print(result.figure.line)
        #expect(result.delayed.values.count == 12 && result.immediate.values.count == 12, "every turn ok")
        #expect(result.figure.withinTolerance, "\(result.figure.line)")
    }

    /// Ctrl-C while a connection hangs in its TLS handshake ends the run as promptly as Ctrl-C in
    /// the middle of a replay (the baseline, measured just before): within the second the README
    /// promises on top of it, not after the 10 s connect timeout.
    @Test(arguments: ["websocket", "sse"])
    func ctrlCWhileConnectingEndsTheRunAsPromptlyAsMidReplay(transport: String) async throws {
        let server = try await TestServer.get()
        let flag = transport == "websocket" ? "--ws-url" : "--sse-url"
        let kind = try #require(TransportKind(rawValue: transport))
        func secondsToExit(url: String, afterTrials: Int) async throws -> (seconds: Double, status: Int32, stored: Int)
        {
            let scratch = try Scratch()
            let (process, _) = try launch([
                "run", "--transport", transport, flag, url, "--audio", scratch.audio, "--db", scratch.database,
                "--trials", "50", "--warmup", "0", "--lag-budget-ms", "1000",
            ])
            if afterTrials > 0 {
                try await waitForTrials(afterTrials, in: scratch.database)
            } else {
                try await Task.sleep(for: .milliseconds(1500))  // connecting (the connect timeout is 10 s)
            }
            #expect(process.isRunning)
            let interrupted = DispatchTime.now().uptimeNanoseconds
            process.interrupt()
            _ = try await onDedicatedThread { process.waitUntilExit() }
            let seconds = milliseconds(since: interrupted) / 1000
            let stored = (try? await SQLiteStore(path: scratch.database, create: false).trials(runID: 1).count) ?? -1
            return (seconds, process.terminationStatus, stored)
        }
        let baseline = try await secondsToExit(url: kind.referenceURL(on: server), afterTrials: 1)
        let silent = try SilentServer()
        defer { silent.stop() }
        let hanging = try await secondsToExit(
            url: (kind == .websocket ? "wss" : "https") + "://127.0.0.1:\(silent.port)"
                + (kind == .websocket ? "/v1/realtime" : "/v1/chat/completions"),
            afterTrials: 0)
        print(
            "Ctrl-C: \(transport) exited \(Figure.format(hanging.seconds)) s after it while connecting, \(Figure.format(baseline.seconds)) s mid-replay"
        )
        #expect(baseline.status == 130 && hanging.status == 130)
        #expect(hanging.stored == 0, "the trial cut short is not stored")
        #expect(
            hanging.seconds <= baseline.seconds + 1,
            "exited \(hanging.seconds) s after Ctrl-C, mid-replay \(baseline.seconds) s")
    }

    /// Paced audio (a delta every 67 ms) on a clean link arrives one delta at a time: the run
    /// does not take it for a buffering proxy's clumps. The baseline, measured just before, is
    /// the same run through a link that buffers, which must be taken for one.
    @Test func aCleanLinkIsNotTakenForABufferingOne() async throws {
        let scratch = try Scratch()
        let paced = scratch.directory.appendingPathComponent("paced.yaml").path
        try "name: paced\nfirst_audio_ms: 0\nanswer: {audio_ms: 1200, delta_ms: 100, real_time_factor: 1.5}\n".write(
            toFile: paced, atomically: true, encoding: .utf8)
        func looksBuffered(_ link: String) async throws -> [String: Bool] {
            let result = try await ttfa([
                "run", "--profile", paced, "--link", link, "--trials", "2", "--warmup", "0", "--audio", scratch.audio,
                "--db", scratch.database, "--json", "--quiet", "--lag-budget-ms", "1000",
                // The diagnosis is of a proxy buffering TCP responses (never applied to RTP).
                "--transport", TransportKind.measuredOverTCP.map(\.rawValue).joined(separator: ","),
            ])
            #expect(result.status == 0, "\(result.stderr)")
            let summary = try #require(
                try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
            var out: [String: Bool] = [:]
            for t in try #require(summary["transports"] as? [[String: Any]]) {
                print("\(link): \(t["transport"] ?? "") audio bursts p50 \(t["audio_bursts_p50"] ?? "")")
                out[t["transport"] as? String ?? ""] = t["looks_buffered"] as? Bool
            }
            return out
        }
        let buffered = try await looksBuffered("buffer=64k,flush=200ms")
        #expect(buffered.count == 3 && buffered.values.allSatisfy { $0 }, "\(buffered)")
        let clean = try await looksBuffered("loopback")
        #expect(clean.count == 3 && clean.values.allSatisfy { !$0 }, "\(clean)")
    }
}
