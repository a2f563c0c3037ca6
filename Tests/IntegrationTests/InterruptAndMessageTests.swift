import Foundation
import ReferenceServer
import Replay
import TestSupport
import Testing
import VoiceTransport

/// (How promptly Ctrl-C ends a run that is connecting is timed in TimingTests.)
@Suite("Messages a person can act on", .serialized)
struct InterruptAndMessageTests {
    @Test func aWebSocketClosedWithoutACloseFrameSaysWhenAndWhy() async throws {
        let server = try await TestServer.get()
        let timeline = try await runColdTurn(
            try settings(.websocket, server, query: "?fault=drop-mid-stream", connection: .cold))
        let message = try #require(timeline.outcome.error?.message)
        #expect(
            message.contains("without a close frame") && message.contains("s after its last message")
                && message.contains("idle"), "\(message)")
    }

    @Test func anHTTP413OnTheUploadNamesTheProxyLimitAndKeepsTheTerminalClean() async throws {
        let server = try await TestServer.get()
        let timeline = try await runColdTurn(
            try settings(.sse, server, query: "?fault=body-too-large", connection: .cold))
        #expect(timeline.outcome.error?.kind == .httpStatus)
        let message = try #require(timeline.outcome.error?.message)
        #expect(
            message.contains("413") && message.contains("client_max_body_size") && message.contains("16 s of audio"),
            "\(message)")
        #expect(
            !message.contains("\r") && !message.contains("<html>"),
            "the proxy's HTML page is reduced to its text: \(message)")
    }

    @Test func serverTextCannotGarbleTheTerminal() {
        #expect(excerpt("bad\r\n\u{1B}[2Jgateway\u{7}") == "bad \\n[2Jgateway")
        #expect(
            bodyExcerpt("<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>502 Bad Gateway</body></html>")
                == "502 Bad Gateway 502 Bad Gateway")
    }

    @Test func aStaleEventIsShownInTheTraceAsWhatItWasAndMarked() {
        let writer = TraceWriter(origin: 0)
        let line = writer.line(
            for: TimedEvent(t: 2_000_000, .stale(turn: 4, event: .sse(SSEEvent(data: "[DONE]"))), turn: 4))
        #expect(
            line == #"{"t_ms":2,"type":"sse.event","event":"message","data":"[DONE]","id":"","stale":true,"turn":4}"#)
    }
}

@Suite("TLS", .serialized)
struct TLSTests {
    @Test func aServerWithAnUnknownCAFailsAsTLSNamingCacertAndCacertFixesIt() async throws {
        let scratch = try Scratch()
        let ca = scratch.directory.appendingPathComponent("ca.pem").path
        try await withServe(["--tls", "--ca-out", ca, "--profile", "instant"]) { server in
            let urls = [
                "--ws-url", "wss://127.0.0.1:\(server.port)/v1/realtime", "--sse-url",
                "https://127.0.0.1:\(server.port)/v1/chat/completions",
            ]
            let base = [
                "run", "--trials", "1", "--warmup", "0", "--audio", scratch.audio, "--db", scratch.database, "--json",
                "--lag-budget-ms", "1000",
            ]
            let untrusted = try await ttfa(base + urls)
            #expect(untrusted.status == 3)
            let summary = try #require(
                try JSONSerialization.jsonObject(with: Data(untrusted.stdout.utf8)) as? [String: Any])
            for transport in try #require(summary["transports"] as? [[String: Any]]) {
                #expect((transport["errors"] as? [String: Int]) == ["tls": 1])
            }
            #expect(untrusted.stderr.contains("--cacert FILE"), "the message names the fix")
            let trusted = try await ttfa(base + urls + ["--cacert", ca])
            #expect(trusted.status == 0, "\(trusted.stderr)")
            let insecure = try await ttfa(base + urls + ["--insecure"])
            #expect(insecure.status == 0)
            #expect(insecure.stderr.contains("warning: --insecure"))
        }
    }

    @Test func theEmbeddedServerSpeaksTLSWithNoFlagsAndColdTrialsPayForIt() async throws {
        let scratch = try Scratch()
        let result = try await ttfa(quickRun(scratch, extra: ["--connection", "cold", "--json"]))
        #expect(result.status == 0, "\(result.stderr)")
        let summary = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        for transport in try #require(summary["transports"] as? [[String: Any]]) {
            #expect(
                (transport["endpoint"] as? String)?.hasPrefix(
                    transport["transport"] as? String == "websocket" ? "wss://" : "https://") == true)
            // WebRTC's call set-up has steps of its own (its DTLS handshake is the one on the media path).
            let handshake = transport["transport"] as? String == "webrtc" ? "dtls" : "tls"
            #expect(
                (transport["phases_ms"] as? [String: Any])?[handshake] is Double,
                "the \(handshake) handshake is its own phase")
        }
    }
}
