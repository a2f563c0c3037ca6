import Foundation
import TestSupport
import Testing

@testable import ReferenceServer

@Suite("ttfa profile fit, end to end", .serialized)
struct ProfileFitRoundTripTests {
    /// `ttfa profile fit` turns a run into a profile that drives the server as it is. (How well
    /// a fit recovers a distribution is the fit's arithmetic: ProfileFitTests, on exact samples.)
    @Test func aFitOfAKnownServerGivesAProfileTheServerPlays() async throws {
        let scratch = try Scratch()
        let truth = scratch.directory.appendingPathComponent("known.yaml").path
        try """
        name: known
        first_audio_ms: {lognormal: {median: 300, p95: 500}}
        answer: {audio_ms: 300, delta_ms: 100, real_time_factor: 0}
        """.write(toFile: truth, atomically: true, encoding: .utf8)
        let run = try await ttfa([
            "run", "--transport", "websocket", "--ws-profile", truth, "--link", "loopback", "--trials", "40",
            "--warmup", "0", "--concurrency", "4",
            "--audio", scratch.audio, "--db", scratch.database, "--lag-budget-ms", "1000", "--quiet",
        ])
        #expect(run.status == 0, "\(run.stderr)")
        let out = scratch.directory.appendingPathComponent("fitted.yaml").path
        let fit = try await ttfa(["profile", "fit", "--db", scratch.database, "--out", out])
        #expect(fit.status == 0, "\(fit.stderr)")
        let profile = try DeploymentProfile.load(out)
        guard case .logNormal(let median, let p95) = profile.firstAudio else {
            Issue.record("\(profile.firstAudio)")
            return
        }
        // The fit's median is the geometric mean of the server times it saw, and every answer
        // waited at least the server's own draw for it: so it is no less than the geometric mean
        // of the 40 draws the server made (and with draws that differ, the p95 lies above it).
        let profileOfTruth = try DeploymentProfile.load(truth)
        let draws = (1...40).map { profileOfTruth.plan(sequence: $0, audioSeconds: 0).modelMs }
        let drawsMedian = exp(draws.map { log($0) }.reduce(0, +) / Double(draws.count))
        print(
            "profile fit of a log-normal server (median 300, p95 500 ms): median \(median), p95 \(p95) ms; the draws' \(drawsMedian) ms"
        )
        #expect(
            median >= drawsMedian && p95 > median,
            "median \(median) ms, p95 \(p95) ms, the draws' geometric mean \(drawsMedian) ms")
        #expect(profile.name == "fitted")
        // The fitted file drives the reference server as it is.
        let replay = try await ttfa([
            "run", "--transport", "websocket", "--ws-profile", out, "--link", "loopback", "--trials", "1", "--warmup",
            "0",
            "--audio", scratch.audio, "--db", scratch.database, "--lag-budget-ms", "1000", "--quiet",
        ])
        #expect(replay.status == 0, "\(replay.stderr)")
        let noTransport = try await ttfa([
            "profile", "fit", "--db", scratch.database, "--transport", "sse", "--out", out,
        ])
        #expect(noTransport.status == 2 && noTransport.stderr.contains("has no sse trials"))
    }
}

@Suite("Turn detection end to end", .serialized)
struct TurnDetectionEndToEndTests {
    @Test func vadAddsTheSilenceWindowToBothTransports() async throws {
        let scratch = try Scratch()
        func p50s(_ extra: [String]) async throws -> [String: Double] {
            let result = try await ttfa(quickRun(scratch, trials: 3, extra: ["--json", "--quiet"] + extra))
            #expect(result.status == 0, "\(result.stderr)")
            let summary = try #require(
                try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
            var out: [String: Double] = [:]
            for t in try #require(summary["transports"] as? [[String: Any]]) {
                out[t["transport"] as! String] = (t["ttfa_ms"] as? [String: Any])?["p50"] as? Double
            }
            return out
        }
        let manual = try await p50s([])
        let vad = try await p50s(["--turn", "vad", "--vad-silence-ms", "300"])
        for transport in ["websocket", "sse"] {
            let added = try #require(vad[transport]) - (try #require(manual[transport]))
            print(
                "--turn vad --vad-silence-ms 300: \(transport) TTFA p50 \(manual[transport]!) → \(vad[transport]!) ms (+\(added))"
            )
            // The server cannot hear the end of speech before 300 ms of silence (less one
            // detection frame) have passed: the VAD turn's TTFA is never less than that.
            #expect(vad[transport]! >= 275, "\(transport): TTFA p50 \(vad[transport]!) ms with a 300 ms silence window")
        }
    }
}

