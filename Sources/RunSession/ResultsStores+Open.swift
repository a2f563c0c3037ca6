import Storage
import StoragePostgres
import StorageSQLite
import VoiceTransport

extension ResultsStores {
    /// Opens the store at `location`: `postgresql://…` or a SQLite file path.
    public static func open(_ location: String, create: Bool) throws(TransportError) -> any ResultsStore {
        if isPostgres(location) { return try PostgresStore(url: location) }
        return try SQLiteStore(path: location, create: create)
    }
}
