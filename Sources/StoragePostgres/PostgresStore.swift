import Foundation
import GRDB
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import PostgresNIO
import Storage
import Synchronization
import TTFASupport
import VoiceTransport

/// The results store in PostgreSQL, for a team: many CI runners and laptops write one history.
///
/// Same tables, columns and migrations as SQLite (`StoreSchema`, integers as BIGINT), applied
/// under an advisory lock so processes starting together migrate once. One connection per
/// process; each operation (a trial and its timeline: one transaction) holds it alone. The
/// records map to columns through the same Codable definitions as SQLite's, so the two stores
/// cannot drift apart. The URL's password never reaches `path`, messages or storage.
public final class PostgresStore: ResultsStore {
    public let path: String
    private let connection: PostgresConnection
    private let lock = Mutex(())
    private let logger = Logger(label: "ttfa.postgres")

    /// Connects to `url` (`postgresql://USER:PASSWORD@HOST:PORT/DATABASE?sslmode=…`) and migrates.
    /// - Throws: `TransportError(.input)` that names the URL (password masked) and what to check.
    public init(url: String) throws(TransportError) {
        var redactor = SecretRedactor()
        redactor.addCredentials(fromURL: url)
        let shown = redactor.redactURL(url)
        path = shown
        guard let components = URLComponents(string: url), let host = components.host, !host.isEmpty else {
            throw TransportError(.input, "--db \(shown): not a PostgreSQL URL; write postgresql://USER:PASSWORD@HOST:PORT/DATABASE")
        }
        let user = components.user.map { $0.removingPercentEncoding ?? $0 } ?? ProcessInfo.processInfo.environment["USER"] ?? "postgres"
        let password = components.password.map { $0.removingPercentEncoding ?? $0 }
        let database = components.path.split(separator: "/").first.map(String.init)
        let mode = components.queryItems?.first { $0.name == "sslmode" }?.value ?? "prefer"
        let tls: PostgresConnection.Configuration.TLS
        do {
            switch mode {
            case "disable": tls = .disable
            case "prefer", "allow": tls = .prefer(try NIOSSLContext(configuration: .makeClientConfiguration()))
            case "require", "verify-ca", "verify-full": tls = .require(try NIOSSLContext(configuration: .makeClientConfiguration()))
            default:
                throw TransportError(.input, "--db \(shown): sslmode=\(mode) is not one of disable, prefer, require")
            }
        } catch let error as TransportError {
            throw error
        } catch {
            throw TransportError(.input, "--db \(shown): TLS could not be set up (\(error))")
        }
        let configuration = PostgresConnection.Configuration(host: host, port: components.port ?? 5432, username: user,
                                                             password: password, database: database, tls: tls)
        do {
            connection = try PostgresConnection.connect(on: MultiThreadedEventLoopGroup.singleton.any(), configuration: configuration,
                                                        id: 1, logger: logger).wait()
        } catch {
            throw TransportError(.input, "--db \(shown): cannot connect to PostgreSQL (\(Self.describe(error))); check the host, port, user, password and database, and that the server is running")
        }
        do {
            try migrate()
        } catch let error as TransportError {
            throw error
        } catch {
            throw TransportError(.input, "--db \(shown): cannot prepare the results tables (\(Self.describe(error)))")
        }
    }

    deinit {
        try? connection.close().wait()
    }

    static func describe(_ error: any Error) -> String {
        if let error = error as? PSQLError {
            if let message = error.serverInfo?[.message] { return message }
            return "\(error.code)"
        }
        return "\(error)"
    }

    // MARK: SQL

    /// Runs one statement with its arguments and returns the rows as GRDB rows, so records
    /// decode exactly as from SQLite.
    @discardableResult
    private func execute(_ sql: String, _ arguments: [DatabaseValue] = []) throws -> [Row] {
        var bindings = PostgresBindings(capacity: arguments.count)
        for value in arguments {
            switch value.storage {
            case .null: bindings.appendNull()
            case .int64(let v): bindings.append(v)
            case .double(let v): bindings.append(v)
            case .string(let v): bindings.append(v)
            case .blob(let v): bindings.append(ByteBuffer(bytes: v))
            }
        }
        let result = try connection.query(PostgresQuery(unsafeSQL: sql, binds: bindings), logger: logger).wait()
        return try result.rows.map { row in
            var values: [String: DatabaseValue] = [:]
            for cell in row {
                values[cell.columnName] = try Self.value(cell)
            }
            return Row(values)
        }
    }

    static func value(_ cell: PostgresCell) throws -> DatabaseValue {
        guard cell.bytes != nil else { return .null }
        switch cell.dataType {
        case .int8: return try cell.decode(Int64.self).databaseValue
        case .int4: return Int64(try cell.decode(Int32.self)).databaseValue
        case .int2: return Int64(try cell.decode(Int16.self)).databaseValue
        case .float8: return try cell.decode(Double.self).databaseValue
        case .bool: return (try cell.decode(Bool.self) ? 1 : 0).databaseValue
        default: return try cell.decode(String.self).databaseValue
        }
    }

