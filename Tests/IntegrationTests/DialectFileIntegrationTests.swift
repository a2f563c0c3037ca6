import DialectSpec
import Foundation
import GRDB
import ReferenceServer
import Replay
import StorageSQLite
import TestSupport
import Testing
import VoiceTransport

let exampleDialects = repositoryRoot.appendingPathComponent("examples/dialects")
let shippedDialectFiles = repositoryRoot.appendingPathComponent("Sources/Replay/Resources/dialects")

@Suite("Dialect files end to end", .serialized)
struct DialectFileIntegrationTests {
    /// The issue's "done": a run file naming two custom dialects — SSE with named events and a
    /// base64 WAV request body, WebSocket with binary audio frames (PCM16 16 kHz both ways) —
    /// against `ttfa serve` speaking the same files; TTFA lands on the configured first audio.
    @Test func aRunFileWithTwoCustomDialectsMeasuresServeSpeakingThem() async throws {
        let scratch = try Scratch()
        let sseFile = exampleDialects.appendingPathComponent("edge-voice.yaml").path
        let wsFile = exampleDialects.appendingPathComponent("voice-socket.yaml").path
        try await withServe(["--sse-dialect", sseFile, "--ws-dialect", wsFile, "--profile", "instant"]) { server in
            let runFile = scratch.directory.appendingPathComponent("ttfa.yaml").path
            try """
            websocket:
              url: ws://127.0.0.1:\(server.port)/voice?first_audio_ms=250
              dialect: \(wsFile)
            sse:
              url: http://127.0.0.1:\(server.port)/functions/v1/voice?first_audio_ms=250
              dialect: \(sseFile)
              headers: ["Authorization: Bearer $EDGE_TOKEN"]
            transport: websocket,sse
            recordings: [\(scratch.audio)]
            trials: 4
            warmup: 1
            lag-budget-ms: 1000
            db: \(scratch.database)
            json: true
            quiet: true
            """.write(toFile: runFile, atomically: true, encoding: .utf8)
            let run = try await ttfa(["run", "--config", runFile], environment: ["EDGE_TOKEN": "edge-secret-77"])
            #expect(run.status == 0, "\(run.stderr)")
            let summary = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
            for transport in try #require(summary["transports"] as? [[String: Any]]) {
                let ttfa = try #require(transport["ttfa_ms"] as? [String: Any])
                let (low, high) = (try #require(ttfa["min"] as? Double), try #require(ttfa["max"] as? Double))
                #expect(transport["ok"] as? Int == 4)
                // The server's first audio leaves 250 ms after the request (or end-of-speech
                // message) is complete: TTFA is never less (how much more is the timing suite's).
                #expect(low >= 250 && high >= low, "\(transport["transport"] ?? "?"): \(low)…\(high) ms")
            }
            let store = try SQLiteStore(path: scratch.database, create: false)
            let config = try #require(try await store.latestRun()?.configJSON)
            #expect(
                config.contains("\"name\":\"edge-voice\"") && config.contains("\"name\":\"voice-socket\""), "\(config)")
            #expect(
                config.contains("\"input\":\"PCM16 16 kHz\""), "the stored run says the WebSocket dialect took 16 kHz")
            #expect(config.contains("\"sha256\":\""))
            #expect(
                !(try scratch.allFileContents()).contains(Data("edge-secret-77".utf8)),
                "the header value is never stored")
        }
    }

    /// The built-in dialects expressed as files see the same events, in the same order, as the
    /// built-in code, on the reference server's built-in endpoints. (That they also measure the
    /// same TTFA is a timing figure: `TimingTests`, `Benchmarks/Accuracy`.)
    @Test(arguments: [TransportKind.websocket, .sse])
    func theBuiltInDialectsAsFilesMeasureTheSameAsTheBuiltInCode(kind: TransportKind) async throws {
        let server = try await TestServer.get()
        let builtIn = try settings(kind, server, query: "?first_audio_ms=120")
        // The shipped file of the built-in dialect (openai-realtime.yaml, openai-chat-completions.yaml).
        let file = try DialectFile(
            contentsOf: shippedDialectFiles.appendingPathComponent("\(try builtIn.dialect().name).yaml").path)
        var fromFile = builtIn
        fromFile.dialectFile = file
        let a = try await runTurns(builtIn, turns: 3)
        let b = try await runTurns(fromFile, turns: 3)
        func dialectEvents(_ t: TurnTimeline) -> [String] {
            t.events.compactMap {
                switch $0.event {
                case .audio(let bytes, _): "audio \(bytes)"
                case .transcript(let text): "transcript \(text)"
                case .turnEnd: "end"
                case .failure(let e): "failure \(e.kind)"
                case .anomaly(let text): "anomaly \(text)"
                case .serverError(let m, _): "error \(m)"
                default: nil
                }
            }
        }
        for (x, y) in zip(a, b) {
            #expect(x.outcome == .ok && y.outcome == .ok, "\(x.outcome) / \(y.outcome)")
            #expect(dialectEvents(x) == dialectEvents(y))
            let (tx, ty) = (try #require(x.ttfaNs).asMilliseconds, try #require(y.ttfaNs).asMilliseconds)
            #expect(tx >= 120 && ty >= 120, "never before the server's delay: built-in \(tx) ms, file \(ty) ms")
        }
        // The wire the same too: the same kinds of message, in the same order.
        func field(_ text: String, _ key: String) -> String {
            ((try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any])?[key] as? String ?? text
        }
        func wire(_ t: TurnTimeline) -> [String] {
            t.events.compactMap { event -> String? in
                switch event.event {
                case .sse(let e): return field(e.data, "object")
                case .webSocketMessage(.text(let text)): return field(text, "type")
                default: return nil
                }
            }
        }
        #expect(wire(a[0]) == wire(b[0]))
    }

    @Test func aDialectThatMatchesNothingEndsAsNoAudioNamingWhatArrived() async throws {
        let server = try await TestServer.get()
        // The Chat Completions request, but rules for named events the endpoint never sends.
        let scratch = try Scratch()
        let chat = try String(
            contentsOf: shippedDialectFiles.appendingPathComponent("openai-chat-completions.yaml"), encoding: .utf8)
        let wrong = scratch.directory.appendingPathComponent("wrong-events.yaml").path
        try
            (String(chat[..<chat.range(of: "\nevents:")!.lowerBound])
            + "\nevents:\n  audio: {event: audio, path: audio}\n  end: {event: done}\n")
            .replacingOccurrences(of: "name: openai-chat-completions", with: "name: wrong-events")
            .write(toFile: wrong, atomically: true, encoding: .utf8)
        let trace = try await ttfa([
            "trace", "--transport", "sse", "--dialect", wrong,
            "--url", TransportKind.sse.referenceURL(on: server), "--timeout", "5",
        ])
        #expect(trace.status == 3)
        let error = trace.stdout.split(separator: "\n").first { $0.contains("\"type\":\"error\"") } ?? ""
        #expect(
            error.contains("no_audio") && error.contains("wrong-events")
                && error.contains("messages seen: chat.completion.chunk ×") && error.contains("[DONE]"), "\(error)")
    }

    @Test func aMalformedDialectExits2NamingTheFileAndFieldBeforeMeasuring() async throws {
        let scratch = try Scratch()
        let bad = scratch.directory.appendingPathComponent("bad.yaml").path
        try
            "name: edge\ntransport: sse\nrequest:\n  json: {audio: \"{{audio.wav.base64}}\"}\nevents:\n  audio: {event: audio, path: \"data[x]\"}\n"
            .write(toFile: bad, atomically: true, encoding: .utf8)
        for command in [
            ["run", "--sse-dialect", bad, "--transport", "sse", "--db", scratch.database], ["dialects", bad],
            ["trace", "--transport", "sse", "--dialect", bad, "--url", "http://127.0.0.1:9/x"],
        ] {
            let result = try await ttfa(command)
            #expect(result.status == 2, "\(command): \(result.stderr)")
            #expect(
                result.stderr.contains("bad.yaml:6: events.audio.path: bad JSON path"), "\(command): \(result.stderr)")
        }
        let wrongKind = try await ttfa([
            "run", "--ws-dialect", exampleDialects.appendingPathComponent("edge-voice.yaml").path, "--db",
            scratch.database,
        ])
        #expect(
            wrongKind.status == 2 && wrongKind.stderr.contains("is an sse dialect; give it to --sse-dialect"),
            "\(wrongKind.stderr)")
        let missing = try await ttfa(["run", "--sse-dialect", "no-such-dialect", "--db", scratch.database])
        #expect(
            missing.status == 2
                && missing.stderr.contains(
                    "not a shipped dialect (openai-chat-completions, openai-realtime, openai-tts)"),
            "\(missing.stderr)")
        #expect(!FileManager.default.fileExists(atPath: scratch.database), "nothing measured or stored")
    }

    /// OpenAI's streamed speech, against the embedded server (which serves the shipped file at
    /// /v1/audio/speech): a request without the recording, timed from the end of speech.
    @Test func theTextToSpeechDialectRunsAgainstTheEmbeddedServer() async throws {
        let scratch = try Scratch()
        let run = try await ttfa([
            "run", "--transport", "sse", "--sse-dialect", "openai-tts", "--audio", scratch.audio, "--profile",
            "instant",
            "--link", "loopback", "--plain", "--trials", "2", "--warmup", "0", "--lag-budget-ms", "1000",
            "--db", scratch.database, "--json", "--quiet",
        ])
        #expect(run.status == 0, "\(run.stderr)")
        let summary = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
        let sse = try #require((summary["transports"] as? [[String: Any]])?.first)
        #expect(sse["ok"] as? Int == 2)
        #expect((sse["endpoint"] as? String)?.hasSuffix("/v1/audio/speech") == true)
    }

    @Test func listsWhatItSpeaks() async throws {
        let list = try await ttfa(["dialects"])
        #expect(list.status == 0)
        for name in ["openai-realtime", "openai-chat-completions", "openai-tts"] { #expect(list.stdout.contains(name)) }
        let check = try await ttfa(["dialects", exampleDialects.appendingPathComponent("voice-socket.yaml").path])
        #expect(
            check.status == 0 && check.stdout.contains("audio: binary messages")
                && check.stdout.contains("input: PCM16 16 kHz"), "\(check.stdout)")
    }
}

