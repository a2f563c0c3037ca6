import Foundation
import GRDB
import VoiceTransport

/// The results database (SQLite through GRDB): runs, trials and their event timelines.
///
/// Every connection sets its pragmas explicitly (WAL, `synchronous=NORMAL`, a 15 s busy
/// timeout, foreign keys). Each trial is written in its own transaction, so a killed run keeps
/// every completed trial, and several `ttfa run` processes can write one file at once.
/// Thread-safe.
public final class ResultsStore: Sendable {
    public static let defaultPath = "results/ttfa.sqlite"

    public let path: String
    private let pool: DatabasePool

    /// Opens (creating and migrating if needed) the database at `path`.
    /// - Throws: `TransportError(.input)` naming the path when it cannot be opened or was
    ///   written by a newer ttfa.
    public init(path: String, create: Bool = true) throws(TransportError) {
        self.path = path
        let url = URL(fileURLWithPath: path)
        if !create && !FileManager.default.fileExists(atPath: path) {
            throw TransportError(.input, "\(path): no results database here; run `ttfa run` first or pass --db PATH")
        }
        do {
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        } catch {
            throw TransportError(.input, "\(path): cannot create its folder (\(error.localizedDescription)); pass --db with a writable path")
        }
        var configuration = Configuration()
        configuration.busyMode = .timeout(15)
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA foreign_keys = ON")
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
        }
        do {
            pool = try Self.openPool(path: path, configuration: configuration)
        } catch {
            throw TransportError(.input, "\(path): cannot open the results database (\(Self.describe(error))); check that it is a writable SQLite file, or pass --db PATH")
        }
        let migrator = Self.migrator
        do {
            let superseded = try pool.read { db in try migrator.hasBeenSuperseded(db) }
            if superseded {
                let known = Set(migrator.migrations)
                let applied = try pool.read { db in try migrator.appliedIdentifiers(db) }
                throw TransportError(.input, "\(path) was written by a newer ttfa (schema \(applied.subtracting(known).sorted().joined(separator: ", ")) is unknown to ttfa \(TTFAInfo.version)); upgrade ttfa or pass --db with another file")
            }
            try Self.migrate(pool, with: migrator)
        } catch let error as TransportError {
            throw error
        } catch {
            throw TransportError(.input, "\(path): cannot prepare the results database (\(Self.describe(error))); pass --db with another file")
        }
    }

    /// Opens the pool. Switching a brand-new file to WAL takes an exclusive lock for which
    /// SQLite does not wait, so a process that opens the file while another one is creating it
    /// gets SQLITE_BUSY at once: retry a few times before giving up.
    static func openPool(path: String, configuration: Configuration) throws -> DatabasePool {
        var attempt = 0
        while true {
            do {
                return try DatabasePool(path: path, configuration: configuration)
            } catch let error as DatabaseError where error.resultCode == .SQLITE_BUSY || error.resultCode == .SQLITE_LOCKED {
                attempt += 1
                if attempt >= 20 { throw error }
                Thread.sleep(forTimeInterval: 0.02 * Double(attempt))
            }
        }
    }

    /// Migrates, tolerating another process that migrates the same new file at the same time:
    /// GRDB reads which migrations are applied before it takes the write lock, so the loser of
    /// that race fails with "table already exists" although the schema is now complete.
    static func migrate(_ pool: DatabasePool, with migrator: DatabaseMigrator) throws {
        var attempt = 0
        while true {
            do {
                try migrator.migrate(pool)
                return
            } catch {
                if try pool.read({ db in try migrator.hasCompletedMigrations(db) }) { return }
                attempt += 1
                if attempt >= 5 { throw error }
                Thread.sleep(forTimeInterval: 0.05 * Double(attempt))
            }
        }
    }

    static func describe(_ error: any Error) -> String {
        if let error = error as? DatabaseError {
            return error.message ?? "\(error.resultCode)"
        }
        return "\(error)"
    }

    // MARK: schema

    /// Ordered, never-edited migrations. Add new ones at the end; never change an old one.
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1-runs-trials-events") { db in
            try db.execute(sql: """
                CREATE TABLE runs (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    status TEXT NOT NULL CHECK (status IN ('running', 'complete', 'interrupted')),
                    started_at TEXT NOT NULL,
                    ended_at TEXT,
                    label TEXT,
                    hostname TEXT NOT NULL,
                    os TEXT NOT NULL,
                    cpu_model TEXT NOT NULL,
                    cpu_count INTEGER NOT NULL,
                    swift_version TEXT NOT NULL,
                    curl_version TEXT NOT NULL,
                    openssl_version TEXT NOT NULL,
                    sqlite_version TEXT NOT NULL,
                    ttfa_version TEXT NOT NULL,
                    git_commit TEXT,
                    command_line TEXT NOT NULL,
                    config_json TEXT NOT NULL,
                    seed INTEGER NOT NULL
                );
                CREATE TABLE trials (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
                    seq INTEGER NOT NULL,
                    transport TEXT NOT NULL,
                    endpoint TEXT NOT NULL,
                    connection TEXT NOT NULL,
                    recording TEXT NOT NULL,
                    recording_ns INTEGER NOT NULL,
                    trial INTEGER NOT NULL,
                    warmup INTEGER NOT NULL,
                    status TEXT NOT NULL,
                    error_kind TEXT,
                    error_message TEXT,
                    started_at TEXT NOT NULL,
                    speech_end_ns INTEGER NOT NULL,
                    ttfa_ns INTEGER,
                    dns_ns INTEGER,
                    connect_ns INTEGER,
                    tls_ns INTEGER,
                    upgrade_ns INTEGER,
                    connection_reused INTEGER,
                    response_headers_ns INTEGER,
                    upload_done_ns INTEGER,
                    first_byte_ns INTEGER,
                    first_event_ns INTEGER,
                    first_audio_ns INTEGER,
                    last_audio_ns INTEGER,
                    done_ns INTEGER,
                    audio_bytes INTEGER NOT NULL,
                    audio_events INTEGER NOT NULL,
                    max_audio_gap_ns INTEGER,
                    underruns INTEGER NOT NULL,
                    underrun_ns INTEGER NOT NULL,
                    max_send_lag_ns INTEGER,
                    chunks_sent INTEGER NOT NULL,
                    curl_namelookup_ns INTEGER,
                    curl_connect_ns INTEGER,
                    curl_appconnect_ns INTEGER,
                    curl_pretransfer_ns INTEGER,
                    curl_starttransfer_ns INTEGER,
                    curl_total_ns INTEGER,
                    http_version TEXT
                );
                CREATE INDEX trials_by_run ON trials(run_id, seq);
                CREATE TABLE trial_events (
                    trial_id INTEGER NOT NULL REFERENCES trials(id) ON DELETE CASCADE,
                    seq INTEGER NOT NULL,
                    t_ns INTEGER NOT NULL,
                    kind TEXT NOT NULL,
                    value INTEGER,
                    detail TEXT,
                    PRIMARY KEY (trial_id, seq)
                ) WITHOUT ROWID;
                """)
        }
        migrator.registerMigration("v2-trial-attribution") { db in
            try db.execute(sql: """
                ALTER TABLE trials ADD COLUMN encode_ns INTEGER;
                ALTER TABLE trials ADD COLUMN upload_blocked_ns INTEGER;
                ALTER TABLE trials ADD COLUMN speech_end_lag_ns INTEGER;
                ALTER TABLE trials ADD COLUMN response_id TEXT;
                ALTER TABLE trials ADD COLUMN anomalies INTEGER NOT NULL DEFAULT 0;
                """)
        }
        migrator.registerMigration("v3-audio-bursts") { db in
            try db.execute(sql: "ALTER TABLE trials ADD COLUMN audio_bursts INTEGER")
        }
        migrator.registerMigration("v4-server-phases") { db in
            try db.execute(sql: """
                ALTER TABLE trials ADD COLUMN server_request_ns INTEGER;
                ALTER TABLE trials ADD COLUMN server_first_audio_ns INTEGER;
                ALTER TABLE trials ADD COLUMN server_edge_ns INTEGER;
                ALTER TABLE trials ADD COLUMN server_ingest_ns INTEGER;
                ALTER TABLE trials ADD COLUMN server_model_ns INTEGER;
                """)
        }
        return migrator
    }

    // MARK: writing

    /// Inserts a run (status `running`) and returns it with its id.
    public func createRun(_ run: RunRecord) throws -> RunRecord {
        try pool.write { db in
            var run = run
            try run.insert(db)
            return run
        }
    }

    /// Stores one trial and its timeline in one transaction.
    @discardableResult
    public func insertTrial(_ trial: TrialRecord, events: [TrialEventRecord]) throws -> Int64 {
        try pool.write { db in
            var trial = trial
            try trial.insert(db)
            let id = trial.id!
            for var event in events {
                event.trialID = id
                try event.insert(db)
            }
            return id
        }
    }

    /// Marks a run `complete` or `interrupted`.
    public func finishRun(id: Int64, status: String, endedAt: String) throws {
        try pool.write { db in
            try db.execute(sql: "UPDATE runs SET status = ?, ended_at = ? WHERE id = ?", arguments: [status, endedAt, id])
        }
    }

    // MARK: reading

    public func runs() throws -> [RunRecord] {
        try pool.read { db in try RunRecord.order(Column("id")).fetchAll(db) }
    }

    public func run(id: Int64) throws -> RunRecord? {
        try pool.read { db in try RunRecord.fetchOne(db, key: id) }
    }

    public func latestRun() throws -> RunRecord? {
        try pool.read { db in try RunRecord.order(Column("id").desc).fetchOne(db) }
    }

    public func trials(runID: Int64) throws -> [TrialRecord] {
        try pool.read { db in
            try TrialRecord.filter(Column("run_id") == runID).order(Column("seq")).fetchAll(db)
        }
    }

    public func events(trialID: Int64) throws -> [TrialEventRecord] {
        try pool.read { db in
            try TrialEventRecord.filter(Column("trial_id") == trialID).order(Column("seq")).fetchAll(db)
        }
    }

    /// `PRAGMA integrity_check`'s answer ("ok" when healthy).
    public func integrityCheck() throws -> String {
        try pool.read { db in try String.fetchOne(db, sql: "PRAGMA integrity_check") ?? "no answer" }
    }

    /// The SQLite library version in use.
    public func sqliteVersion() throws -> String {
        try pool.read { db in try String.fetchOne(db, sql: "SELECT sqlite_version()") ?? "unknown" }
    }
}
