import Foundation
import Storage
import StorageSQLite
import TestSupport
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

@Suite("ttfa monitor")
struct MonitorCommandTests {
    /// The page at `url` with `accept`, and its content type.
    func fetch(_ url: String, accept: String? = nil) async throws -> (type: String, body: String) {
        var request = URLRequest(url: try #require(URL(string: url)))
        if let accept { request.setValue(accept, forHTTPHeaderField: "Accept") }
        let (data, response) = try await URLSession.shared.data(for: request)
        let type = (response as? HTTPURLResponse)?.value(forHTTPHeaderField: "Content-Type") ?? ""
        return (type, String(decoding: data, as: UTF8.self))
    }

    @Test("an endpoint that is down is a metric: every round fails, is stored and counted, the next still runs")
    func anEndpointDownIsAMetric() async throws {
        let scratch = try Scratch()
        let closed = try freePort()
        let monitor = try BackgroundProcess.ttfa([
            "monitor", "--every", "1s", "--metrics-listen", "127.0.0.1:0", "--db", scratch.database,
            "--audio", scratch.audio, "--trials", "1", "--warmup", "0", "--transport", "sse", "--timeout", "5",
            "--sse-url", "http://127.0.0.1:\(closed)/v1/chat/completions?key=sk-secret-in-query",
        ])
        let serving = try #require(try await monitor.line(containing: "metrics: serving", timeout: 60))
        let url = String(serving[serving.range(of: "http://")!.lowerBound...])
        // No --count: the monitor serves until it is stopped, so both pages can be read.
        _ = try #require(try await monitor.line(containing: "round 3 (run 3)", timeout: 120), "\(monitor.stderrLines)")
        let open = try await fetch(url, accept: "application/openmetrics-text;version=1.0.0,text/plain;q=0.5")
        let text = try await fetch(url)
        monitor.process.terminate()
        let status = try await monitor.waitForExit(timeout: 30)
        #expect(status == 0, "\(monitor.stderrLines)")
        #expect(monitor.stderrLines.contains { $0.contains("stopped after") }, "\(monitor.stderrLines)")

        #expect(text.type.hasPrefix("text/plain; version=0.0.4"))
        #expect(text.body.contains("# TYPE ttfa_rounds_total counter"))
        #expect(open.type.hasPrefix("application/openmetrics-text; version=1.0.0"))
        #expect(open.body.hasSuffix("# EOF\n"))
        #expect(open.body.contains("# TYPE ttfa_rounds counter"))
        // At least the three rounds seen, each failed, and the endpoint down.
        func value(_ page: String, _ prefix: String) -> Double? {
            page.split(separator: "\n").first { $0.hasPrefix(prefix) }.flatMap {
                Double($0.split(separator: " ").last!)
            }
        }
        let endpoint = "127.0.0.1:\(closed)/v1/chat/completions"
        let failedRounds = try #require(value(open.body, #"ttfa_rounds_total{result="failed"}"#), "\(open.body)")
        #expect(failedRounds >= 3)
        #expect(value(open.body, #"ttfa_rounds_total{result="complete"}"#) == 0)
        #expect(value(open.body, #"ttfa_endpoint_up{transport="sse",endpoint="\#(endpoint)"}"#) == 0)
        let refused = value(open.body, #"ttfa_trials_total{transport="sse",endpoint="\#(endpoint)",status="connect"}"#)
        #expect((refused ?? 0) >= 3, "\(open.body)")
        for page in [text.body, open.body] { #expect(!page.contains("sk-secret") && !page.contains("key=")) }

        let store = try SQLiteStore(path: scratch.database)
        let runs = try await store.runs()
        #expect(runs.count >= 3 && runs.allSatisfy { $0.status == .complete || $0.status == .interrupted })
        #expect(runs.filter { $0.status == .complete }.count >= 3)
    }

    @Test("with --count, the monitor serves until one scrape has read the last round, then ends by itself")
    func theLastRoundIsScrapedBeforeTheEnd() async throws {
        let scratch = try Scratch()
        let closed = try freePort()
        let monitor = try BackgroundProcess.ttfa([
            "monitor", "--every", "1s", "--count", "2", "--metrics-listen", "127.0.0.1:0", "--db", scratch.database,
            "--audio", scratch.audio, "--trials", "1", "--warmup", "0", "--transport", "sse", "--timeout", "5",
            "--sse-url", "http://127.0.0.1:\(closed)/v1/chat/completions",
        ])
        let serving = try #require(try await monitor.line(containing: "metrics: serving", timeout: 60))
        let url = String(serving[serving.range(of: "http://")!.lowerBound...])
        _ = try #require(
            try await monitor.line(containing: "waiting for a scrape", timeout: 120), "\(monitor.stderrLines)")
        // Still serving, and the one page read holds the last round.
        let page = try await fetch(url)
        #expect(page.body.contains(#"ttfa_rounds_total{result="failed"} 2"#), "\(page.body)")
        let status = try await monitor.waitForExit(timeout: 30)
        #expect(status == 0)
        #expect(
            monitor.stderrLines.contains { $0.contains("done after 2 rounds (2 failed)") }, "\(monitor.stderrLines)")
    }

    @Test("SIGTERM between rounds stops it at once with exit 0; the rounds done are kept")
    func sigtermBetweenRounds() async throws {
        let scratch = try Scratch()
        let monitor = try BackgroundProcess.ttfa([
            "monitor", "--every", "1h", "--db", scratch.database, "--audio", scratch.audio, "--trials", "1",
            "--warmup", "0", "--transport", "websocket", "--profile", "instant", "--link", "loopback",
            "--lag-budget-ms", "1000",
        ])
        _ = try #require(try await monitor.line(containing: "round 1 (run 1)", timeout: 120), "\(monitor.stderrLines)")
        let started = Date()
        monitor.process.terminate()
        let status = try await monitor.waitForExit(timeout: 30)
        #expect(status == 0)
        #expect(Date().timeIntervalSince(started) < 10)
        #expect(
            monitor.stderrLines.contains { $0.contains("stopped after 1 round (1 complete)") }, "\(monitor.stderrLines)"
        )
        let store = try SQLiteStore(path: scratch.database)
        #expect(try await store.runs().map(\.status) == [.complete])
    }

