import Foundation
import StorageSQLite
import TTFASupport
import TestSupport
import Testing
import VoiceTransport

@Suite("ttfa run", .serialized)
struct RunCommandTests {
    @Test func jsonSummaryFollowsTheContractAndEveryTrialIsStored() async throws {
        let scratch = try Scratch()
        let result = try await ttfa(quickRun(scratch, extra: ["--json", "--label", "ci check"]))
        #expect(result.status == 0, "\(result.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        #expect(object["run_id"] as? Int == 1)
        #expect(object["database"] as? String == scratch.database)
        #expect(object["label"] as? String == "ci check")
        let transports = try #require(object["transports"] as? [[String: Any]])
        #expect(
            transports.compactMap { $0["transport"] as? String } == ["websocket", "sse", "sse-stream", "webrtc"],
            "the embedded server has all four")
        for t in transports {
            #expect(
                t["trials"] as? Int == 2 && t["ok"] as? Int == 2 && t["failed"] as? Int == 0
                    && t["invalid"] as? Int == 0)
            #expect((t["errors"] as? [String: Any])?.isEmpty == true)
            let ttfa = try #require(t["ttfa_ms"] as? [String: Any])
            for key in ["p50", "p90", "p95", "p99", "mean", "min", "max"] { #expect(ttfa[key] is Double, "\(key)") }
            #expect((t["phases_ms"] as? [String: Any])?["first_audio"] is Double)
            #expect(
                (t["phases_ms"] as? [String: Any])?["encode"] is Double,
                "the client's work after the end of speech is its own phase")
            let reuse = try #require(t["connection_reuse"] as? [String: Any])
            #expect(
                reuse["warm_trials"] as? Int == 2 && reuse["reused"] as? Int == 2 && reuse["reconnected"] as? Int == 0)
            #expect((t["warmup"] as? [String: Any])?["trials"] as? Int == 0)
        }
        #expect(object["context"] as? String == "reset")
        #expect(object["verdict_withheld"] as? Bool == false)
        let comparisons = try #require(object["comparisons"] as? [[String: Any]])
        #expect(comparisons.first?["baseline"] as? String == "websocket")
        #expect(comparisons.first?["candidate"] as? String == "sse")
        #expect(comparisons.map { $0["candidate"] as? String } == ["sse", "sse-stream", "webrtc"])
        #expect((object["verdicts"] as? [String])?.count == 3, "one verdict per transport against the first")
        #expect((comparisons.first?["ci95"] as? [Double])?.count == 2)

        let store = try SQLiteStore(path: scratch.database, create: false)
        #expect(try await store.run(id: 1)?.status == .complete)
        #expect(try await store.trials(runID: 1).count == 8)
        let runs = try await ttfa(["runs", "--db", scratch.database])
        #expect(runs.status == 0 && runs.stdout.contains("ci check"))
    }

    /// How closely TTFA follows the delay is a timing figure (TimingTests); here: it is never less.
    @Test func aServersFirstAudioDelayIsAlwaysInTheTTFA() async throws {
        try await withServe { server in
            let scratch = try Scratch()
            let base = "127.0.0.1:\(server.port)"
            let result = try await ttfa([
                "run", "--trials", "3", "--warmup", "1", "--audio", scratch.audio, "--db", scratch.database, "--json",
                "--lag-budget-ms", "1000",
                "--ws-url", "ws://\(base)/v1/realtime?first_audio_ms=300",
                "--sse-url", "http://\(base)/v1/chat/completions?first_audio_ms=300",
            ])
            #expect(result.status == 0, "\(result.stderr)")
            let object = try #require(
                try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
            for t in try #require(object["transports"] as? [[String: Any]]) {
                let p50 = try #require((t["ttfa_ms"] as? [String: Any])?["p50"] as? Double)
                #expect(p50 >= 300, "\(t["transport"] ?? ""): p50 \(p50) ms, never before the server's delay")
            }
        }
    }

    @Test(
        arguments: [
            (["--trials", "0"], "--trials"),
            (["--transport", "smoke-signals"], "smoke-signals"),
            (["--audio", "/no/such.wav"], "/no/such.wav"),
            (["--ws-url", "ws://127.0.0.1:9/x"], "--sse-url"),
            (["--ws-url", "ftp://x/y", "--transport", "websocket"], "ftp"),
            (["--header", "Authorization: Bearer $TTFA_UNSET_VARIABLE_X"], "TTFA_UNSET_VARIABLE_X"),
            (["--db", "/proc/ttfa-no/results.sqlite"], "/proc/ttfa-no"),
        ] as [([String], String)])
    func badInputExits2WithASpecificMessageAndMeasuresNothing(arguments: [String], mentions: String) async throws {
        let scratch = try Scratch()
        var args = ["run", "--db", scratch.database] + arguments
        if !arguments.contains("--audio") { args += ["--audio", scratch.audio] }
        if arguments.contains("--db") { args = ["run"] + arguments + ["--audio", scratch.audio] }
        let result = try await ttfa(args)
        #expect(result.status == 2)
        #expect(result.stderr.contains(mentions), "\(result.stderr)")
        #expect(result.stdout.isEmpty)
        if FileManager.default.fileExists(atPath: scratch.database) {
            #expect(try await SQLiteStore(path: scratch.database).runs().isEmpty, "no run stored")
        }
    }

    @Test func unreachableEndpointsFailEveryTrialWithConnect() async throws {
        let scratch = try Scratch()
        var arguments = quickRun(
            scratch,
            extra: [
                "--json", "--ws-url", "ws://127.0.0.1:9/v1/realtime", "--sse-url",
                "http://127.0.0.1:9/v1/chat/completions",
            ])
        arguments.removeAll { ["--profile", "instant", "--link", "loopback"].contains($0) }
        let result = try await ttfa(arguments)
        #expect(result.status == 3)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        for t in try #require(object["transports"] as? [[String: Any]]) {
            #expect(t["failed"] as? Int == 2)
            #expect((t["errors"] as? [String: Int]) == ["connect": 2])
            #expect(
                (t["connection_reuse"] as? [String: Any])?["reused"] as? Int == 0,
                "a connection that never opened was not reused")
        }
    }

    @Test func aFailedThresholdExits1EvenWhenTrialsFailedAndTheSummaryStillListsThem() async throws {
        let scratch = try Scratch()
        // The WebSocket side is unreachable (exit 3 on its own); the SSE side is measured.
        var arguments = quickRun(
            scratch,
            extra: [
                "--ws-url", "ws://127.0.0.1:9/v1/realtime", "--transport", "websocket",
                "--threshold", "websocket.failed == 0", "--threshold", "websocket.failed <= 100%",
            ])
        arguments.removeAll { ["--profile", "instant", "--link", "loopback"].contains($0) }
        let result = try await ttfa(arguments)
        #expect(result.status == 1, "\(result.stderr)")
        #expect(result.stdout.contains("✗ websocket.failed == 0 (measured 2)"))
        #expect(result.stdout.contains("✓ websocket.failed <= 100% (measured 100.0%)"))
        #expect(result.stdout.contains("websocket connect:"), "the failed trials are still listed")
        #expect(result.stderr.contains("1 threshold failed: websocket.failed == 0"))
        // Thresholds that pass leave the exit code to the trials; a typo measures nothing.
        let passing = try await ttfa(
            quickRun(scratch, extra: ["--threshold", "sse.ttfa.p99 > 0ms", "--threshold", "websocket.failed == 0"]))
        #expect(passing.status == 0, "\(passing.stderr)")
        let typo = try await ttfa(quickRun(scratch, extra: ["--threshold", "sse.ttfa.p50 < 2 seconds"]))
        #expect(typo.status == 2 && typo.stderr.contains("not a time"))
        let runs = try await ttfa(["runs", "--db", scratch.database])
        #expect(runs.stdout.split(separator: "\n").count == 1 + 2, "the typo stored no run")
    }

    /// Two servers that record each request head they receive, then hang up.
    @Test func perTransportHeadersReachOnlyTheirTransport() async throws {
        let heads = CapturedHeads()
        func capture(_ tag: String) throws -> TCPTestServer {
            try TCPTestServer { client in
                var received = [UInt8]()
                var buffer = [UInt8](repeating: 0, count: 4096)
                while !String(decoding: received, as: UTF8.self).contains("\r\n\r\n") {
                    let n = recv(client, &buffer, buffer.count, 0)
                    if n <= 0 { break }
                    received += buffer[0..<n]
                }
                heads.append("\(tag) " + String(decoding: received, as: UTF8.self) + "\n---\n")
            }
        }
        let ws = try capture("ws")
        let sse = try capture("sse")
        defer {
            ws.stop()
            sse.stop()
        }
        let scratch = try Scratch()
        let secret = "ws-secret-\(UUID().uuidString.prefix(8))"
        let result = try await ttfa(
            [
                "run", "--transport", "websocket,sse", "--trials", "1", "--warmup", "0", "--audio", scratch.audio,
                "--db", scratch.database, "--timeout", "2",
                "--ws-url", "ws://127.0.0.1:\(ws.port)/v1/realtime", "--sse-url",
                "http://127.0.0.1:\(sse.port)/v1/chat/completions",
                "--header", "X-Both: both", "--ws-header", "X-WS-Key: $TTFA_WS_SECRET", "--sse-header",
                "X-SSE-Only: sse",
                "--ws-model", "gpt-realtime-test",
            ],
            environment: ["TTFA_WS_SECRET": secret])
        #expect(result.status == 3, "the capture servers hang up: \(result.stderr)")
        let text = heads.text
        let wsHeads = text.components(separatedBy: "\n---\n").filter { $0.hasPrefix("ws ") }
        let sseHeads = text.components(separatedBy: "\n---\n").filter { $0.hasPrefix("sse ") }
        #expect(!wsHeads.isEmpty && !sseHeads.isEmpty, "\(text)")
        for head in wsHeads {
            #expect(
                head.contains("X-Both: both") && head.contains("X-WS-Key: \(secret)") && !head.contains("X-SSE-Only"),
                "\(head)")
            #expect(
                head.contains("User-Agent: ttfa/\(TTFAInfo.version)") && head.contains("model=gpt-realtime-test"),
                "\(head)")
        }
        for head in sseHeads {
            #expect(
                head.contains("X-Both: both") && head.contains("X-SSE-Only: sse") && !head.contains("X-WS-Key"),
                "\(head)")
            #expect(head.contains("User-Agent: ttfa/\(TTFAInfo.version)"), "\(head)")
        }
        #expect(!(result.stdout + result.stderr).contains(secret))
        #expect(!String(decoding: try scratch.allFileContents(), as: UTF8.self).contains(secret), "never stored")
        let store = try SQLiteStore(path: scratch.database, create: false)
        #expect(try await store.latestRun()?.commandLine.contains("--ws-header 'X-WS-Key: ***'") == true)
        // A User-Agent of your own replaces ttfa's.
        _ = try await ttfa([
            "run", "--transport", "sse", "--trials", "1", "--warmup", "0", "--audio", scratch.audio, "--db",
            scratch.database,
            "--timeout", "2", "--sse-url", "http://127.0.0.1:\(sse.port)/v1/chat/completions", "--sse-header",
            "User-Agent: my-app/2",
        ])
        let last = heads.text.components(separatedBy: "\n---\n").filter { $0.hasPrefix("sse ") }.last ?? ""
        #expect(last.contains("User-Agent: my-app/2") && !last.contains("ttfa/"), "\(last)")
    }

    @Test func wrongDialectIsAProtocolFailure() async throws {
        try await withServe { server in
            let scratch = try Scratch()
            let result = try await ttfa([
                "run", "--trials", "1", "--warmup", "0", "--audio", scratch.audio, "--db", scratch.database, "--json",
                "--lag-budget-ms", "1000", "--ws-url", "ws://127.0.0.1:\(server.port)/v1/echo", "--sse-url",
                "http://127.0.0.1:\(server.port)/v1/echo",
            ])
            #expect(result.status == 3)
            let object = try #require(
                try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
            for t in try #require(object["transports"] as? [[String: Any]]) {
                #expect((t["errors"] as? [String: Int]) == ["protocol": 1])
            }
        }
    }

    @Test func sigkillKeepsCompletedTrialsAndTheDatabaseIntact() async throws {
        let scratch = try Scratch()
        let (process, _) = try launch(quickRun(scratch, trials: 50))
        try await waitForTrials(3, in: scratch.database)
        kill(process.processIdentifier, SIGKILL)
        _ = try await onDedicatedThread { process.waitUntilExit() }
        let store = try SQLiteStore(path: scratch.database, create: false)
        #expect(try await store.integrityCheck() == "ok")
        #expect(try await store.trials(runID: 1).count >= 3)
        #expect(try await store.run(id: 1)?.status == .running, "a killed run cannot mark itself")
    }

    @Test func sigintExits130AndMarksTheRunInterrupted() async throws {
        let scratch = try Scratch()
        let (process, out) = try launch(quickRun(scratch, trials: 50))
        try await waitForTrials(2, in: scratch.database)
        process.interrupt()
        let output = try await onDedicatedThread { out.fileHandleForReading.readDataToEndOfFile() }
        _ = try await onDedicatedThread { process.waitUntilExit() }
        #expect(process.terminationStatus == 130)
        let store = try SQLiteStore(path: scratch.database, create: false)
        #expect(try await store.run(id: 1)?.status == .interrupted)
        let stored = try await store.trials(runID: 1)
        #expect(stored.count >= 2 && stored.count < 200)
        #expect(stored.allSatisfy { $0.status == .ok }, "the abandoned trial is not stored as a failure")
        #expect(String(decoding: output, as: UTF8.self).contains("interrupted"), "partial summary printed")
    }

    @Test func threeConcurrentRunsIntoOneDatabaseAllComplete() async throws {
        let scratch = try Scratch()
        async let a = ttfa(quickRun(scratch, trials: 3, extra: ["--quiet"]))
        async let b = ttfa(quickRun(scratch, trials: 3, extra: ["--quiet"]))
        async let c = ttfa(quickRun(scratch, trials: 3, extra: ["--quiet"]))
        let results = try await [a, b, c]
        #expect(results.map(\.status) == [0, 0, 0], "\(results.map(\.stderr))")
        let store = try SQLiteStore(path: scratch.database, create: false)
        let runs = try await store.runs()
        #expect(runs.count == 3 && runs.allSatisfy { $0.status == .complete })
        for run in runs { #expect(try await store.trials(runID: run.id!).count == 12) }
        #expect(try await store.integrityCheck() == "ok")
    }

    @Test func concurrentSessionsShareTheScheduleAndEachWarmsItsOwnConnections() async throws {
        let scratch = try Scratch()
        let result = try await ttfa(quickRun(scratch, trials: 3, extra: ["--concurrency", "2", "--json"]))
        #expect(result.status == 0, "\(result.stderr)")
        let store = try SQLiteStore(path: scratch.database, create: false)
        let trials = try await store.trials(runID: 1)
        #expect(trials.count == 12)
        #expect(trials.map(\.seq) == Array(1...12), "every finished trial gets the next number")
        #expect(
            trials.allSatisfy { $0.status == .ok && $0.connectionReused == true },
            "warm: connections opened before the trials")
    }

    @Test func aSentinelSecretLeavesNoTraceAnywhere() async throws {
        try await withServe { server in
            let sentinel = "sk-sentinel-\(UUID().uuidString)"
            let scratch = try Scratch()
            let env = ["TTFA_SENTINEL": sentinel]
            let base = "127.0.0.1:\(server.port)"
            var arguments = quickRun(
                scratch,
                extra: [
                    "--json", "--header", "Authorization: Bearer $TTFA_SENTINEL", "--header", "X-Literal: \(sentinel)",
                    "--ws-url", "ws://\(base)/v1/realtime?api_key=\(sentinel)", "--sse-url",
                    "http://\(base)/v1/chat/completions?key=\(sentinel)",
                ])
            arguments.removeAll { ["--profile", "instant", "--link", "loopback"].contains($0) }
            let run = try await ttfa(arguments, environment: env)
            #expect(run.status == 0, "\(run.stderr)")
            let csvPath = scratch.directory.appendingPathComponent("results/export.csv").path
            let export = try await ttfa(["export", "--db", scratch.database, "--out", csvPath])
            let report = try await ttfa(["report", "--db", scratch.database, "--format", "json"])
            let runs = try await ttfa(["runs", "--db", scratch.database, "--json"])
            for output in [run, export, report, runs] {
                #expect(!output.stdout.contains(sentinel) && !output.stderr.contains(sentinel))
            }
            let files = try scratch.allFileContents()
            #expect(files.range(of: Data(sentinel.utf8)) == nil, "no file under results/ holds the secret")
            let store = try SQLiteStore(path: scratch.database, create: false)
            #expect(try await store.run(id: 1)?.commandLine.contains("Authorization: ***") == true)
            #expect(try await store.trials(runID: 1).first?.endpoint.contains("api_key=***") == true)
        }
    }

    @Test func exportHasOneRowPerTrialAndParsesAsCSV() async throws {
        let scratch = try Scratch()
        _ = try await ttfa(quickRun(scratch, trials: 2, extra: ["--warmup", "1", "--quiet"]))
        let export = try await ttfa(["export", "--db", scratch.database])
        #expect(export.status == 0)
        let lines = export.stdout.components(separatedBy: "\r\n").filter { !$0.isEmpty }
        #expect(lines.count == 1 + 12, "header + (2 measured + 1 warm-up) × 4 transports")
        let header = lines[0].split(separator: ",").map(String.init)
        #expect(Array(header.prefix(3)) == ["run_id", "seq", "transport"])
        #expect(
            lines.dropFirst().allSatisfy {
                $0.split(separator: ",", omittingEmptySubsequences: false).count == header.count
            })
        // Exporting again over the same file replaces it whole.
        let file = scratch.directory.appendingPathComponent("results/trials.csv").path
        for _ in 0..<2 {
            let written = try await ttfa(["export", "--db", scratch.database, "--out", file])
            #expect(written.status == 0, "\(written.stderr)")
            #expect(try String(contentsOfFile: file, encoding: .utf8) == export.stdout)
        }
        let unwritable = try await ttfa(["export", "--db", scratch.database, "--out", "/proc/ttfa-nope/x.csv"])
        #expect(unwritable.status == 2 && unwritable.stderr.contains("/proc/ttfa-nope/x.csv"))
        let missing = try await ttfa(["export", "--db", scratch.database, "--run", "42"])
        #expect(missing.status == 2 && missing.stderr.contains("run 42"))
    }
}

/// Request heads a test server received, from many threads.
final class CapturedHeads: @unchecked Sendable {
    private let lock = NSLock()
    private var all = ""

    func append(_ head: String) {
        lock.lock()
        all += head
        lock.unlock()
    }

    var text: String {
        lock.lock()
        defer { lock.unlock() }
        return all
    }
}