@Suite("Dialect files: other request shapes and input formats")
struct DialectShapesTests {
    /// A telephony-style endpoint: the recording as 8 kHz μ-law in a multipart upload, the
    /// answer as base64 μ-law in data-only events; and a raw-WAV body at 16 kHz. The server
    /// finds the audio where the file says and answers; the client counts the audio's duration.
    @Test(arguments: [
        """
        name: phone
        transport: sse
        path: /phone
        input: {encoding: mulaw, rate: 8000}
        request:
          multipart:
            - {name: audio, filename: speech.wav, value: "{{audio.wav}}"}
            - {name: rate, value: "{{audio.rate}}"}
        events:
          audio: {match: {kind: audio}, path: ulaw, encoding: mulaw, rate: 8000}
          end: {match: {kind: end}}
        """,
        """
        name: rawwav
        transport: sse
        path: /raw
        input: {encoding: pcm16, rate: 16000}
        request:
          method: PUT
          body: "{{audio.wav}}"
        events:
          audio: {event: a, path: pcm, encoding: wav}
        """,
    ])
    func otherShapesRoundTripThroughTheReferenceServer(yaml: String) async throws {
        let file = try DialectFile(yaml: yaml, source: "inline.yaml")
        let server = try await ReferenceServer.start(
            .init(port: 0, profiles: EndpointProfiles(all: .instant), dialects: [file]))
        defer { Task { await server.stop() } }
        var s = try TransportSettings(
            kind: .sse, endpoint: Endpoint(server.baseURL + file.path + "?first_audio_ms=80", for: .sse),
            connectTimeout: .seconds(5))
        s.dialectFile = file
        let timelines = try await runTurns(s, turns: 2)
        for t in timelines {
            #expect(t.outcome == .ok, "\(t.outcome)")
            let ttfa = try #require(t.ttfaNs).asMilliseconds
            // Never sooner than the server's 80 ms (how much later depends on the machine's load:
            // this test is about shapes; the timing tests are elsewhere).
            #expect(ttfa >= 80, "\(ttfa) ms")
            let bytes = t.events.reduce(0) { if case .audio(let n, _) = $1.event { $0 + n } else { $0 } }
            #expect(
                bytes == 600 * 48,
                "the instant profile's 600 ms answer, counted as 48 bytes a millisecond whatever its format")
        }
    }

    @Test func aRequestWithoutTheAudioWhereTheFileSaysIsRefusedByTheServer() async throws {
        let file = try DialectFile(
            yaml:
                "name: j\ntransport: sse\npath: /j\nrequest:\n  json: {kind: voice, audio: \"{{audio.wav.base64}}\"}\nevents:\n  audio: {path: a}\n",
            source: "j.yaml")
        let server = try await ReferenceServer.start(
            .init(port: 0, profiles: EndpointProfiles(all: .instant), dialects: [file]))
        defer { Task { await server.stop() } }
        var s = try TransportSettings(
            kind: .sse, endpoint: Endpoint(server.baseURL + "/j", for: .sse), connectTimeout: .seconds(5))
        let other = try DialectFile(
            yaml:
                "name: j\ntransport: sse\nrequest:\n  json: {kind: text, audio: \"{{audio.wav.base64}}\"}\nevents:\n  audio: {path: a}\n",
            source: "k.yaml")
        s.dialectFile = other
        let timeline = try await runTurns(s, turns: 1)[0]
        guard case .failed(let error) = timeline.outcome else {
            Issue.record("\(timeline.outcome)")
            return
        }
        #expect(
            error.kind == .httpStatus && error.message.contains("does not have the shape of dialect j"),
            "\(error.message)")
    }
}
