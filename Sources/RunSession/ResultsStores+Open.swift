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
        // The pool runs beside the body; when the body is done it is cancelled and given a few
        // seconds to close its connections, not more: a pool still retrying a server that is
        // gone must not keep the command from ending.
        let pool = Task { try await service.run() }
        func release() async {
            await store.close()
            pool.cancel()
            _ = try? await Deadline.first(within: .seconds(5)) { _ = await pool.result }
        }
        do {
            let value = try await body(store)
            await release()
            return value
        } catch {
            await release()
            throw error
        }
    }

    package static func withStores<T>(
        _ first: String, create firstCreate: Bool, _ second: String, create secondCreate: Bool,
        _ body: (any ResultsStore, any ResultsStore) async throws -> T
    ) async throws -> T {
        try await withStore(first, create: firstCreate) { a in
            try await withStore(second, create: secondCreate) { b in try await body(a, b) }
        }
    }
}