    @Test("SIGINT during a round stores it as interrupted and stops with exit 0")
    func sigintDuringARound() async throws {
        let scratch = try Scratch()
        try await withServe { server in
            let monitor = try BackgroundProcess.ttfa([
                "monitor", "--every", "1h", "--metrics-listen", "127.0.0.1:0", "--db", scratch.database, "--audio",
                scratch.audio, "--trials", "3", "--warmup", "0", "--transport", "websocket",
                "--ws-url", "ws://127.0.0.1:\(server.port)/v1/realtime?first_audio_ms=2000",
            ])
            _ = try #require(try await monitor.line(containing: "metrics: serving", timeout: 60))
            try await Task.sleep(for: .seconds(1.5))
            kill(monitor.process.processIdentifier, SIGINT)
            let status = try await monitor.waitForExit(timeout: 30)
            #expect(status == 0, "\(monitor.stderrLines)")
            #expect(
                monitor.stderrLines.contains { $0.contains("stopped after 1 round (1 interrupted)") },
                "\(monitor.stderrLines)")
            let store = try SQLiteStore(path: scratch.database)
            #expect(try await store.runs().map(\.status) == [.interrupted])
        }
    }

    @Test("bad monitoring input: a specific message and exit 2, nothing measured")
    func badInput() async throws {
        let scratch = try Scratch()
        let busy = try freePort()
        // Something already listens on the metrics port.
        let holder = try BackgroundProcess.ttfa(["serve", "--port", String(busy)])
        defer { holder.process.terminate() }
        try await Task.sleep(for: .seconds(1))
        let cases: [([String], String)] = [
            (["--every", "soon"], "--every soon is not a duration"),
            (["--every", "500ms"], "--every 500ms is shorter than a second"),
            (["--count", "0"], "--count 0: give a number of rounds of 1 or more"),
            (["--jitter", "80%"], "--jitter 80%: give a share of --every from 0% to 50%"),
            (["--metrics-listen", "9464"], "--metrics-listen 9464: give HOST:PORT"),
            (
                ["--metrics-buckets", "1s,500ms"],
                "--metrics-buckets 1s,500ms: give distinct durations in ascending order"
            ),
            (["--junit", "x.xml"], "--junit is not for ttfa monitor"),
            (["--metrics-listen", "127.0.0.1:\(busy)"], "--metrics-listen 127.0.0.1:\(busy): cannot listen there"),
        ]
        for (arguments, message) in cases {
            let result = try await ttfa(["monitor", "--db", scratch.database, "--count", "1"] + arguments)
            #expect(result.status == 2, "\(arguments): \(result.stderr)")
            #expect(result.stderr.contains(message), "\(arguments): \(result.stderr)")
        }
        if FileManager.default.fileExists(atPath: scratch.database) {
            let runs = try await SQLiteStore(path: scratch.database).runs()
            #expect(runs.isEmpty)
        }
    }
}
