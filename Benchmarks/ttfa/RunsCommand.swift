import ArgumentParser
import Foundation
import Harness

struct RunsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "runs",
        abstract: "List stored runs: id, when, label, status, transports, trials, p50 TTFA."
    )

    @OptionGroup var database: DatabaseOptions

    @Flag(help: "One JSON array on stdout.")
    var json = false

    func run() async throws {
        let store = try database.open(create: false)
        let runs = try store.runs()
        let summaries = try runs.map { RunSummary(run: $0, trials: try store.trials(runID: $0.id!)) }
        if json {
            print(JSONValue.array(summaries.map { s in
                .object([
                    ("run_id", .int(s.run.id ?? 0)), ("started_at", .string(s.run.startedAt)), ("ended_at", .optional(s.run.endedAt)),
                    ("label", .optional(s.run.label)), ("status", .string(s.run.status)),
                    ("transports", .array(s.transports.map { t in
                        .object([("transport", .string(t.transport)), ("trials", .int(Int64(t.trials))), ("ok", .int(Int64(t.ok))),
                                 ("p50_ms", t.ttfa.map { .double(($0.p50 * 1000).rounded() / 1000) } ?? .null)])
                    })),
                ])
            }).pretty())
            return
        }
        guard !summaries.isEmpty else {
            print("no runs in \(store.path) yet; measure with `ttfa run`")
            return
        }
        var rows = [["id", "started (UTC)", "status", "label", "trials", "p50 TTFA"]]
        for s in summaries {
            rows.append([
                String(s.run.id ?? 0),
                String(s.run.startedAt.prefix(19)).replacingOccurrences(of: "T", with: " "),
                s.run.status,
                s.run.label ?? "",
                s.transports.map { "\($0.transport) \($0.ok)/\($0.trials)" }.joined(separator: ", "),
                s.transports.map { "\($0.transport) \(Format.ms($0.ttfa?.p50))" }.joined(separator: ", "),
            ])
        }
        let widths = rows[0].indices.map { i in rows.map { $0[i].count }.max() ?? 0 }
        for row in rows {
            print(row.enumerated().map { $0.element.padding(toLength: widths[$0.offset], withPad: " ", startingAt: 0) }
                .joined(separator: "  ").trimmingCharacters(in: .whitespaces))
        }
    }
}

struct ReportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Summarise a stored run (recomputed from its stored trials)."
    )

    enum ReportFormat: String, ExpressibleByArgument, CaseIterable {
        case table, markdown, json
    }

    @OptionGroup var database: DatabaseOptions
    @OptionGroup var selection: RunSelection

    @Option(help: "table, markdown or json.")
    var format: ReportFormat = .table

    @OptionGroup var thresholdOptions: ThresholdOptions

    func run() async throws {
        let thresholds = try thresholdOptions.load()
        let store = try database.open(create: false)
        let run = try selection.resolve(in: store)
        var summary = RunSummary(run: run, trials: try store.trials(runID: run.id!))
        try ThresholdOptions.validate(thresholds, transports: summary.transports.map(\.transport), recordings: summary.recordingNames)
        summary.check(thresholds)
        switch format {
        case .table: print(SummaryRenderer.table(summary), terminator: "")
        case .markdown: print(SummaryRenderer.markdown(summary), terminator: "")
        case .json: print(SummaryRenderer.json(summary, database: store.path).pretty())
        }
        if !summary.thresholdsPassed { throw ExitCode(ExitCodes.checkFailed) }
    }
}

struct ExportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Export trials as CSV (RFC 4180, one row per trial, header row).",
        discussion: "Columns and units are documented in results/README.md. Times are milliseconds; milestones are measured from the scheduled end of speech."
    )

    @OptionGroup var database: DatabaseOptions

    @Option(name: .customLong("run"), help: "Run id, or \"latest\" (the default).")
    var run: String?

    @Flag(help: "Export every run.")
    var all = false

    @Option(help: "Output file, or - for stdout.")
    var out = "-"

    func validate() throws {
        if all && run != nil { throw ValidationError("give either --run or --all, not both") }
    }

    func run() async throws {
        let store = try database.open(create: false)
        let runs = all ? try store.runs() : [try RunSelection.resolve(run ?? "latest", in: store)]
        var csv = CSVExporter.header
        var rows = 0
        for run in runs {
            for trial in try store.trials(runID: run.id!) {
                csv += CSVExporter.row(trial)
                rows += 1
            }
        }
        if out == "-" {
            FileHandle.standardOutput.write(Data(csv.utf8))
            return
        }
        // Write beside the target, then rename: a reader never sees half a file.
        let target = URL(fileURLWithPath: out)
        let temporary = target.deletingLastPathComponent().appendingPathComponent(".\(target.lastPathComponent).\(ProcessInfo.processInfo.processIdentifier).tmp")
        do {
            try Data(csv.utf8).write(to: temporary)
        } catch {
            throw CommandFailure(message: "--out \(out): cannot write (\(error.localizedDescription)); check the folder exists and is writable", exitCode: ExitCodes.usage)
        }
        // rename(2) replaces an existing file atomically: the old export stays intact until then.
        guard rename(temporary.path, target.path) == 0 else {
            let reason = String(cString: strerror(errno))
            try? FileManager.default.removeItem(at: temporary)
            throw CommandFailure(message: "--out \(out): cannot write (\(reason)); check the folder exists and is writable", exitCode: ExitCodes.usage)
        }
        Terminal.error("wrote \(Format.count(rows, "trial")) to \(out)\n")
    }
}

