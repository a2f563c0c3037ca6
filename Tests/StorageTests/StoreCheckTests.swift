import Foundation
import GRDB
import TestSupport
import Testing

@testable import Storage
@testable import StorageSQLite

/// `ttfa db check`'s findings on a SQLite store: what a healthy store says, and each problem
/// it must catch.
@Suite("Store check")
struct StoreCheckTests {
    /// A store with two trials and a timeline: nothing wrong, and the counts say what is there.
    @Test func aHealthyStoreHasNoProblems() async throws {
        let (store, run) = try await storedRun(transports: ["websocket": [300, 310]])
        let check = try await store.check()
        #expect(check.problems.isEmpty, "\(check.problems)")
        #expect(check.engine.hasPrefix("SQLite 3."))
        #expect(check.integrity.isEmpty && check.missingMigrations.isEmpty && check.unknownMigrations.isEmpty)
        #expect(check.trials == 2 && check.runsByStatus.values.reduce(0, +) == 1 && run.id != nil)
        #expect(check.lines.contains { $0.contains("schema:") && $0.contains("current") })
    }

    /// A trial number stored twice in one run, and an ok trial without its TTFA: each is named.
    @Test func aTrialStoredTwiceAndAnOkTrialWithoutTTFAAreProblems() async throws {
        let (store, run) = try await storedRun(transports: ["websocket": [300]])
        let id = try #require(run.id)
        try await store.insertTrial(sampleTrial(runID: id, seq: 1, transport: "websocket", ttfaMs: 300), events: [])
        try await store.insertTrial(sampleTrial(runID: id, seq: 2, transport: "websocket", ttfaMs: nil), events: [])
        let check = try await store.check()
        #expect(check.duplicateTrials == 1 && check.okWithoutTTFA == 1)
        #expect(check.problems.contains { $0.contains("1 trial number(s) are stored more than once") })
        #expect(check.problems.contains { $0.contains("1 trial(s) are stored as ok without a TTFA") })
    }

    /// Rows left without their parent (written with foreign keys off, as another tool might).
    @Test func trialsAndEventsWithoutTheirParentsAreProblems() async throws {
        let (store, _) = try await storedRun(transports: ["sse": [300]])
        let queue = try DatabaseQueue(path: store.path)
        // (PRAGMA foreign_keys cannot change inside a transaction.)
        try await queue.writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA foreign_keys = OFF")
            try db.execute(sql: "INSERT INTO trial_events (trial_id, seq, t_ns, kind) VALUES (999, 0, 1, 'audio')")
            try db.execute(sql: "DELETE FROM runs")
        }
        let check = try await store.check()
        #expect(check.orphanTrials == 1 && check.orphanEvents >= 1)
        #expect(check.problems.contains { $0.contains("belong to no stored run") })
        #expect(check.problems.contains { $0.contains("belong to no stored trial") })
        #expect(!check.integrity.isEmpty, "SQLite's own foreign_key_check sees them too")
    }

    /// A store from a newer ttfa is a finding (not an error): the check says which migrations.
    @Test func aNewerSchemaIsAProblemNamingItsMigrations() async throws {
        let path = temporaryDatabase()
        _ = try SQLiteStore(path: path)
        let queue = try DatabaseQueue(path: path)
        try await queue.write { try $0.execute(sql: "INSERT INTO grdb_migrations VALUES ('v99-from-the-future')") }
        let check = try await SQLiteStore(path: path, create: false, migrate: false).check()
        #expect(check.unknownMigrations == ["v99-from-the-future"])
        #expect(check.problems.contains { $0.contains("a newer ttfa wrote it") })
    }

    /// An older schema is reported and left alone: checking changes nothing.
    @Test func anOlderSchemaIsReportedAndNotMigrated() async throws {
        let path = temporaryDatabase()
        _ = try SQLiteStore(path: path)
        let last = try #require(StoreSchema.migrations.last?.id)
        let queue = try DatabaseQueue(path: path)
        try await queue.write {
            try $0.execute(sql: "DELETE FROM grdb_migrations WHERE identifier = ?", arguments: [last])
        }
        let check = try await SQLiteStore(path: path, create: false, migrate: false).check()
        #expect(check.missingMigrations == [last] && check.problems.isEmpty)
        #expect(check.lines.contains { $0.contains("the next `ttfa run` applies \(last)") })
        let applied = try await queue.read { try String.fetchAll($0, sql: "SELECT identifier FROM grdb_migrations") }
        #expect(!applied.contains(last))
    }
}
