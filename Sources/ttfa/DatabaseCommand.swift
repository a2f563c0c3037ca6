import ArgumentParser
import Checks
import Foundation
import Reports
import RunSession
import Statistics
import Storage
import TTFASupport

/// `ttfa db copy`: runs from one results store to another (SQLite ↔ PostgreSQL).
struct DatabaseCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "db",
        abstract: "Manage results stores.",
        subcommands: [Copy.self]
    )

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
