import Foundation
import RunSession
import Storage
import StoragePostgres
import TestSupport
import Testing

/// The PostgreSQL server `scripts/with-postgres.sh` started for this test run (`make test`
/// does), or nil — the tests below are then skipped, saying why.
let testPostgresURL: String? = ProcessInfo.processInfo.environment["TTFA_TEST_DATABASE_URL"].flatMap {
    $0.isEmpty ? nil : $0
}

/// A new, empty database on the test server, as a URL (each test gets its own).
func freshPostgresDatabase() throws -> String {
    let base = try #require(testPostgresURL)
    let name = "ttfa_\(UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(16).lowercased())"
    try psql(base, "CREATE DATABASE \(name)")
    var components = try #require(URLComponents(string: base))
    components.path = "/\(name)"
    return try #require(components.string)
}

/// Runs SQL with psql against `url`.
func psql(_ url: String, _ sql: String) throws {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["psql", url, "-q", "-v", "ON_ERROR_STOP=1", "-c", sql]
    process.standardOutput = FileHandle.nullDevice
    try process.run()
    process.waitUntilExit()
    try #require(process.terminationStatus == 0, "psql could not run \(sql.prefix(80)) on \(url)")
}

@Suite(
    "PostgreSQL results store", .serialized,
    .enabled(
        if: testPostgresURL != nil,
        "no PostgreSQL server for the tests: run them with `make test` (scripts/with-postgres.sh starts one), or set TTFA_TEST_DATABASE_URL"
    ))
