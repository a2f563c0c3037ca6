import Foundation

/// What `ttfa db check` finds in a store: the engine's own integrity check, the schema's
/// migrations against this ttfa's, and ttfa's own invariants — no trial stored twice, every `ok`
/// trial with its TTFA, no trial without its run, no event without its trial. Reading it changes
/// nothing in the store.
package struct StoreCheck: Sendable, Equatable {
    /// Where the store is (a path, or a URL with its password masked).
    package var store: String
    /// "SQLite 3.40.1", "PostgreSQL 15.10".
    package var engine: String
    /// How the engine checked itself, for the report.
    package var integrityMethod: String
    /// The engine's findings; empty when it found nothing wrong.
    package var integrity: [String]
    /// The migrations recorded in the store.
    package var applied: [String]
    /// Runs by stored status.
    package var runsByStatus: [String: Int] = [:]
    package var trials = 0
    package var events = 0
    /// Trial numbers (`run_id`, `seq`) that occur more than once.
    package var duplicateTrials = 0
    /// `ok` trials without a TTFA.
    package var okWithoutTTFA = 0
    /// Trials whose run is missing, events whose trial is missing.
    package var orphanTrials = 0
    package var orphanEvents = 0

    package init(store: String, engine: String, integrityMethod: String, integrity: [String], applied: [String]) {
        self.store = store
        self.engine = engine
        self.integrityMethod = integrityMethod
        self.integrity = integrity
        self.applied = applied
    }

    /// ttfa's invariants as queries that read one count each (`n`), in SQL both engines speak.
    package static var counts: [(name: WritableKeyPath<StoreCheck, Int>, sql: String)] {
        [
            (\.trials, "SELECT COUNT(*) AS n FROM trials"),
            (\.events, "SELECT COUNT(*) AS n FROM trial_events"),
            (
                \.duplicateTrials,
                "SELECT COUNT(*) AS n FROM (SELECT run_id, seq FROM trials GROUP BY run_id, seq HAVING COUNT(*) > 1) AS twice"
            ),
            (\.okWithoutTTFA, "SELECT COUNT(*) AS n FROM trials WHERE status = 'ok' AND ttfa_ns IS NULL"),
            (\.orphanTrials, "SELECT COUNT(*) AS n FROM trials WHERE run_id NOT IN (SELECT id FROM runs)"),
            (\.orphanEvents, "SELECT COUNT(*) AS n FROM trial_events WHERE trial_id NOT IN (SELECT id FROM trials)"),
        ]
    }
    /// Runs by status: rows of (`status`, `n`).
    package static let runsByStatusSQL = "SELECT status, COUNT(*) AS n FROM runs GROUP BY status"

    /// Migrations in the store that this ttfa does not know: a newer ttfa wrote it.
    package var unknownMigrations: [String] {
        let known = Set(StoreSchema.migrations.map(\.id))
        return applied.filter { !known.contains($0) }.sorted()
    }

    /// This ttfa's migrations the store does not have yet (the next run applies them).
    package var missingMigrations: [String] {
        let applied = Set(self.applied)
        return StoreSchema.migrations.map(\.id).filter { !applied.contains($0) }
    }

    /// What is wrong, a sentence each; empty when the store is healthy.
    package var problems: [String] {
        var out = integrity.map { "\(engine) reports: \($0)" }
        if !unknownMigrations.isEmpty {
            out.append(
                "the schema has migrations this ttfa does not know (\(unknownMigrations.joined(separator: ", "))): a newer ttfa wrote it; check it with that version"
            )
        }
        if duplicateTrials > 0 {
            out.append("\(duplicateTrials) trial number(s) are stored more than once in the same run")
        }
        if okWithoutTTFA > 0 { out.append("\(okWithoutTTFA) trial(s) are stored as ok without a TTFA") }
        if orphanTrials > 0 { out.append("\(orphanTrials) trial(s) belong to no stored run") }
        if orphanEvents > 0 { out.append("\(orphanEvents) timeline event(s) belong to no stored trial") }
        return out
    }

    /// The report, a line each (without the verdict).
    package var lines: [String] {
        let known = StoreSchema.migrations.count
        let schema: String
        if !unknownMigrations.isEmpty {
            schema = "newer than this ttfa's (\(applied.count) migrations, \(unknownMigrations.count) unknown)"
        } else if missingMigrations.isEmpty {
            schema = "current (\(known) of \(known) migrations, last \(StoreSchema.migrations.last!.id))"
        } else if applied.isEmpty {
            schema = "none: not a ttfa results store yet (the next `ttfa run --db` here creates it)"
        } else {
            schema =
                "\(known - missingMigrations.count) of \(known) migrations: the next `ttfa run` applies \(missingMigrations.joined(separator: ", "))"
        }
        let runs = runsByStatus.values.reduce(0, +)
        let byStatus = runsByStatus.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", ")
        var out = [
            "\(store) (\(engine))",
            "  schema:    \(schema)",
            "  integrity: " + (integrity.isEmpty ? "ok" : "\(integrity.count) problem(s)") + " (\(integrityMethod))",
            "  runs:      \(runs)" + (byStatus.isEmpty ? "" : " (\(byStatus))"),
            "  trials:    \(trials), with \(events) timeline events",
            "  ttfa:      "
                + (duplicateTrials + okWithoutTTFA + orphanTrials + orphanEvents == 0
                    ? "no trial stored twice, every ok trial has its TTFA, nothing without its run or trial"
                    : "see the problems below"),
        ]
        if let running = runsByStatus["running"], running > 0 {
            out.append(
                "  note:      \(running) run(s) still marked running: in progress, or their process was killed (their stored trials are kept)"
            )
        }
        return out
    }
}
