import ArgumentParser
import Checks
import Foundation
import Reports
import RunSession
import Statistics
import Storage
import TTFASupport

/// `ttfa db copy`: runs from one results store to another (SQLite ↔ PostgreSQL);
/// `ttfa db check`: whether a store is healthy.
struct DatabaseCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "db",
        abstract: "Manage results stores.",
        subcommands: [Copy.self, Check.self]
    )

    struct Check: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "check",
            abstract:
                "Check a results store: the engine's integrity, the schema version, and that no trial is stored twice.",
            discussion: """
                Reads the store and changes nothing (an older schema is reported, not migrated).
                Checks SQLite's PRAGMA integrity_check and foreign_key_check (PostgreSQL guards its
                own pages), the schema's migrations against this ttfa's, and ttfa's invariants: no
                trial number stored twice in a run, every ok trial with its TTFA, no trial without
                its run, no timeline event without its trial.
                Exit status: 0 healthy, 1 a problem found (each is printed), 2 the store cannot be
                opened or read.
                Examples:
                  ttfa db check
                  ttfa db check --db "$TTFA_DATABASE_URL"
                """
        )

        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            let location = database.location
            let check: StoreCheck
            do {
                check = try await ResultsStores.withStore(location, create: false, migrate: false) { store in
                    try await store.check()
                }
            } catch let error as StoreError {
                // A SQLite file that exists but cannot be read as a database is a finding, not a
                // wrong argument.
                let found = !ResultsStores.isPostgres(location) && FileManager.default.fileExists(atPath: location)
                throw CommandFailure(
                    message: found ? "\(error.message)\n\(location): NOT healthy" : error.message,
                    exitCode: found ? ExitCodes.checkFailed : ExitCodes.usage)
            }
            for line in check.lines { print(line) }
            let problems = check.problems
            for problem in problems { print("  problem:   \(problem)") }
            if problems.isEmpty {
                print("\(check.store): healthy")
            } else {
                print("\(check.store): NOT healthy (\(problems.count) problem\(problems.count == 1 ? "" : "s"))")
                throw ExitCode(ExitCodes.checkFailed)
            }
        }
    }

    struct Copy: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "copy",
            abstract:
                "Copy runs (with their trials and timelines) between stores, e.g. a laptop's SQLite file into the team's PostgreSQL.",
            discussion: """
                Each copied run gets a new id in the destination; the ids are printed as OLD -> NEW.
                Examples:
                  ttfa db copy --from results/ttfa.sqlite --to postgresql://ttfa@db.example/ttfa --run 12
                  ttfa db copy --from "$TTFA_DATABASE_URL" --to backup.sqlite
                """
        )

        @Option(help: "The store to read: a SQLite file or a postgresql:// URL.")
        var from: String

        @Option(help: "The store to write (created and migrated if needed).")
        var to: String

        @Option(name: .customLong("run"), help: "A run id to copy (repeatable). Default: every run.")
        var runs: [Int64] = []

        func run() async throws {
            try await ResultsStores.withStores(from, create: false, to, create: true) { source, destination in
                if source.path == destination.path {
                    throw CommandFailure(
                        message: "--from and --to are the same store (\(source.path)); copy into another one",
                        exitCode: ExitCodes.usage)
                }
                let known = Set(try await source.runs().compactMap(\.id))
                if let missing = runs.first(where: { !known.contains($0) }) {
                    throw CommandFailure(
                        message: "run \(missing) is not in \(source.path); see `ttfa runs --db …`",
                        exitCode: ExitCodes.usage)
                }
                let copied = try await ResultsStores.copy(
                    from: source, to: destination, runIDs: runs.isEmpty ? nil : runs)
                for (old, new) in copied { print("\(old) -> \(new)") }
                Terminal.error(
                    "ttfa: copied \(Format.count(copied.count, "run")) from \(source.path) to \(destination.path)\n")
            }
        }
    }
}
