import Foundation
import RunSession
import Storage
import StorageSQLite
import TestSupport
import Testing

/// Real storage faults in the middle of a run: a file that may grow no further (as a full disk),
/// a PostgreSQL server restarted. Every trial stored before the fault is kept and counted in the
/// message, none is stored twice, and the run ends with exit 2 or — when the store came back
/// before it was needed — completes; never a crash or a hang.
@Suite("Storage faults")
struct StorageFaultTests {
    /// The number in "the N trials stored before it are kept", if the message has one.
    static func keptCount(_ stderr: String) -> Int? {
        guard let match = stderr.firstMatch(of: /the (\d+) trials? stored before it/) else { return nil }
        return Int(match.1)
    }

    /// `ulimit -f`: the SQLite file (its WAL) reaches the limit after a few trials. The write
    /// fails with EFBIG (ttfa ignores SIGXFSZ), the run stops with exit 2 saying how many trials
    /// it kept, and the file is healthy.
    @Test func aFileThatCannotGrowStopsTheRunKeepingItsTrials() async throws {
        let scratch = try Scratch()
        let result = try await command(
            URL(fileURLWithPath: "/bin/sh"),
            ["-c", "ulimit -f 400 && exec \"$0\" \"$@\"", ttfaExecutable.path]
                + quickRun(scratch, trials: 200, extra: ["--transport", "websocket", "--quiet"]),
            environment: ["TTFA_IO_REALTIME": "0"])
        #expect(result.status == 2, "\(result.stderr)")
        #expect(result.stderr.contains("could not store a trial in \(scratch.database)"), "\(result.stderr)")
        let stored = try await SQLiteStore(path: scratch.database, create: false).trials(runID: 1)
        #expect(stored.count > 0 && stored.count < 200)
        #expect(Self.keptCount(result.stderr) == stored.count, "\(result.stderr)")
        #expect(Set(stored.map(\.seq)).count == stored.count, "no trial stored twice")
        // Marking the run interrupted is a write too: it fits, or the run stays `running` — and
        // the message says which.
        let status = try await SQLiteStore(path: scratch.database, create: false).run(id: 1)?.status
        #expect(
            status == .interrupted
                ? result.stderr.contains("(run 1 marked interrupted)")
                : status == .running && result.stderr.contains("run 1 still marked running"),
            "\(String(describing: status)): \(result.stderr)")
        let check = try await ttfa(["db", "check", "--db", scratch.database])
        #expect(check.status == 0 && check.stdout.hasSuffix("healthy\n"), "\(check.stdout)\(check.stderr)")
    }

    /// The database becomes read-only under the run (`chattr +i` on the file and its WAL: every
    /// write fails with EPERM, even through the descriptors SQLite holds open — as on a disk
    /// remounted read-only). The run stops with exit 2, the message counts the trials kept,
    /// and once writable again the file is healthy with exactly those trials.
    @Test(
        .enabled(
            if: Self.immutableFilesWork, "chattr +i needs root and ext2/3/4 (or xfs, btrfs) under the temporary folder")
    )
    func aDatabaseTurnedReadOnlyStopsTheRunKeepingItsTrials() async throws {
        let scratch = try Scratch()
        let files = [scratch.database, scratch.database + "-wal"]
        defer { for file in files { _ = try? Self.chattr("-i", file) } }
        async let run = ttfa(
            quickRun(scratch, trials: 300, extra: ["--transport", "websocket", "--quiet"]),
            environment: ["TTFA_IO_REALTIME": "0"])
        try await waitForTrials(3, in: scratch.database)
        for file in files { try Self.chattr("+i", file) }
        let result = try await run
        for file in files { try Self.chattr("-i", file) }
        #expect(result.status == 2, "\(result.stderr)")
        #expect(result.stderr.contains("could not store a trial in \(scratch.database)"), "\(result.stderr)")
        let stored = try await SQLiteStore(path: scratch.database, create: false).trials(runID: 1)
        #expect(stored.count >= 3 && stored.count < 300)
        #expect(Self.keptCount(result.stderr) == stored.count, "\(result.stderr)")
        #expect(Set(stored.map(\.seq)).count == stored.count, "no trial stored twice")
        #expect(result.stderr.contains("run 1 still marked running"), "\(result.stderr)")
        let check = try await ttfa(["db", "check", "--db", scratch.database])
        #expect(check.status == 0 && check.stdout.hasSuffix("healthy\n"), "\(check.stdout)\(check.stderr)")
    }

    /// `ttfa run` arguments: quick WebSocket trials stored in `server`.
    static func run(trials: Int, storingIn server: DedicatedPostgres) throws -> [String] {
        let scratch = try Scratch()
        return quickRun(scratch, trials: trials, extra: ["--transport", "websocket", "--quiet"]).map {
            $0 == scratch.database ? server.url : $0
        }
    }

    static func chattr(_ flag: String, _ path: String) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/chattr")
        process.arguments = [flag, path]
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw CocoaError(
                .fileWriteNoPermission, userInfo: [NSLocalizedDescriptionKey: "chattr \(flag) \(path) failed"])
        }
    }

    /// Whether `chattr +i` works here (root, a file system with the attribute).
    static let immutableFilesWork: Bool = {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("ttfa-chattr-\(getpid())").path
        guard FileManager.default.createFile(atPath: path, contents: Data("x".utf8)) else { return false }
        defer { try? FileManager.default.removeItem(atPath: path) }
        guard (try? chattr("+i", path)) != nil else { return false }
        _ = try? chattr("-i", path)
        return true
    }()

    /// A PostgreSQL server of the test's own, restarted (`pg_ctl restart -m fast`) after the
    /// third stored trial.
    @Test(.enabled(if: DedicatedPostgres.available, "no PostgreSQL server binaries (make test installs them)"))
    func aPostgresRestartMidRunLosesNothingAndStoresNothingTwice() async throws {
        let server = try DedicatedPostgres()
        defer { server.remove() }
        async let run = ttfa(try Self.run(trials: 60, storingIn: server))
        try await waitForTrials(3, in: server.url)
        try server.restart()
        let result = try await run
        let stored = try await ResultsStores.withStore(server.url, create: false) { store in
            try await store.trials(runID: 1)
        }
        #expect(Set(stored.map(\.seq)).count == stored.count, "no trial stored twice")
        if result.status == 0 {
            #expect(stored.count == 60, "the store was back before a trial needed it: every trial is stored")
        } else {
            #expect(result.status == 2 && result.stderr.contains("could not store a trial"), "\(result.stderr)")
            #expect(stored.count >= 3 && stored.count < 60)
            if let kept = Self.keptCount(result.stderr) { #expect(kept == stored.count, "\(result.stderr)") }
        }
        let check = try await ttfa(["db", "check", "--db", server.url])
        #expect(check.status == 0, "\(check.stdout)\(check.stderr)")
    }

    /// The server stopped for good (`pg_ctl stop -m immediate`) after the third stored trial:
    /// the run stops with exit 2 within the store's answer timeout — not held by the pool
    /// retrying a server that is gone — and what it stored before is there when the server is
    /// back, once each.
    @Test(.enabled(if: DedicatedPostgres.available, "no PostgreSQL server binaries (make test installs them)"))
    func aPostgresServerGoneForGoodStopsTheRunKeepingItsTrials() async throws {
        let server = try DedicatedPostgres()
        defer { server.remove() }
        async let run = ttfa(try Self.run(trials: 200, storingIn: server))
        try await waitForTrials(3, in: server.url)
        try server.stop()
        let stopped = ContinuousClock.now
        let result = try await run
        let waited = ContinuousClock.now - stopped
        #expect(result.status == 2, "\(result.stderr)")
        #expect(
            result.stderr.contains("PostgreSQL did not answer") || result.stderr.contains("could not store"),
            "\(result.stderr)")
        // A hang, not a speed: 15 s for the unanswered write, 2 s for each call after it, 5 s to
        // let the pool go; a minute is far beyond that.
        #expect(waited < .seconds(60), "the run took \(waited) to stop after the server went away")
        try server.start()
        let stored = try await ResultsStores.withStore(server.url, create: false) { store in
            try await store.trials(runID: 1)
        }
        #expect(stored.count >= 3 && stored.count < 200)
        #expect(Set(stored.map(\.seq)).count == stored.count, "no trial stored twice")
        let check = try await ttfa(["db", "check", "--db", server.url])
        #expect(check.status == 0, "\(check.stdout)\(check.stderr)")
    }
}

