import ArgumentParser
import Checks
import Foundation
import Reports
import RunSession
import Statistics
import Storage
import TTFASupport

/// `ttfa baseline save`: a run as a reviewable baseline file.
struct BaselineCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "baseline",
        abstract: "Save a run as a baseline file for `ttfa compare`.",
        subcommands: [Save.self]
    )

    struct Save: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "save",
            abstract: "Write a run's samples, configuration and host facts as a diff-friendly JSON baseline.",
            discussion:
                "Commit the file (e.g. results/baseline.json) and compare later runs with `ttfa compare --baseline FILE --candidate latest`."
        )

        @OptionGroup var database: DatabaseOptions
        @OptionGroup var selection: RunSelection

        @Option(help: "Where to write the baseline (JSON).")
        var out: String

        func run() async throws {
            let (run, trials) = try await database.withStore(create: false) { store in
                let run = try await selection.resolve(in: store)
                return (run, try await store.trials(runID: run.id!))
            }
            guard run.status == .complete else {
                throw CommandFailure(
                    message: "run \(run.id!) is \(run.status), not complete; a baseline must come from a finished run",
                    exitCode: ExitCodes.usage)
            }
            let baseline = Baseline(run: run, trials: trials)
            guard baseline.transports.contains(where: { !$0.samples.ttfaMs.isEmpty }) else {
                throw CommandFailure(
                    message: "run \(run.id!) has no ok measured trials; nothing to compare against",
                    exitCode: ExitCodes.usage)
            }
            try OutputFiles.write(baseline.fileText(savedAt: Timestamp.now()), to: out, what: "the baseline")
            let counts = baseline.transports.map { "\($0.name) \($0.samples.ok) ok" }.joined(separator: ", ")
            Terminal.error("ttfa: wrote baseline \(out) from run \(run.id!) (\(counts))\n")
        }
    }
}
