import ArgumentParser
import Foundation
import Harness
import VoiceTransport

/// `--db`, shared by every command that reads or writes results.
struct DatabaseOptions: ParsableArguments {
    @Option(name: .customLong("db"), help: "Results database (SQLite).")
    var path = ResultsStore.defaultPath

    /// Opens the database; a missing file is an input error for read-only commands.
    func open(create: Bool) throws -> ResultsStore {
        do {
            return try ResultsStore(path: path, create: create)
        } catch {
            throw CommandFailure.input(error)
        }
    }
}

/// Selects a stored run: `--run ID` or `--run latest` (the default).
struct RunSelection: ParsableArguments {
    @Option(name: .customLong("run"), help: "Run id, or \"latest\".")
    var run = "latest"

    func resolve(in store: ResultsStore) throws -> RunRecord {
        try Self.resolve(run, in: store)
    }

    static func resolve(_ selector: String, in store: ResultsStore) throws -> RunRecord {
        let found: RunRecord?
        if selector == "latest" {
            found = try store.latestRun()
            if found == nil {
                throw CommandFailure(message: "\(store.path) holds no runs yet; measure with `ttfa run` first", exitCode: ExitCodes.usage)
            }
        } else if let id = Int64(selector) {
            found = try store.run(id: id)
        } else {
            throw CommandFailure(message: "--run \(selector) is not a run id; give a number from `ttfa runs` or \"latest\"", exitCode: ExitCodes.usage)
        }
        guard let run = found else {
            let ids = try store.runs().compactMap(\.id)
            let known = ids.isEmpty ? "it holds no runs" : "it holds runs \(ids.first!)–\(ids.last!)"
            throw CommandFailure(message: "run \(selector) is not in \(store.path) (\(known)); see `ttfa runs`", exitCode: ExitCodes.usage)
        }
        return run
    }
}

/// Writes to stderr (progress, warnings).
enum Terminal {
    static func error(_ text: String) {
        FileHandle.standardError.write(Data(text.utf8))
    }

    static var stderrIsTTY: Bool { isatty(2) == 1 }
}
