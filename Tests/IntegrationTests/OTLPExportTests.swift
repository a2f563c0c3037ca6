import Foundation
import Hummingbird
import Storage
import StorageSQLite
import TestSupport
import Testing

/// OTLP/HTTP requests as a collector receives them (the exporter speaks `http/json` here, so the
/// test reads them without the protobuf schema).
final class OTLPReceiver: Sendable {
    private let bodies = LockedBodies()

    final class LockedBodies: @unchecked Sendable {
        private let lock = NSLock()
        private var values: [(path: String, body: [String: Any])] = []
        func append(_ path: String, _ body: [String: Any]) {
            lock.lock()
            values.append((path, body))
            lock.unlock()
        }
        var all: [(path: String, body: [String: Any])] {
            lock.lock()
            defer { lock.unlock() }
            return values
        }
    }

    var requests: [(path: String, body: [String: Any])] { bodies.all }

    /// Runs the receiver while `body` runs, handing it the port.
    func serve(_ body: @escaping @Sendable (Int) async throws -> Void) async throws {
        let router = Router()
        let bodies = self.bodies
        for path in ["/v1/metrics", "/v1/traces"] {
            router.post(RouterPath(path)) { request, _ -> Response in
                let data = try await request.body.collect(upTo: 16 << 20)
                let json = (try? JSONSerialization.jsonObject(with: Data(buffer: data))) as? [String: Any] ?? [:]
                bodies.append(path, json)
                return Response(
                    status: .ok, headers: [.contentType: "application/json"],
                    body: ResponseBody(byteBuffer: ByteBuffer(string: "{}")))
            }
        }
        let port = LockedPort()
        let app = Application(
            router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in port.set(channel.localAddress?.port ?? 0) })
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await app.runService() }
            group.addTask {
                while port.value == 0 { try await Task.sleep(for: .milliseconds(20)) }
                try await body(port.value)
            }
            try await group.next()
            group.cancelAll()
        }
    }

    final class LockedPort: @unchecked Sendable {
        private let lock = NSLock()
        private var port = 0
        func set(_ value: Int) {
            lock.lock()
            port = value
            lock.unlock()
        }
        var value: Int {
            lock.lock()
            defer { lock.unlock() }
            return port
        }
    }
}

/// An OTLP attribute list as a dictionary of strings.
func attributes(_ list: Any?) -> [String: String] {
    var out: [String: String] = [:]
    for item in list as? [[String: Any]] ?? [] {
        guard let key = item["key"] as? String, let value = item["value"] as? [String: Any] else { continue }
        out[key] = value.values.first.map { "\($0)" }
    }
    return out
}

func nanoseconds(_ value: Any?) -> UInt64 { UInt64("\(value ?? "")") ?? 0 }

