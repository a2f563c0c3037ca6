import ServiceLifecycle
import Storage
import StoragePostgres
import StorageSQLite

extension ResultsStores {
    /// Opens the store at `location` (`postgresql://…` or a SQLite file path), uses it in `body`,
    /// and lets go of it after. A store that is a `Service` (PostgreSQL's pool) runs beside
    /// `body` for exactly that long, so it outlives every read and write made in `body`.
    /// - Throws: `StoreError` when the store cannot be opened; whatever `body` throws.
    package static func withStore<T>(
        _ location: String, create: Bool, migrate: Bool = true,
        _ body: (any ResultsStore) async throws -> T
    ) async throws -> T {
        let store: any ResultsStore =
            isPostgres(location)
            ? try await PostgresStore(url: location, migrate: migrate)
            : try SQLiteStore(path: location, create: create, migrate: migrate)
        guard let service = store as? any Service else {
            do {
                let value = try await body(store)
                await store.close()
                return value
            } catch {
                await store.close()
                throw error
            }
        }
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await service.run() }
            do {
                let value = try await body(store)
                await store.close()
                group.cancelAll()
                return value
            } catch {
                await store.close()
                group.cancelAll()
                throw error
            }
        }
    }

    /// Opens two stores (copy's source and destination) for the length of `body`.
    package static func withStores<T>(
        _ first: String, create firstCreate: Bool, _ second: String, create secondCreate: Bool,
        _ body: (any ResultsStore, any ResultsStore) async throws -> T
    ) async throws -> T {
        try await withStore(first, create: firstCreate) { a in
            try await withStore(second, create: secondCreate) { b in try await body(a, b) }
        }
    }
}