    /// `INSERT … RETURNING id` of a record's columns (its id left to the database).
    private func insert(_ table: String, _ record: some EncodableRecord, returningID: Bool) throws -> Int64? {
        let columns = try record.databaseDictionary.filter { !($0.key == "id" && $0.value.isNull) }.sorted { $0.key < $1.key }
        let placeholders = columns.indices.map { "$\($0 + 1)" }.joined(separator: ", ")
        let sql = "INSERT INTO \(table) (\(columns.map(\.key).joined(separator: ", "))) VALUES (\(placeholders))" + (returningID ? " RETURNING id" : "")
        let rows = try execute(sql, columns.map(\.value))
        return returningID ? rows.first?["id"] : nil
    }

    private func transaction<T>(_ body: () throws -> T) throws -> T {
        try lock.withLock { _ in
            try execute("BEGIN")
            do {
                let value = try body()
                try execute("COMMIT")
                return value
            } catch {
                _ = try? execute("ROLLBACK")
                throw error
            }
        }
    }

    private func read<T>(_ body: () throws -> T) throws -> T {
        try lock.withLock { _ in try body() }
    }

    // MARK: schema

    /// The shared migrations, recorded in `grdb_migrations` as SQLite records them. An
    /// advisory lock makes processes that start together migrate one after the other.
    private func migrate() throws {
        try lock.withLock { _ in
            try execute("SELECT pg_advisory_lock(7274001)")
            defer { _ = try? execute("SELECT pg_advisory_unlock(7274001)") }
            try execute("CREATE TABLE IF NOT EXISTS grdb_migrations (identifier TEXT NOT NULL PRIMARY KEY)")
            let applied = Set(try execute("SELECT identifier FROM grdb_migrations").compactMap { $0["identifier"] as String? })
            let known = Set(StoreSchema.migrations.map(\.id))
            let unknown = applied.subtracting(known)
            guard unknown.isEmpty else {
                throw TransportError(.input, "\(path) was written by a newer ttfa (schema \(unknown.sorted().joined(separator: ", ")) is unknown to ttfa \(TTFAInfo.version)); upgrade ttfa or use another database")
            }
            for migration in StoreSchema.migrations where !applied.contains(migration.id) {
                try execute("BEGIN")
                do {
                    for statement in StoreSchema.postgresSQL(migration.sql) { try execute(statement) }
                    try execute("INSERT INTO grdb_migrations (identifier) VALUES ($1)", [migration.id.databaseValue])
                    try execute("COMMIT")
                } catch {
                    _ = try? execute("ROLLBACK")
                    throw error
                }
            }
        }
    }

    // MARK: ResultsStore

    public func createRun(_ run: RunRecord) throws -> RunRecord {
        try transaction {
            var run = run
            run.id = try insert("runs", run, returningID: true)
            return run
        }
    }

    @discardableResult
    public func insertTrial(_ trial: TrialRecord, events: [TrialEventRecord]) throws -> Int64 {
        try transaction {
            guard let id = try insert("trials", trial, returningID: true) else { throw TransportError(.internal, "no id for the stored trial") }
            for var event in events {
                event.trialID = id
                _ = try insert("trial_events", event, returningID: false)
            }
            return id
        }
    }

    public func insertSeries(_ rows: [SeriesRecord]) throws {
        guard !rows.isEmpty else { return }
        try transaction {
            for row in rows {
                try execute("DELETE FROM run_series WHERE run_id = $1 AND transport = $2 AND second = $3",
                            [row.runID.databaseValue, row.transport.databaseValue, row.second.databaseValue])
                _ = try insert("run_series", row, returningID: false)
            }
        }
    }

    public func series(runID: Int64) throws -> [SeriesRecord] {
        try read {
            try execute("SELECT * FROM run_series WHERE run_id = $1 ORDER BY transport, second", [runID.databaseValue]).map(SeriesRecord.init(row:))
        }
    }

    public func runs(group: String) throws -> [RunRecord] {
        try read {
            try execute("SELECT * FROM runs WHERE group_name = $1 ORDER BY id", [group.databaseValue]).map(RunRecord.init(row:))
        }
    }

    public func finishRun(id: Int64, status: String, endedAt: String) throws {
        try transaction {
            try execute("UPDATE runs SET status = $1, ended_at = $2 WHERE id = $3", [status.databaseValue, endedAt.databaseValue, id.databaseValue])
        }
    }

    public func runs() throws -> [RunRecord] {
        try read { try execute("SELECT * FROM runs ORDER BY id").map(RunRecord.init(row:)) }
    }

    public func run(id: Int64) throws -> RunRecord? {
        try read { try execute("SELECT * FROM runs WHERE id = $1", [id.databaseValue]).first.map(RunRecord.init(row:)) }
    }

    public func latestRun() throws -> RunRecord? {
        try read { try execute("SELECT * FROM runs ORDER BY id DESC LIMIT 1").first.map(RunRecord.init(row:)) }
    }

    public func trials(runID: Int64) throws -> [TrialRecord] {
        try read { try execute("SELECT * FROM trials WHERE run_id = $1 ORDER BY seq", [runID.databaseValue]).map(TrialRecord.init(row:)) }
    }

    public func events(trialID: Int64) throws -> [TrialEventRecord] {
        try read { try execute("SELECT * FROM trial_events WHERE trial_id = $1 ORDER BY seq", [trialID.databaseValue]).map(TrialEventRecord.init(row:)) }
    }

    public func databaseVersion() throws -> String {
        try read { "PostgreSQL " + ((try execute("SHOW server_version").first?["server_version"] as String?) ?? "unknown") }
    }
}
