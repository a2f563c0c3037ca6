import Foundation
import VoiceTransport

/// Where runs, trials and their timelines are kept (`SQLiteStore`, the embedded default). Both hold the same schema
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
    /// The database engine and its version, stored with each run ("3.40.1", "PostgreSQL 15.18").
    func databaseVersion() throws -> String
}

public enum ResultsStores {
    /// The default location: a SQLite file under `results/`.
    public static let defaultPath = "results/ttfa.sqlite"

    /// Opens the store at `location`.
    public static func open(_ location: String, create: Bool) throws(TransportError) -> any ResultsStore {
        return try SQLiteStore(path: location, create: create)
    }
}
