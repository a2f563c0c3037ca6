import Foundation
import StorageSQLite
import TestSupport
import Testing

@Suite("Load: the open model, its stored time series, and load groups", .serialized)
struct LoadIntegrationTests {
    @Test func anOpenModelRunOffersItsScheduleAndStoresItSecondBySecond() async throws {
        let scratch = try Scratch()
        let result = try await ttfa(
            [
                "run", "--transport", "websocket,sse", "--rate", "10/s", "--duration", "3s", "--audio", scratch.audio,
                "--db", scratch.database, "--profile", "instant", "--link", "loopback", "--lag-budget-ms", "1000",
                "--json",
            ],
            environment: ["TTFA_IO_REALTIME": ""])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(
            result.stderr.contains("60 sessions of one trial (open model: 10/s for 3 s per transport"),
            "\(result.stderr)")
        let store = try SQLiteStore(path: scratch.database, create: false)
        let trials = try await store.trials(runID: 1)
        #expect(trials.count == 60)
        // Every session is a trial of its own, none a warm-up, each with how late it started.
        #expect(trials.allSatisfy { !$0.warmup && $0.startLateNs != nil })
        #expect(Set(trials.filter { $0.transport == "websocket" }.map(\.trial)) == Set(1...30))
        // A load run asks for real-time I/O loops, and says so with the run.
        let run = try #require(try await store.run(id: 1))
        #expect(run.configJSON.contains(#""realtime_requested":true"#), "\(run.configJSON)")
        let series = try await store.series(runID: 1)
        for transport in ["websocket", "sse"] {
            let rows = series.filter { $0.transport == transport }
            #expect(rows.reduce(0) { $0 + $1.offered } == 30)
            #expect(rows.reduce(0) { $0 + $1.started } == 30)
            #expect(rows.reduce(0) { $0 + $1.completed } == 30)
            #expect(rows.filter { $0.second < 3 }.allSatisfy { $0.offered == 10 })
            #expect(rows.contains { $0.ttfaP50Ns != nil })
        }
        // The JSON report carries the series.
        let report = try await ttfa(["report", "--db", scratch.database, "--format", "json"])
        let json = try #require(try JSONSerialization.jsonObject(with: Data(report.stdout.utf8)) as? [String: Any])
        let stored = try #require(json["series"] as? [String: Any])
        #expect((stored["columns"] as? [String])?.first == "second")
        #expect((stored["websocket"] as? [[Any]])?.isEmpty == false)
    }

    /// One session needs real-time loops as much as a thousand (a thread its own connect wakes
    /// would otherwise take the loop's core between the connect and the request); `normal` opts out.
    @Test(arguments: [(nil, true), ("normal", false)] as [(String?, Bool)])
    func everyRunAsksForRealtimeLoopsUnlessToldNot(priority: String?, requested: Bool) async throws {
        let scratch = try Scratch()
        let result = try await ttfa(
            [
                "run", "--transport", "sse", "--trials", "1", "--warmup", "0", "--audio", scratch.audio,
                "--db", scratch.database, "--profile", "instant", "--link", "loopback", "--json", "--quiet",
                // What is checked is the configuration: a busy machine's late send is not a failure here.
                "--lag-budget-ms", "1000",
            ]
                + (priority.map { ["--io-priority", $0] } ?? []),
            environment: ["TTFA_IO_REALTIME": ""])
        #expect(result.status == 0, "\(result.stderr)")
        let run = try #require(try await SQLiteStore(path: scratch.database, create: false).run(id: 1))
        #expect(run.configJSON.contains(#""realtime_requested":\#(requested)"#), "\(run.configJSON)")
        let loops = ProcessInfo.processInfo.activeProcessorCount - (requested ? 1 : 0)
        #expect(run.configJSON.contains(#""loops":\#(max(1, loops))"#), "\(run.configJSON)")
    }

