import Foundation
import Monitoring
import Statistics
import Storage
import StorageSQLite
import TestSupport
import Testing
import Yams

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// Debian's Prometheus (`make test` installs the package).
let prometheusBinary: String? = ["/usr/bin/prometheus", "/usr/local/bin/prometheus"].first {
    FileManager.default.isExecutableFile(atPath: $0)
}

/// `ttfa monitor` scraped by a real Prometheus: what Prometheus computes from the exported
/// families agrees with what ttfa stored, and every query of the shipped dashboard and alert
/// rules returns data.
@Suite(
    "ttfa monitor scraped by Prometheus",
    .enabled(
        if: prometheusBinary != nil, "Debian's prometheus package is not installed (make test installs it)"))
struct MonitorPrometheusTests {
    @Test(.timeLimit(.minutes(6)))
    func prometheusAgreesWithTheStore() async throws {
        let scratch = try Scratch()
        try await withServe { server in
            let base = "127.0.0.1:\(server.port)"
            let monitor = try BackgroundProcess.ttfa([
                "monitor", "--every", "5s", "--count", "6", "--metrics-listen", "127.0.0.1:0",
                "--db", scratch.database, "--audio", scratch.audio, "--trials", "2", "--warmup", "0",
                "--lag-budget-ms", "1000", "--transport", "websocket,sse,sse-stream",
                "--threshold", "websocket.ttfa.p95 < 2s", "--threshold", "sse-stream.failed < 5%",
                "--ws-url", "ws://\(base)/v1/realtime?first_audio_ms=300",
                "--sse-url", "http://\(base)/v1/chat/completions?first_audio_ms=300",
                "--url",
                "sse-stream=http://\(base)/v1/chat/completions/stream?first_audio_ms=300&fault=http-500&fault_every=3",
            ])
            let serving = try #require(
                try await monitor.line(containing: "metrics: serving", timeout: 60), "\(monitor.stderrLines)")
            let metricsPort = try #require(
                serving.split(separator: ":").last?.split(separator: "/").first.flatMap { Int($0) }, "\(serving)")