@Suite("ttfa monitor over OTLP/HTTP")
struct OTLPExportTests {
    @Test(.timeLimit(.minutes(3)))
    func metricsAndOneTracePerTrial() async throws {
        let scratch = try Scratch()
        let receiver = OTLPReceiver()
        // The embedded server: its own record of each trial gives the spans their server-side parts.
        try await receiver.serve { port in
            let result = try await ttfa(
                [
                    "monitor", "--every", "1s", "--count", "2", "--db", scratch.database, "--audio", scratch.audio,
                    "--trials", "2", "--warmup", "0", "--transport", "websocket,sse", "--lag-budget-ms", "1000",
                    "--label", "otlp-test", "--profile", "instant", "--link", "loopback",
                    "--otlp-endpoint", "http://127.0.0.1:\(port)", "--otlp-traces", "--otlp-interval", "1s",
                ], environment: ["OTEL_EXPORTER_OTLP_PROTOCOL": "http/json"])
            #expect(result.status == 0, "\(result.stderr)")
        }
        let requests = receiver.requests
        // Metrics: names, units, kinds; the resource says who measured.
        var metrics: [String: [String: Any]] = [:]
        var resource: [String: String] = [:]
        for request in requests where request.path == "/v1/metrics" {
            for rm in request.body["resourceMetrics"] as? [[String: Any]] ?? [] {
                resource = attributes((rm["resource"] as? [String: Any])?["attributes"])
                for sm in rm["scopeMetrics"] as? [[String: Any]] ?? [] {
                    for metric in sm["metrics"] as? [[String: Any]] ?? [] {
                        if let name = metric["name"] as? String { metrics[name] = metric }
                    }
                }
            }
        }
        #expect(resource["service.name"] == "ttfa")
        #expect(resource["ttfa.run.label"] == "otlp-test")
        #expect(resource["host.name"]?.isEmpty == false && resource["service.version"]?.isEmpty == false)
        let expected: [(String, String, String)] = [
            ("ttfa.time_to_first_audio", "s", "histogram"), ("ttfa.phase", "s", "histogram"),
            ("ttfa.trials", "{trial}", "sum"), ("ttfa.rounds", "{round}", "sum"),
            ("ttfa.last_round.ttfa.p50", "s", "gauge"), ("ttfa.last_round.ttfa.p95", "s", "gauge"),
            ("ttfa.endpoint.up", "1", "gauge"), ("ttfa.last_round.duration", "s", "gauge"),
        ]
        for (name, unit, kind) in expected {
            let metric = try #require(metrics[name], "\(name) not exported: \(metrics.keys.sorted())")
            #expect(metric["unit"] as? String == unit, "\(name)")
            #expect(metric[kind] != nil, "\(name) is not a \(kind): \(metric.keys.sorted())")
        }
        // The trial counter's last export counts every stored trial.
        let store = try SQLiteStore(path: scratch.database)
        var stored: [TrialRecord] = []
        for run in try await store.runs() { stored += try await store.trials(runID: run.id!) }
        #expect(stored.count == 8)
        let points = ((metrics["ttfa.trials"]?["sum"] as? [String: Any])?["dataPoints"] as? [[String: Any]]) ?? []
        let counted = points.reduce(0) { $0 + (Int("\($1["asInt"] ?? $1["asDouble"] ?? 0)") ?? 0) }
        #expect(counted == stored.count, "\(points)")

        // Traces: one per ok trial; the children of each add up to its TTFA.
        var spans: [[String: Any]] = []
        for request in requests where request.path == "/v1/traces" {
            for rs in request.body["resourceSpans"] as? [[String: Any]] ?? [] {
                for ss in rs["scopeSpans"] as? [[String: Any]] ?? [] { spans += ss["spans"] as? [[String: Any]] ?? [] }
            }
        }
        let roots = spans.filter { $0["name"] as? String == "ttfa.trial" }
        #expect(roots.count == stored.filter { $0.status == .ok }.count)
        let root = try #require(roots.first)
        let rootAttributes = attributes(root["attributes"])
        let trial = try #require(
            stored.first {
                "\($0.runID)" == rootAttributes["ttfa.run_id"] && "\($0.seq)" == rootAttributes["ttfa.trial"]
            }, "\(rootAttributes)")
        let rootLength = nanoseconds(root["endTimeUnixNano"]) - nanoseconds(root["startTimeUnixNano"])
        #expect(Int64(rootLength) == trial.ttfaNs)
        let children = spans.filter { ($0["parentSpanId"] as? String) == (root["spanId"] as? String) }
        #expect(children.count >= 2, "\(children.map { $0["name"] ?? "" })")
        let names = Set(children.compactMap { $0["name"] as? String })
        #expect(names.isSubset(of: ["encode", "connection_setup", "upload", "edge", "ingest", "model", "network"]))
        #expect(names.contains("model"), "the reference server's own record of the model's time")
        let sum = children.reduce(UInt64(0)) {
            $0 + nanoseconds($1["endTimeUnixNano"]) - nanoseconds($1["startTimeUnixNano"])
        }
        #expect(sum == rootLength, "children \(sum) ns, trial \(rootLength) ns")
        #expect(children.allSatisfy { $0["traceId"] as? String == root["traceId"] as? String })
    }

    @Test("bad OTLP input: a specific message and exit 2")
    func badInput() async throws {
        let scratch = try Scratch()
        for (arguments, message) in [
            (["--otlp-endpoint", "collector:4318"], "give the collector's OTLP/HTTP address"),
            (["--otlp-endpoint", "http://user:secret@collector:4318"], "leave credentials out of the URL"),
            (["--otlp-traces"], "--otlp-traces needs --otlp-endpoint"),
        ] {
            let result = try await ttfa(["monitor", "--count", "1", "--db", scratch.database] + arguments)
            #expect(result.status == 2, "\(arguments): \(result.stderr)")
            #expect(result.stderr.contains(message), "\(arguments): \(result.stderr)")
            #expect(!result.stderr.contains("secret"))
        }
    }
}