struct PostgresStoreTests {
    @Test func everyCommandWorksOnAPostgresStoreAsOnSQLite() async throws {
        let scratch = try Scratch()
        let url = try freshPostgresDatabase()
        let run = try await ttfa(
            quickRun(scratch, trials: 3, extra: ["--quiet", "--json"]).map { $0 == scratch.database ? url : $0 })
        #expect(run.status == 0, "\(run.stderr)")
        // TTFA_DATABASE_URL stands in for --db.
        let environment = ["TTFA_DATABASE_URL": url]
        let runs = try await ttfa(["runs"], environment: environment)
        #expect(runs.status == 0 && runs.stdout.contains("websocket 3/3"), "\(runs.stdout)\(runs.stderr)")
        let report = try await ttfa(["report", "--format", "json"], environment: environment)
        let summary = try #require(try JSONSerialization.jsonObject(with: Data(report.stdout.utf8)) as? [String: Any])
        #expect((summary["transports"] as? [[String: Any]])?.count == 4)
        let csv = try await ttfa(["export", "--db", url])
        #expect(csv.stdout.split(separator: "\r\n").count == 1 + 12)
        let baseline = scratch.directory.appendingPathComponent("baseline.json").path
        #expect(try await ttfa(["baseline", "save", "--db", url, "--out", baseline]).status == 0)
        #expect(try await ttfa(["compare", "--db", url, "--baseline", baseline, "--candidate", "1"]).status == 0)
        // The same schema: every column SQLite has, PostgreSQL has, and the stored rows read back whole.
        try await ResultsStores.withStore(url, create: false) { store in
            let trials = try await store.trials(runID: 1)
            #expect(
                trials.count == 12 && trials.allSatisfy { $0.status == .ok && $0.ttfaNs != nil && $0.responseID != nil }
            )
            #expect(try await store.events(trialID: trials[0].id!).count > 3)
            #expect(try await store.databaseVersion().hasPrefix("PostgreSQL "))
            #expect(try await store.run(id: 1)?.databaseVersion.hasPrefix("PostgreSQL ") == true)
        }
    }

    @Test func theTablesHaveExactlyTheRecordsColumns() async throws {
        let url = try freshPostgresDatabase()
        let store = try await PostgresStore(url: url)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await store.run() }
            let samples: [(String, [String])] = [
                (RunRecord.tableName, try RecordColumns.encode(sampleRun()).map(\.name)),
                (
                    TrialRecord.tableName,
                    try RecordColumns.encode(sampleTrial(runID: 1, seq: 1, transport: "sse", ttfaMs: 1)).map(\.name)
                ),
                (
                    TrialEventRecord.tableName,
                    try RecordColumns.encode(
                        TrialEventRecord(trialID: 1, seq: 0, tNs: 0, kind: "a", value: nil, detail: nil)
                    ).map(\.name)
                ),
                (
                    SeriesRecord.tableName,
                    try RecordColumns.encode(SeriesRecord(runID: 1, transport: "sse", second: 0)).map(\.name)
                ),
            ]
            for (table, columns) in samples {
                #expect(Set(try await store.columns(of: table)) == Set(columns), "\(table)")
            }
            group.cancelAll()
        }
    }

    /// A database written by ttfa 0.2.0 (schema v5, the engine's version in `sqlite_version`)
    /// migrates to v6 and reads back the same run.
    @Test func anOldDatabaseMigratesAndReadsTheSame() async throws {
        let url = try freshPostgresDatabase()
        var old = [String]()
        old.append("CREATE TABLE grdb_migrations (identifier TEXT NOT NULL PRIMARY KEY)")
        for migration in StoreSchema.migrations.prefix(5) {
            old += migration.statements(PostgresDialect())
            old.append("INSERT INTO grdb_migrations (identifier) VALUES ('\(migration.id)')")
        }
        old.append(
            """
            INSERT INTO runs (status, started_at, label, hostname, os, cpu_model, cpu_count, swift_version, curl_version, openssl_version,
                              sqlite_version, ttfa_version, command_line, config_json, seed)
            VALUES ('complete', '2026-01-01T00:00:00Z', 'old', 'h', 'os', 'cpu', 2, '6.3', 'curl', 'ssl', 'PostgreSQL 15.1', '0.2.0', 'ttfa', '{}', 7)
            """)
        try psql(url, old.joined(separator: ";\n"))
        try await ResultsStores.withStore(url, create: false) { store in
            let run = try #require(try await store.run(id: 1))
            #expect(
                run.databaseVersion == "PostgreSQL 15.1" && run.status == .complete && run.label == "old"
                    && run.seed == 7)
        }
    }

    @Test func threeRunsAtOnceAllCompleteAndAKilledRunKeepsItsTrials() async throws {
        let scratch = try Scratch()
        let url = try freshPostgresDatabase()
        let arguments = quickRun(scratch, trials: 3, extra: ["--quiet"]).map { $0 == scratch.database ? url : $0 }
        async let a = ttfa(arguments)
        async let b = ttfa(arguments)
        async let c = ttfa(arguments)
        let results = try await [a, b, c]
        #expect(results.map(\.status) == [0, 0, 0], "\(results.map(\.stderr))")
        try await ResultsStores.withStore(url, create: false) { store in
            let runs = try await store.runs()
            #expect(runs.count == 3 && runs.allSatisfy { $0.status == .complete })
            for run in runs { #expect(try await store.trials(runID: run.id!).count == 12) }
        }

        // SIGKILL, into a database of its own (so the wait sees this run's trials only).
        let other = try freshPostgresDatabase()
        let (process, _) = try launch(quickRun(scratch, trials: 50).map { $0 == scratch.database ? other : $0 })
        try await waitForTrials(3, in: other)
        kill(process.processIdentifier, SIGKILL)
        _ = try await onDedicatedThread { process.waitUntilExit() }
        try await ResultsStores.withStore(other, create: false) { store in
            let killed = try #require(try await store.latestRun())
            #expect(killed.status == .running, "a killed run cannot mark itself")
            #expect(try await store.trials(runID: killed.id!).count >= 3)
        }
        // `ttfa db check`: the killed run is a note, not a problem; a trial stored twice is one.
        let check = try await ttfa(["db", "check", "--db", other])
        #expect(
            check.status == 0 && check.stdout.contains("1 run(s) still marked running")
                && check.stdout.contains("PostgreSQL") && check.stdout.hasSuffix("healthy\n"),
            "\(check.stdout)\(check.stderr)")
        let columns =
            "run_id, seq, transport, endpoint, connection, recording, recording_ns, trial, warmup, status, started_at, speech_end_ns, audio_bytes, audio_events, underruns, underrun_ns, chunks_sent"
        try psql(other, "INSERT INTO trials (\(columns)) SELECT \(columns) FROM trials ORDER BY id LIMIT 1")
        let twice = try await ttfa(["db", "check", "--db", other])
        #expect(
            twice.status == 1 && twice.stdout.contains("1 trial number(s) are stored more than once")
                && twice.stdout.contains("NOT healthy"), "\(twice.stdout)\(twice.stderr)")
    }

    @Test func runsCopyBetweenSQLiteAndPostgresUnchanged() async throws {
        let scratch = try Scratch()
        let url = try freshPostgresDatabase()
        #expect(try await ttfa(quickRun(scratch, trials: 2, extra: ["--quiet"])).status == 0)
        let toPostgres = try await ttfa(["db", "copy", "--from", scratch.database, "--to", url])
        #expect(toPostgres.status == 0 && toPostgres.stdout == "1 -> 1\n", "\(toPostgres.stdout)\(toPostgres.stderr)")
        let back = scratch.directory.appendingPathComponent("back.sqlite").path
        #expect(try await ttfa(["db", "copy", "--from", url, "--to", back, "--run", "1"]).status == 0)
        try await ResultsStores.withStores(scratch.database, create: false, back, create: false) { original, copy in
            #expect(try await original.run(id: 1) == copy.run(id: 1))
            let a = try await original.trials(runID: 1)
            let b = try await copy.trials(runID: 1)
            #expect(
                a.count == b.count
                    && zip(a, b).allSatisfy { x, y in
                        var y = y
                        y.id = x.id
                        return x == y
                    })
        }
        let missing = try await ttfa(["db", "copy", "--from", url, "--to", back, "--run", "99"])
        #expect(missing.status == 2 && missing.stderr.contains("run 99 is not in"))
    }

    @Test func thePasswordNeverShows() async throws {
        let scratch = try Scratch()
        let url = try freshPostgresDatabase()
        var components = try #require(URLComponents(string: url))
        components.password = "pw-sentinel-\(UUID().uuidString.prefix(8))"  // trust authentication ignores it
        let withPassword = try #require(components.string)
        let run = try await ttfa(
            quickRun(scratch, trials: 1, extra: []).map { $0 == scratch.database ? withPassword : $0 })
        #expect(run.status == 0, "\(run.stderr)")
        let stored = try #require(try await ResultsStores.withStore(url, create: false) { try await $0.latestRun() })
        #expect(!stored.commandLine.contains(components.password!) && stored.commandLine.contains("***"))
        #expect(!(run.stdout + run.stderr).contains(components.password!))
        let unreachable = try await ttfa(["runs", "--db", "postgresql://ttfa:\(components.password!)@127.0.0.1:9/none"])
        #expect(
            unreachable.status == 2 && unreachable.stderr.contains("cannot connect to PostgreSQL"),
            "\(unreachable.stderr)")
        #expect(!unreachable.stderr.contains(components.password!))
    }
}