            let folder = scratch.directory.appendingPathComponent("prometheus")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            let alerts = repositoryRoot.appendingPathComponent("examples/prometheus/ttfa-alerts.yml")
            try """
            global:
              scrape_interval: 1s
              evaluation_interval: 1s
            rule_files: ["\(alerts.path)"]
            scrape_configs:
              - job_name: ttfa
                static_configs:
                  - targets: ["127.0.0.1:\(metricsPort)"]
            """.write(to: folder.appendingPathComponent("prometheus.yml"), atomically: true, encoding: .utf8)
            let port = try freePort()
            let prometheus = try BackgroundProcess(
                URL(fileURLWithPath: prometheusBinary!),
                [
                    "--config.file=\(folder.path)/prometheus.yml", "--storage.tsdb.path=\(folder.path)/data",
                    "--web.listen-address=127.0.0.1:\(port)", "--log.level=warn",
                ])
            let api = PrometheusAPI(base: "http://127.0.0.1:\(port)")
            do {
                let status = try await monitor.waitForExit(timeout: 240)
                #expect(status == 0, "\(monitor.stderrLines.joined(separator: "\n"))")
                #expect(monitor.stderrLines.contains { $0.contains("done after 6 rounds") })
                try await check(api: api, database: scratch.database)
            } catch {
                await prometheus.stop()
                throw error
            }
            await prometheus.stop()
        }
    }

    @Test("promtool accepts the example configuration and alert rules")
    func examplesAreValid() async throws {
        let promtool = URL(fileURLWithPath: "/usr/bin/promtool")
        let folder = repositoryRoot.appendingPathComponent("examples/prometheus")
        let rules = try await command(
            promtool, ["check", "rules", folder.appendingPathComponent("ttfa-alerts.yml").path])
        #expect(rules.status == 0 && rules.stdout.contains("SUCCESS: 3 rules found"), "\(rules.stdout)\(rules.stderr)")
        let config = try await command(
            promtool, ["check", "config", "--syntax-only", folder.appendingPathComponent("prometheus.yml").path])
        #expect(config.status == 0, "\(config.stdout)\(config.stderr)")
    }

    func check(api: PrometheusAPI, database: String) async throws {
        // The monitor is gone: Prometheus marked its series stale. Everything is read at the
        // last scrape that succeeded, which (the monitor waits for it) came after the last round.
        let last = try #require(try await api.lastSampleTime("ttfa_build_info"), "Prometheus never scraped the monitor")

        let store = try SQLiteStore(path: database)
        var trials: [TrialRecord] = []
        for run in try await store.runs() { trials += try await store.trials(runID: run.id!) }
        #expect(Set(trials.map(\.runID)).count == 6)

        // The counters: every stored trial, by status.
        var stored: [String: Int] = [:]
        for trial in trials { stored[trial.status.rawValue, default: 0] += 1 }
        let counted = try await api.query("sum by (status) (ttfa_trials_total)", at: last)
        var byStatus: [String: Int] = [:]
        for sample in counted { byStatus[sample.labels["status"] ?? ""] = Int(sample.value) }
        #expect(byStatus == stored)
        #expect(stored.keys.contains { $0 != "ok" }, "the faulty transport failed some trials: \(stored)")
        let rounds = try await api.query("sum(ttfa_rounds_total)", at: last)
        #expect(rounds.first?.value == 6)
        // The faulty transport's threshold failed on the last round; the other held.
        let breached = try await api.query("ttfa_threshold_breached", at: last)
        #expect(
            Dictionary(uniqueKeysWithValues: breached.map { ($0.labels["threshold"] ?? "", $0.value) }) == [
                "websocket.ttfa.p95 < 2s": 0, "sse-stream.failed < 5%": 1,
            ])

        // Prometheus's median from the buckets lies within one bucket of ttfa's own.
        let bounds = TTFAMetrics.defaultBuckets
        func bucket(_ seconds: Double) -> Int { bounds.firstIndex { seconds <= $0 } ?? bounds.count }
        for transport in ["websocket", "sse", "sse-stream"] {
            let ok = trials.filter { $0.transport == transport && !$0.warmup && $0.status == .ok }
                .compactMap(\.ttfaNs).map { Double($0) / 1e9 }.sorted()
            try #require(!ok.isEmpty, "\(transport) has ok trials")
            let own = Summary.percentile(ok, 0.5)
            let estimate = try await api.query(
                "histogram_quantile(0.5, sum by (le) (ttfa_time_to_first_audio_seconds_bucket{transport=\"\(transport)\"}))",
                at: last)
            let fromPrometheus = try #require(estimate.first?.value, "\(transport): no histogram_quantile")
            #expect(
                abs(bucket(fromPrometheus) - bucket(own)) <= 1,
                "\(transport): Prometheus p50 \(fromPrometheus) s, ttfa's \(own) s")
            #expect(own >= 0.3, "\(transport): the server waits 300 ms before its first audio")
        }

        // Every query of the dashboard and of the alert rules returns data.
        let dashboard = try #require(
            try JSONSerialization.jsonObject(
                with: Data(contentsOf: repositoryRoot.appendingPathComponent("examples/grafana/ttfa-dashboard.json")))
                as? [String: Any])
        let panels = try #require(dashboard["panels"] as? [[String: Any]])
        var expressions: [(String, String)] = []
        for panel in panels {
            for target in panel["targets"] as? [[String: Any]] ?? [] {
                expressions.append(("dashboard: \(panel["title"] ?? "")", try #require(target["expr"] as? String)))
            }
        }
        #expect(expressions.count >= 10)
        let rules = try #require(
            try Yams.load(
                yaml: String(
                    contentsOf: repositoryRoot.appendingPathComponent("examples/prometheus/ttfa-alerts.yml"),
                    encoding: .utf8)) as? [String: Any])
        for group in rules["groups"] as? [[String: Any]] ?? [] {
            for rule in group["rules"] as? [[String: Any]] ?? [] {
                // An alert's condition holds only when it fires: its measurement must return data.
                let expr = try #require(rule["expr"] as? String)
                let measured = expr.replacingOccurrences(
                    of: #"\s*>\s*[0-9.]+\s*$"#, with: "", options: .regularExpression)
                expressions.append(("alert \(rule["alert"] ?? "")", measured))
            }
        }
        #expect(expressions.count >= 13)
        for (source, expression) in expressions {
            let query = expression.replacingOccurrences(of: "$__rate_interval", with: "1m")
                .replacingOccurrences(of: "$transport", with: ".*").replacingOccurrences(of: "$endpoint", with: ".*")
            let result = try await api.query(query, at: last)
            #expect(!result.isEmpty, "\(source): \(query) returned no data")
        }
        // Prometheus loaded the rules and evaluates them without error.
        let health = try await api.ruleHealth()
        #expect(health.count == 3 && health.allSatisfy { $0 != "err" }, "\(health)")
    }
}

