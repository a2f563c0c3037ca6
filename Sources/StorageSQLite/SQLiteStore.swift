import Foundation
import GRDB
import Storage
import TTFASupport
import VoiceTransport

/// The results database in SQLite (through GRDB), the embedded default: runs, trials and
/// their event timelines.
///
/// Every connection sets its pragmas explicitly (WAL, `synchronous=NORMAL`, a 15 s busy
/// timeout, foreign keys). Each trial is written in its own transaction, so a killed run keeps
/// every completed trial, and several `ttfa run` processes can write one file at once.
/// Thread-safe.
public final class SQLiteStore: ResultsStore {

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

    /// The shared migrations (`StoreSchema`), registered under their names.
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        for migration in StoreSchema.migrations {
            migrator.registerMigration(migration.id) { db in try db.execute(sql: migration.sql) }
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
            // One prepared statement for the timeline (record encoding per event cost a tenth
            // of ttfa's time at 1,000 sessions).
            let statement = try db.cachedStatement(sql: "INSERT INTO trial_events (trial_id, seq, t_ns, kind, value, detail) VALUES (?, ?, ?, ?, ?, ?)")
            for event in events {
                try statement.execute(arguments: [id, event.seq, event.tNs, event.kind, event.value, event.detail])
            }
            return id
        }
    }

    /// Marks a run `complete` or `interrupted`.
    public func insertSeries(_ rows: [SeriesRecord]) throws {
        guard !rows.isEmpty else { return }
        try pool.write { db in
            for row in rows { try row.insert(db, onConflict: .replace) }
        }
    }

    public func series(runID: Int64) throws -> [SeriesRecord] {
        try pool.read { db in
            try SeriesRecord.filter(Column("run_id") == runID).order(Column("transport"), Column("second")).fetchAll(db)
        }
    }

    public func runs(group: String) throws -> [RunRecord] {
        try pool.read { db in
            try RunRecord.filter(Column("group_name") == group).order(Column("id")).fetchAll(db)
        }
    }

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
    public func databaseVersion() throws -> String {
        try pool.read { db in try String.fetchOne(db, sql: "SELECT sqlite_version()") ?? "unknown" }
    }
}
