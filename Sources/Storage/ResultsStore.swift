import Foundation
import VoiceTransport

/// Where runs, trials and their timelines are kept: SQLite (`SQLiteStore`, the embedded
/// default) or PostgreSQL (`PostgresStore`, a store a team shares). Both hold the same schema
/// (`StoreSchema`), write each trial in its own transaction, and are safe to use from many
/// threads and many processes at once.
public protocol ResultsStore: Sendable {
    /// Where the store is, for messages: a file path, or a URL with its password masked.
    var path: String { get }
    /// Inserts a run (status `running`) and returns it with its id.
    func createRun(_ run: RunRecord) throws -> RunRecord
    /// Stores one trial and its timeline in one transaction; returns the trial's id.
    @discardableResult
    func insertTrial(_ trial: TrialRecord, events: [TrialEventRecord]) throws -> Int64
    /// Marks a run `complete` or `interrupted`.
    func finishRun(id: Int64, status: String, endedAt: String) throws
    func runs() throws -> [RunRecord]
    func run(id: Int64) throws -> RunRecord?
    func latestRun() throws -> RunRecord?
    /// A run's trials in `seq` order.
    func trials(runID: Int64) throws -> [TrialRecord]
    /// A trial's timeline in order.
    func events(trialID: Int64) throws -> [TrialEventRecord]
    /// Stores seconds of a run's load time series (a second stored again replaces the old row).
    func insertSeries(_ rows: [SeriesRecord]) throws
    /// A run's time series, by transport and second.
    func series(runID: Int64) throws -> [SeriesRecord]
    /// The runs of a load group, oldest first.
    func runs(group: String) throws -> [RunRecord]
    /// The database engine and its version, stored with each run ("3.40.1", "PostgreSQL 15.18").
    func databaseVersion() throws -> String
}

public enum ResultsStores {
    /// The default location: a SQLite file under `results/`.
    public static let defaultPath = "results/ttfa.sqlite"

    /// Whether `location` names a PostgreSQL database rather than a SQLite file.
    public static func isPostgres(_ location: String) -> Bool {
        location.hasPrefix("postgresql://") || location.hasPrefix("postgres://")
    }

    /// Copies runs (all, or those given) with their trials and timelines from one store to
    /// another; each gets a new id there. Returns (old id, new id) per run.
    public static func copy(from source: any ResultsStore, to destination: any ResultsStore, runIDs: [Int64]? = nil) throws -> [(Int64, Int64)] {
        var copied: [(Int64, Int64)] = []
        for run in try source.runs() where runIDs?.contains(run.id!) ?? true {
            var fresh = run
            fresh.id = nil
            let created = try destination.createRun(fresh)
            for trial in try source.trials(runID: run.id!) {
                var copy = trial
                copy.id = nil
                copy.runID = created.id!
                try destination.insertTrial(copy, events: try source.events(trialID: trial.id!))
            }
            try destination.insertSeries(try source.series(runID: run.id!).map { row in
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