/// A PostgreSQL cluster of one test's own (initdb in a temporary folder, a free port), which
/// the test may stop and restart; as root the server runs as `postgres` (initdb refuses root).
struct DedicatedPostgres {
    static let bin: String? = {
        let root = "/usr/lib/postgresql"
        let versions = (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []
        guard let newest = versions.sorted(by: { $0.compare($1, options: .numeric) == .orderedAscending }).last else {
            return nil
        }
        let bin = "\(root)/\(newest)/bin"
        return FileManager.default.isExecutableFile(atPath: "\(bin)/pg_ctl") ? bin : nil
    }()
    static var available: Bool { bin != nil }

    let folder: String
    let url: String
    let port: Int

    init() throws {
        let bin = try #require(Self.bin)
        folder =
            FileManager.default.temporaryDirectory.appendingPathComponent("ttfa-pg-\(UUID().uuidString.prefix(8))")
            .path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        port = try freePort()
        if getuid() == 0 { try Self.shell("chown postgres '\(folder)'") }
        try Self.shell(
            "\(Self.runAs)'\(bin)/initdb' -D '\(folder)/data' -U ttfa -A trust > '\(folder)/initdb.log' 2>&1")
        url = "postgresql://ttfa@127.0.0.1:\(port)/postgres?sslmode=disable"
        try start()
    }

    /// Stops the server (fast: open connections are cut) and starts it again on the same port.
    func restart() throws {
        try Self.shell("\(Self.runAs)'\(Self.bin!)/pg_ctl' -D '\(folder)/data' -m fast -w restart > /dev/null")
    }

    /// Stops the server at once (immediate: connections are cut, nothing waits for clients).
    func stop() throws {
        try Self.shell("\(Self.runAs)'\(Self.bin!)/pg_ctl' -D '\(folder)/data' -m immediate -w stop > /dev/null")
    }

    /// Starts the server on its port.
    func start() throws {
        try Self.shell(
            "\(Self.runAs)'\(Self.bin!)/pg_ctl' -D '\(folder)/data' -l '\(folder)/server.log' -w -o '-p \(port) -k \(folder) -c listen_addresses=127.0.0.1' start > /dev/null"
        )
    }

    func remove() {
        try? Self.shell("\(Self.runAs)'\(Self.bin!)/pg_ctl' -D '\(folder)/data' -m fast stop > /dev/null 2>&1; true")
        try? FileManager.default.removeItem(atPath: folder)
    }

    private static var runAs: String { getuid() == 0 ? "runuser -u postgres -- " : "" }

    /// Runs `script` with bash, its descriptors beyond the standard three closed first: a
    /// server it starts must not hold the descriptor Foundation watches to see the script end.
    static func shell(_ script: String) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        let closeInherited =
            "for fd in $(ls /proc/$$/fd); do if [ \"$fd\" -gt 2 ]; then eval \"exec $fd>&-\"; fi; done 2>/dev/null; "
        process.arguments = ["-c", closeInherited + script]
        try process.run()
        process.waitUntilExit()
        try #require(process.terminationStatus == 0, "failed: \(script)")
    }
}