@Suite("Where the time goes", .serialized)
struct BreakdownEndToEndTests {
    /// A scaled-down seed scenario: an edge function with every phase, through a link with a
    /// round trip, cold connections (so SSE's set-up lies on its path). The parts of the median
    /// trial add up to its TTFA, and each equals what the server says it spent.
    @Test func thePartsAddUpToTheTTFAAndMatchTheServersRecord() async throws {
        let scratch = try Scratch()
        let edge = scratch.directory.appendingPathComponent("edge.yaml").path
        try """
        name: small-edge
        edge: {invocation_ms: {fixed: 30}, upstream_round_trips: 2, upstream_rtt_ms: 10}
        ingest_ms_per_audio_second: 50
        first_audio_ms: {fixed: 80}
        answer: {audio_ms: 300, delta_ms: 100, real_time_factor: 0}
        """.write(toFile: edge, atomically: true, encoding: .utf8)
        let realtime = scratch.directory.appendingPathComponent("realtime.yaml").path
        try """
        name: small-realtime
        first_audio_ms: {fixed: 60}
        answer: {audio_ms: 300, delta_ms: 100, real_time_factor: 0}
        """.write(toFile: realtime, atomically: true, encoding: .utf8)
        let result = try await ttfa([
            "run", "--trials", "3", "--warmup", "0", "--audio", scratch.audio, "--db", scratch.database,
            "--ws-profile", realtime, "--sse-profile", edge, "--link", "rtt=20ms", "--connection", "cold",
            "--lag-budget-ms", "1000", "--json", "--quiet",
        ])
        #expect(result.status == 0, "\(result.stderr)")
        let summary = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        let transports = try #require(summary["transports"] as? [[String: Any]])
        #expect(transports.count == 4)
        for t in transports {
            let name = try #require(t["transport"] as? String)
            let b = try #require(t["breakdown_ms"] as? [String: Any], "\(name) has a breakdown")
            func part(_ key: String) -> Double { b[key] as? Double ?? .nan }
            let parts = ["encode", "connection_setup", "upload", "edge", "ingest", "model", "network"].map(part)
            let total = parts.reduce(0, +)
            print(
                "\(name): "
                    + ["encode", "connection_setup", "upload", "edge", "ingest", "model", "network"].map {
                        "\($0) \(part($0))"
                    }.joined(separator: ", ") + " = \(total) vs TTFA \(part("ttfa"))")
            #expect(abs(total - part("ttfa")) < 0.01, "\(name): parts add up to \(total), TTFA \(part("ttfa"))")
            // The answer's way back is at least the one-way link delay (10 ms, less rounding).
            #expect(part("network") >= 9, "\(name) network \(part("network"))")
            // The server's timers can fire late, never early: the model part is at least what the
            // profile asked (how near it stays is the timing suite's: the server's delay in TTFA).
            if name == "websocket" {
                #expect(part("edge") == 0 && part("ingest") == 0 && part("connection_setup") == 0)
                #expect(part("model") >= 60, "websocket model \(part("model"))")
            } else if name == "webrtc" {
                // The same Realtime profile; the cold call's set-up outlasts the 300 ms of speech
                // (a client secret, offer and answer, ICE, DTLS and SCTP over a 20 ms link).
                #expect(part("edge") == 0 && part("ingest") == 0 && part("connection_setup") > 20)
                #expect(part("model") >= 60, "webrtc model \(part("model"))")
            } else {
                #expect(part("model") >= 80, "\(name) model \(part("model"))")
            }
            if name == "sse-stream" {
                // The edge function was invoked when the upload began: its overhead overlapped
                // the speech and is off the path; only the last chunk's ingest remains.
                #expect(part("edge") == 0 && part("connection_setup") == 0)
                // 5 ms when every chunk left on time; a busy machine can leave more of the audio
                // for after the end of speech, never more than the whole recording's 15 ms.
                #expect(part("ingest") <= 15.01, "sse-stream ingest \(part("ingest"))")
            }
            if name == "sse" {
                #expect(abs(part("edge") - 50) < 0.01, "sse edge \(part("edge")): 30 + 2 × 10")
                // Cold: TCP (and TLS) through a 20 ms round trip, paid after the end of speech.
                #expect(part("connection_setup") >= 19, "sse set-up \(part("connection_setup"))")
                // The whole recording's ingest: 50 ms per second of audio.
                #expect(part("ingest") > 10, "sse ingest \(part("ingest"))")
            }
        }
    }
}