    /// The closed model's sessions start 1 ms apart unless --ramp-up spreads them: then session
    /// k of n starts k × ramp / n after the first (the schedule itself: LoadModelTests), and the
    /// run says so with its configuration.
    @Test func rampUpSpreadsTheStartOfTheClosedModelsSessions() async throws {
        func starts(_ extra: [String]) async throws -> (lastStartMs: Double, config: String) {
            let scratch = try Scratch()
            let result = try await ttfa(
                quickRun(scratch, trials: 4, extra: ["--transport", "websocket", "--concurrency", "4"] + extra))
            #expect(result.status == 0, "\(result.stderr)")
            let store = try SQLiteStore(path: scratch.database, create: false)
            let format = ISO8601DateFormatter()
            format.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
            let run = try #require(try await store.run(id: 1))
            let runStart = try #require(format.date(from: run.startedAt)).timeIntervalSince1970
            let times = try await store.trials(runID: 1).compactMap {
                format.date(from: $0.startedAt)?.timeIntervalSince1970
            }
            #expect(times.count == 4)
            return ((times.max()! - runStart) * 1000, run.configJSON)
        }
        // Sessions at 0, 60, 120 and 180 ms, each with one trial of a 300 ms recording (so no
        // session is free to take another's trial before the last one starts): the last cannot
        // start sooner than 180 ms after the run did.
        let spread = try await starts(["--ramp-up", "240ms"])
        #expect(spread.lastStartMs >= 180, "\(spread.lastStartMs) ms")
        #expect(spread.config.contains(#""ramp_up_ms":240"#), "\(spread.config)")
        let apart = try await starts([])
        #expect(apart.config.contains(#""ramp_up_ms":4"#), "\(apart.config)")
        // The open model has a schedule of its own.
        let scratch = try Scratch()
        let refused = try await ttfa(
            quickRun(scratch, extra: ["--rate", "5/s", "--duration", "1s", "--ramp-up", "1s"]))
        #expect(
            refused.status == 2
                && refused.stderr.contains("with --rate/--stages the arrival schedule says when sessions start"),
            "\(refused.stderr)")
        let bad = try await ttfa(quickRun(scratch, extra: ["--concurrency", "2", "--ramp-up", "soon"]))
        #expect(bad.status == 2 && bad.stderr.contains("--ramp-up soon is not a duration"), "\(bad.stderr)")
    }

    @Test func tooManySessionsForTheFileLimitStopBeforeAnythingIsStored() async throws {
        let scratch = try Scratch()
        // A shell lowers the limit for ttfa alone: 5000 sessions cannot fit in 256 descriptors.
        let result = try await command(
            URL(fileURLWithPath: "/bin/sh"),
            [
                "-c", "ulimit -n 256 && ulimit -Hn 256 && exec \"$0\" \"$@\"",
                ttfaExecutable.path,
            ] + quickRun(scratch, extra: ["--concurrency", "5000", "--trials", "5000"]))
        #expect(result.status == 2, "\(result.stderr)")
        #expect(result.stderr.contains("--concurrency 5000 needs about"), "\(result.stderr)")
        #expect(result.stderr.contains("ulimit"))
        #expect(!FileManager.default.fileExists(atPath: scratch.database))
    }

    @Test(.enabled(if: testPostgresURL != nil, "no PostgreSQL server for the tests: run them with `make test`"))
    func twoRunnersInOneGroupMakeOneReportWithTheSumOfTheirTrials() async throws {
        let scratch = try Scratch()
        let url = try freshPostgresDatabase()
        let arguments = [
            "run", "--transport", "websocket,sse", "--rate", "5/s", "--duration", "2s", "--audio", scratch.audio,
            "--db", url,
            "--profile", "instant", "--link", "loopback", "--lag-budget-ms", "1000", "--quiet", "--group", "load-test",
        ]
        async let first = ttfa(arguments)
        async let second = ttfa(arguments)
        let (a, b) = try await (first, second)
        #expect(a.status == 0 && b.status == 0, "\(a.stderr)\(b.stderr)")
        // A run outside the group is left out.
        #expect(
            try await ttfa(quickRun(scratch, extra: ["--quiet"]).map { $0 == scratch.database ? url : $0 }).status == 0)
        let report = try await ttfa(["report", "--db", url, "--group", "load-test", "--format", "json"])
        #expect(report.status == 0, "\(report.stderr)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(report.stdout.utf8)) as? [String: Any])
        let group = try #require(json["group"] as? [String: Any])
        let runs = try #require(group["runs"] as? [[String: Any]])
        #expect(runs.count == 2)
        #expect(runs.map { $0["trials"] as? Int } == [20, 20])
        #expect(group["trials"] as? Int == 40)
        let transports = try #require(json["transports"] as? [[String: Any]])
        #expect(transports.compactMap { $0["trials"] as? Int }.reduce(0, +) == 40, "\(transports)")
        let table = try await ttfa(["report", "--db", url, "--group", "load-test"])
        #expect(table.stdout.contains("Load group load-test: 2 runs on 1 machine, 40 trials merged"), "\(table.stdout)")
        let missing = try await ttfa(["report", "--db", url, "--group", "nope"])
        #expect(missing.status == 2 && missing.stderr.contains("no run in") && missing.stderr.contains("load-test"))
    }
}
