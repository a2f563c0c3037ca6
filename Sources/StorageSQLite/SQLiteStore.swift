import Foundation
import GRDB
import Storage
import TTFASupport

/// SQLite's answers to the schema's questions.
package struct SQLiteDialect: SQLDialect {
    package init() {}
    package var name: String { "SQLite" }
    package var integer: String { "INTEGER" }
    package var autoIncrementPrimaryKey: String { "INTEGER PRIMARY KEY AUTOINCREMENT" }
    package var keyOnlyTableOptions: String { " WITHOUT ROWID" }
    package func placeholder(_ index: Int) -> String { "?" }
}

/// The results database in SQLite (through GRDB), the embedded default: runs, trials and
/// their event timelines.
///
/// Every connection sets its pragmas explicitly (WAL, `synchronous=NORMAL`, a 15 s busy
/// timeout, foreign keys). Each trial is written in its own transaction, so a killed run keeps
/// every completed trial, and several `ttfa run` processes can write one file at once. Reads and
/// writes are GRDB's async ones: a store call never holds a thread of the cooperative pool
/// (opening the file, once, does).
package final class SQLiteStore: ResultsStore {
    package let path: String
    private let pool: DatabasePool
    static let dialect = SQLiteDialect()

    /// Opens (creating and migrating if needed) the database at `path`.
    /// - Throws: `StoreError(.unavailable)` naming the path when it cannot be opened or was
    ///   written by a newer ttfa.
    /// With `migrate: false` the schema is left as it is (`ttfa db check` reads a store as found).
    package init(path: String, create: Bool = true, migrate: Bool = true) throws(StoreError) {
        self.path = path
        let url = URL(fileURLWithPath: path)
        if !create && !FileManager.default.fileExists(atPath: path) {
            throw StoreError(.unavailable, "\(path): no results database here; run `ttfa run` first or pass --db PATH")
        }
        do {
            try FileManager.default.createDirectory(
                at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        } catch {
            throw StoreError(
                .unavailable,
                "\(path): cannot create its folder (\(error.localizedDescription)); pass --db with a writable path")
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
            throw StoreError(
                .unavailable,
                "\(path): cannot open the results database (\(Self.describe(error))); check that it is a writable SQLite file, or pass --db PATH"
            )
        }
        let migrator = Self.migrator
        guard migrate else { return }
        do {
            let superseded = try pool.read { db in try migrator.hasBeenSuperseded(db) }
            if superseded {
                let known = Set(migrator.migrations)
                let applied = try pool.read { db in try migrator.appliedIdentifiers(db) }
                throw StoreError(
                    .unavailable,
                    "\(path) was written by a newer ttfa (schema \(applied.subtracting(known).sorted().joined(separator: ", ")) is unknown to ttfa \(TTFAInfo.version)); upgrade ttfa or pass --db with another file"
                )
            }
            try Self.migrate(pool, with: migrator)
        } catch let error as StoreError {
            throw error
        } catch {
            throw StoreError(
                .unavailable,
                "\(path): cannot prepare the results database (\(Self.describe(error))); pass --db with another file")
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
            } catch let error as DatabaseError
                where error.resultCode == .SQLITE_BUSY || error.resultCode == .SQLITE_LOCKED
            {
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

    /// The shared migrations (`StoreSchema`) in SQLite's dialect, registered under their names.
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        for migration in StoreSchema.migrations {
            migrator.registerMigration(migration.id) { db in
                for statement in migration.statements(dialect) { try db.execute(sql: statement) }
            }
        }
        return migrator
    }

    // MARK: records

    /// A record's columns as statement arguments.
    static func arguments(_ values: [StorageValue]) -> StatementArguments {
        StatementArguments(
            values.map { value -> DatabaseValue in
                switch value {
                case .null: .null
                case .integer(let v): v.databaseValue
                case .real(let v): v.databaseValue
                case .text(let v): v.databaseValue
                }
            })
    }

    /// A GRDB row as the columns a record decodes from.
    static func columns(_ row: Row) -> [String: StorageValue] {
        var out: [String: StorageValue] = [:]
        for (name, value) in row {
            switch value.storage {
            case .null: out[name] = .null
            case .int64(let v): out[name] = .integer(v)
            case .double(let v): out[name] = .real(v)
            case .string(let v): out[name] = .text(v)
            case .blob(let v): out[name] = .text(String(decoding: v, as: UTF8.self))
            }
        }
        return out
    }

    /// Inserts a record, returning its row id.
    static func insert(_ db: Database, into table: String, _ record: some Encodable) throws -> Int64 {
        let (sql, values) = StoreSchema.insert(into: table, try RecordColumns.encode(record), dialect: dialect)
        try db.cachedStatement(sql: sql).execute(arguments: arguments(values))
        return db.lastInsertedRowID
    }

    func fetch<Record: Decodable & Sendable>(_ type: Record.Type, _ sql: String, _ arguments: [StorageValue] = [])
        async throws -> [Record]
    {
        try await read { db in
            try Row.fetchAll(db, sql: sql, arguments: Self.arguments(arguments)).map {
                try RecordColumns.decode(Record.self, from: Self.columns($0))
            }
        }
    }

    /// A read, its failure a `StoreError` that names the store.
    func read<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        do {
            return try await pool.read(body)
        } catch {
            throw StoreError(.failed, "\(path): cannot read (\(Self.describe(error)))")
        }
    }

    /// A write in one transaction, its failure a `StoreError` that names the store.
    func write<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        do {
            return try await pool.write(body)
        } catch {
            throw StoreError(.failed, "\(path): cannot write (\(Self.describe(error)))")
        }
    }

    // MARK: ResultsStore

    package func createRun(_ run: RunRecord) async throws -> RunRecord {
        try await write { db in
            var run = run
            run.id = try Self.insert(db, into: RunRecord.tableName, run)
            return run
        }
    }

    @discardableResult
    package func insertTrial(_ trial: TrialRecord, events: [TrialEventRecord]) async throws -> Int64 {
        try await write { db in
            let id = try Self.insert(db, into: TrialRecord.tableName, trial)
            // One prepared statement for the timeline (record encoding per event cost a tenth
            // of ttfa's time at 1,000 sessions).
            let statement = try db.cachedStatement(
                sql: "INSERT INTO trial_events (trial_id, seq, t_ns, kind, value, detail) VALUES (?, ?, ?, ?, ?, ?)")
            for event in events {
                try statement.execute(arguments: [id, event.seq, event.tNs, event.kind, event.value, event.detail])
            }
            return id
        }
    }

    package func insertSeries(_ rows: [SeriesRecord]) async throws {
        guard !rows.isEmpty else { return }
        try await write { db in
            for row in rows {
                try db.execute(
                    sql: "DELETE FROM run_series WHERE run_id = ? AND transport = ? AND second = ?",
                    arguments: [row.runID, row.transport, row.second])
                _ = try Self.insert(db, into: SeriesRecord.tableName, row)
            }
        }
    }

    package func series(runID: Int64) async throws -> [SeriesRecord] {
        try await fetch(
            SeriesRecord.self, "SELECT * FROM run_series WHERE run_id = ? ORDER BY transport, second", [.integer(runID)]
        )
    }

    package func runs(group: String) async throws -> [RunRecord] {
        try await fetch(RunRecord.self, "SELECT * FROM runs WHERE group_name = ? ORDER BY id", [.text(group)])
    }

    package func finishRun(id: Int64, status: RunStatus, endedAt: String) async throws {
        try await write { db in
            try db.execute(
                sql: "UPDATE runs SET status = ?, ended_at = ? WHERE id = ?", arguments: [status.rawValue, endedAt, id])
        }
    }

    package func runs() async throws -> [RunRecord] {
        try await fetch(RunRecord.self, "SELECT * FROM runs ORDER BY id")
    }

    package func run(id: Int64) async throws -> RunRecord? {
        try await fetch(RunRecord.self, "SELECT * FROM runs WHERE id = ?", [.integer(id)]).first
    }

    package func latestRun() async throws -> RunRecord? {
        try await fetch(RunRecord.self, "SELECT * FROM runs ORDER BY id DESC LIMIT 1").first
    }

    package func trials(runID: Int64) async throws -> [TrialRecord] {
        try await fetch(TrialRecord.self, "SELECT * FROM trials WHERE run_id = ? ORDER BY seq", [.integer(runID)])
    }

    package func events(trialID: Int64) async throws -> [TrialEventRecord] {
        try await fetch(
            TrialEventRecord.self, "SELECT * FROM trial_events WHERE trial_id = ? ORDER BY seq", [.integer(trialID)])
    }

    /// `PRAGMA integrity_check`'s answer ("ok" when healthy).
    package func integrityCheck() async throws -> String {
        try await read { db in try String.fetchOne(db, sql: "PRAGMA integrity_check") ?? "no answer" }
    }

    /// SQLite's own checks (`PRAGMA integrity_check`, `PRAGMA foreign_key_check`) and ttfa's
    /// invariants (`StoreCheck`), read in one transaction.
    package func check() async throws -> StoreCheck {
        let path = path
        return try await read { db in
            var integrity = try String.fetchAll(db, sql: "PRAGMA integrity_check").filter { $0 != "ok" }
            let foreign = try Row.fetchAll(db, sql: "PRAGMA foreign_key_check")
            if !foreign.isEmpty {
                integrity.append("\(foreign.count) row(s) refer to a missing parent (PRAGMA foreign_key_check)")
            }
            let applied =
                try db.tableExists("grdb_migrations")
                ? try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations") : []
            let version = try String.fetchOne(db, sql: "SELECT sqlite_version()") ?? "unknown"
            var check = StoreCheck(
                store: path, engine: "SQLite \(version)",
                integrityMethod: "PRAGMA integrity_check and foreign_key_check", integrity: integrity, applied: applied)
            guard try db.tableExists("runs"), try db.tableExists("trials"), try db.tableExists("trial_events") else {
                return check
            }
            for (name, sql) in StoreCheck.counts { check[keyPath: name] = try Int.fetchOne(db, sql: sql) ?? 0 }
            for row in try Row.fetchAll(db, sql: StoreCheck.runsByStatusSQL) {
                check.runsByStatus[row["status"] as String? ?? "?"] = row["n"] as Int? ?? 0
            }
            return check
        }
    }

    /// The SQLite library version in use.
    package func databaseVersion() async throws -> String {
        try await read { db in try String.fetchOne(db, sql: "SELECT sqlite_version()") ?? "unknown" }
    }

    /// The columns of `table` as SQLite has them (for the schema test).
    package func columns(of table: String) async throws -> [String] {
        try await read { db in try db.columns(in: table).map(\.name) }
    }

    /// SQLite's page caches (up to 2 MB a connection) and the idle readers go; off the
    /// cooperative pool, since GRDB waits for the connections' queues.
    package func releaseMemory() async {
        let pool = self.pool
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            DispatchQueue.global().async {
                pool.releaseMemory()
                done.resume()
            }
        }
    }

    package func close() async {
        try? pool.close()
    }
}