/// The few calls of Prometheus's HTTP API the test needs.
struct PrometheusAPI {
    let base: String

    struct Sample {
        var labels: [String: String]
        var value: Double
    }

    func get(_ path: String, _ items: [URLQueryItem]) async throws -> [String: Any] {
        var components = try #require(URLComponents(string: base + path))
        components.queryItems = items
        let url = try #require(components.url)
        for attempt in 0..<50 {
            do {
                let (data, _) = try await URLSession.shared.data(from: url)
                let body = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
                try #require(body["status"] as? String == "success", "\(url): \(body)")
                return try #require(body["data"] as? [String: Any])
            } catch  where attempt < 49 {
                try await Task.sleep(for: .milliseconds(200))  // Prometheus still starting
            }
        }
        throw CancellationError()
    }

    /// An instant query's vector (or scalar) at `time`.
    func query(_ expression: String, at time: Double) async throws -> [Sample] {
        let data = try await get(
            "/api/v1/query",
            [URLQueryItem(name: "query", value: expression), URLQueryItem(name: "time", value: "\(time)")])
        if data["resultType"] as? String == "scalar", let pair = data["result"] as? [Any] {
            return [Sample(labels: [:], value: Double(pair[1] as? String ?? "") ?? .nan)]
        }
        return (data["result"] as? [[String: Any]] ?? []).compactMap { item in
            guard let pair = item["value"] as? [Any], let value = Double(pair[1] as? String ?? "") else { return nil }
            return Sample(labels: item["metric"] as? [String: String] ?? [:], value: value)
        }
    }

    /// When `metric` was last scraped successfully (its newest raw sample).
    func lastSampleTime(_ metric: String) async throws -> Double? {
        let data = try await get(
            "/api/v1/query",
            [
                URLQueryItem(name: "query", value: "\(metric)[10m]"),
                URLQueryItem(name: "time", value: "\(Date().timeIntervalSince1970)"),
            ])
        let series = data["result"] as? [[String: Any]] ?? []
        let times = series.flatMap { ($0["values"] as? [[Any]]) ?? [] }.compactMap { $0.first as? Double }
        return times.max()
    }

    /// Each loaded rule's health (ok, unknown before its first evaluation, err).
    func ruleHealth() async throws -> [String] {
        for _ in 0..<50 {
            let data = try await get("/api/v1/rules", [])
            let rules = (data["groups"] as? [[String: Any]] ?? []).flatMap { $0["rules"] as? [[String: Any]] ?? [] }
            let health = rules.map { $0["health"] as? String ?? "" }
            if !health.isEmpty && !health.contains("unknown") { return health }
            try await Task.sleep(for: .milliseconds(200))
        }
        return []
    }
}
