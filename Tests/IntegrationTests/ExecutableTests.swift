import Foundation
import TestSupport
import Testing

@Suite("The ttfa executable", .serialized)
struct ExecutableTests {
    @Test func traceAgainstServePrintsCompleteTracesForBothTransports() async throws {
        try await withServe { server in
            for (transport, url) in [
                ("websocket", "ws://127.0.0.1:\(server.port)/v1/realtime?first_audio_ms=300"),
                ("sse", "http://127.0.0.1:\(server.port)/v1/chat/completions?first_audio_ms=300"),
            ] {
                let result = try await ttfa(["trace", "--transport", transport, "--url", url])
                #expect(result.status == 0, "\(transport): \(result.stderr)")
                let lines = result.jsonLines
                #expect(lines.count == result.lines.count, "every line is JSON")
                let types = lines.compactMap { $0["type"] as? String }
                #expect(
                    types.first == (transport == "websocket" ? "connect" : "speech.end"),
                    "SSE connects when the POST starts, at speech end")
                #expect(types.contains("speech.end") && types.contains("audio"))
                #expect(types.contains(transport == "websocket" ? "ws.message" : "sse.event"))
                #expect(types.last == "done")
                let times = lines.compactMap { $0["t_ms"] as? Double }
                #expect(times.count == lines.count)
                let speechEnd = try #require(lines.first { $0["type"] as? String == "speech.end" }?["t_ms"] as? Double)
                let firstAudio = try #require(lines.first { $0["type"] as? String == "audio" }?["t_ms"] as? Double)
                #expect(
                    firstAudio - speechEnd >= 300,
                    "\(transport): first audio \(firstAudio - speechEnd) ms after speech end")
                let done = try #require(lines.last)
                #expect(done["status"] as? String == "ok")
                #expect(abs((done["ttfa_ms"] as? Double ?? 0) - (firstAudio - speechEnd)) < 0.01)
            }
        }
    }

    @Test func faultsEndInAnErrorLineWithExitCode3() async throws {
        try await withServe { server in
            let cases: [(String, String, String)] = [
                ("websocket", "reject-upgrade", "handshake"),
                ("websocket", "close-before-upgrade", "handshake"),
                ("websocket", "stall", "timeout"),
                ("sse", "http-429", "http_status"),
                ("sse", "bad-json", "protocol"),
            ]
            for (transport, fault, kind) in cases {
                let path =
                    transport == "websocket"
                    ? "ws://127.0.0.1:\(server.port)/v1/realtime"
                    : "http://127.0.0.1:\(server.port)/v1/chat/completions"
                // Only the stall waits for the timeout; the other faults end the turn themselves.
                let result = try await ttfa([
                    "trace", "--transport", transport, "--url", "\(path)?fault=\(fault)", "--timeout",
                    fault == "stall" ? "1" : "30",
                ])
                #expect(result.status == 3, "\(fault)")
                let lines = result.jsonLines
                let error = try #require(lines.first { $0["type"] as? String == "error" }, "\(fault)")
                #expect(error["kind"] as? String == kind, "\(fault): \(error)")
                #expect(lines.last?["type"] as? String == "done")
                #expect(lines.last?["status"] as? String == kind)
            }
        }
    }

    @Test func aTraceKeepsPrintingTheWireAfterAnEventTheDialectCannotRead() async throws {
        try await withServe { server in
            for (transport, url) in [
                ("sse", "http://127.0.0.1:\(server.port)/v1/chat/completions?fault=garbage-event"),
                ("websocket", "ws://127.0.0.1:\(server.port)/v1/realtime?fault=garbage-event"),
            ] {
                let result = try await ttfa(["trace", "--transport", transport, "--url", url, "--timeout", "5"])
                #expect(result.status == 3)
                let types = result.jsonLines.compactMap { $0["type"] as? String }
                let error = try #require(types.firstIndex(of: "error"), "\(transport): \(types)")
                let wire = transport == "sse" ? "sse.event" : "ws.message"
                #expect(
                    types[(error + 1)...].filter { $0 == wire }.count >= 5,
                    "\(transport): the rest of the answer is still shown: \(types)")
                if transport == "sse" {
                    #expect(
                        result.jsonLines.last { $0["type"] as? String == "sse.event" }?["data"] as? String == "[DONE]")
                } else {
                    #expect(
                        result.jsonLines.contains { ($0["text"] as? String)?.contains("\"response.done\"") == true })
                }
                #expect(types.last == "done")
            }
        }
    }

    @Test func serveStopsPromptlyAfterServingAStalledStream() async throws {
        let server = try await ServeProcess()
        for transport in ["sse", "websocket"] {
            let path =
                transport == "websocket"
                ? "ws://127.0.0.1:\(server.port)/v1/realtime" : "http://127.0.0.1:\(server.port)/v1/chat/completions"
            let result = try await ttfa([
                "trace", "--transport", transport, "--url", "\(path)?fault=stall", "--timeout", "1",
            ])
            #expect(result.status == 3)
        }
        #expect(await server.stop(within: 15), "graceful shutdown ends stalled responses")
    }

    @Test func missingOrNonWAVAudioExits2NamingTheFile() async throws {
        let missing = try await ttfa([
            "trace", "--transport", "sse", "--url", "http://127.0.0.1:9/x", "--audio", "/no/such/file.wav",
        ])
        #expect(missing.status == 2)
        #expect(missing.stderr.contains("/no/such/file.wav"))
        #expect(missing.stdout.isEmpty, "nothing measured")
        let notWAV = FileManager.default.temporaryDirectory.appendingPathComponent("ttfa-not-a-wav-\(UUID()).wav")
        try Data("hello".utf8).write(to: notWAV)
        defer { try? FileManager.default.removeItem(at: notWAV) }
        let bad = try await ttfa([
            "trace", "--transport", "websocket", "--url", "ws://127.0.0.1:9/x", "--audio", notWAV.path,
        ])
        #expect(bad.status == 2)
        #expect(bad.stderr.contains(notWAV.lastPathComponent) && bad.stderr.contains("WAV"))
    }

    @Test func usageErrorsExit2() async throws {
        let result = try await ttfa(["trace", "--transport", "carrier-pigeon", "--url", "x"])
        #expect(result.status == 2)
        #expect(result.stderr.contains("carrier-pigeon"))
    }

    @Test func headerSecretsNeverReachTheTrace() async throws {
        try await withServe { server in
            let result = try await ttfa(
                [
                    "trace", "--transport", "sse", "--url",
                    "http://127.0.0.1:\(server.port)/v1/chat/completions?fault=http-500",
                    "--header", "Authorization: Bearer $TTFA_TEST_SECRET",
                ],
                environment: ["TTFA_TEST_SECRET": "sk-sentinel-7d1c0ffee"])
            #expect(result.status == 3)
            #expect(!result.stdout.contains("sk-sentinel") && !result.stderr.contains("sk-sentinel"))
        }
    }
}
