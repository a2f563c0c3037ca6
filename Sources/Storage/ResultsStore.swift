import Foundation

/// Where runs, trials and their timelines are kept: SQLite (`SQLiteStore`, the embedded
/// default) or PostgreSQL (`PostgresStore`, a store a team shares). Both hold the same schema
/// (`StoreSchema`, the columns of the records: `RecordColumns`), write each trial in its own
/// transaction, and are safe to use from many tasks and many processes at once.
///
/// Every method is `async` and throws `StoreError`: a store never blocks a thread of the
/// cooperative pool.
package protocol ResultsStore: Sendable {
    /// Where the store is, for messages: a file path, or a URL with its password masked.
    var path: String { get }
    /// Inserts a run (status `running`) and returns it with its id.
    func createRun(_ run: RunRecord) async throws -> RunRecord
    /// Stores one trial and its timeline in one transaction; returns the trial's id.
    @discardableResult
    func insertTrial(_ trial: TrialRecord, events: [TrialEventRecord]) async throws -> Int64
    /// Marks a run `complete` or `interrupted`.
    func finishRun(id: Int64, status: RunStatus, endedAt: String) async throws
    func runs() async throws -> [RunRecord]
    func run(id: Int64) async throws -> RunRecord?
    func latestRun() async throws -> RunRecord?
    /// A run's trials in `seq` order.
    func trials(runID: Int64) async throws -> [TrialRecord]
    /// A trial's timeline in order.
    func events(trialID: Int64) async throws -> [TrialEventRecord]
    /// Stores seconds of a run's load time series (a second stored again replaces the old row).
    func insertSeries(_ rows: [SeriesRecord]) async throws
    /// A run's time series, by transport and second.
    func series(runID: Int64) async throws -> [SeriesRecord]
    /// The runs of a load group, oldest first.
    func runs(group: String) async throws -> [RunRecord]
    /// The database engine and its version, stored with each run ("3.40.1", "PostgreSQL 15.18").
    func databaseVersion() async throws -> String
    /// The engine's integrity check, the schema's migrations and ttfa's invariants; changes
    /// nothing.
    func check() async throws -> StoreCheck
    /// Lets go of what the store keeps only to be quick (page caches, idle connections), between
    /// the rounds of a long-running monitor; the store stays usable.
    func releaseMemory() async
    /// Lets go of the store's connections (a store is not used after).
    func close() async
}

extension ResultsStore {
    /// Nothing to let go of by default (PostgreSQL's caches are the server's).
    package func releaseMemory() async {}
}

/// A store that cannot do what was asked: which store, what failed, and what to do.
package struct StoreError: Error, Sendable, CustomStringConvertible {
    package enum Kind: String, Sendable {
        /// The store cannot be opened or prepared (a path, a URL, a newer schema).
        case unavailable
        /// A read or write failed (a full disk, a lost connection).
        case failed
    }

    package var kind: Kind
    package var message: String

    package init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    package var description: String { message }
}

package enum ResultsStores {
    /// The default location: a SQLite file under `results/`.
    package static let defaultPath = "results/ttfa.sqlite"

    /// Whether `location` names a PostgreSQL database rather than a SQLite file.
    package static func isPostgres(_ location: String) -> Bool {
        location.hasPrefix("postgresql://") || location.hasPrefix("postgres://")
    }

    /// Copies runs (all, or those given) with their trials and timelines from one store to
    /// another; each gets a new id there. Returns (old id, new id) per run.
    package static func copy(from source: any ResultsStore, to destination: any ResultsStore, runIDs: [Int64]? = nil)
        async throws -> [(Int64, Int64)]
    {
        var copied: [(Int64, Int64)] = []
        for run in try await source.runs() where runIDs?.contains(run.id!) ?? true {
            var fresh = run
            fresh.id = nil
            let created = try await destination.createRun(fresh)
            for trial in try await source.trials(runID: run.id!) {
                var copy = trial
                copy.id = nil
                copy.runID = created.id!
                try await destination.insertTrial(copy, events: try await source.events(trialID: trial.id!))
            }
            try await destination.insertSeries(
                try await source.series(runID: run.id!).map { row in
                    var copy = row
                    copy.runID = created.id!
                    return copy
                })
            // createRun stores the status as given: a finished run stays finished.
            copied.append((run.id!, created.id!))
        }
        return copied
    }
}
