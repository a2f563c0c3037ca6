import ArgumentParser
import Foundation
import Reports
import Storage
import TTFASupport

struct RunsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "runs",
        abstract: "List stored runs: id, when, label, status, transports, trials, p50 TTFA."
    )

    @OptionGroup var database: DatabaseOptions

    @Flag(help: "One JSON array on stdout.")
    var json = false

    func run() async throws {
        let (path, summaries) = try await database.withStore(create: false) { store in
            var summaries: [RunSummary] = []
            for run in try await store.runs() {
                summaries.append(RunSummary(run: run, trials: try await store.trials(runID: run.id!)))
            }
            return (store.path, summaries)
        }
        if json {
            print(
                JSONValue.array(
                    summaries.map { s in
                        .object([
                            ("run_id", .int(s.run.id ?? 0)), ("started_at", .string(s.run.startedAt)),
                            ("ended_at", .optional(s.run.endedAt)),
                            ("label", .optional(s.run.label)), ("status", .string(s.run.status.rawValue)),
                            (
                                "transports",
                                .array(
                                    s.transports.map { t in
                                        .object([
                                            ("transport", .string(t.transport)), ("trials", .int(Int64(t.trials))),
                                            ("ok", .int(Int64(t.ok))),
                                            (
                                                "p50_ms",
                                                t.ttfa.map { .double(($0.p50 * 1000).rounded() / 1000) } ?? .null
                                            ),
                                        ])
                                    })
                            ),
                        ])
                    }
                ).pretty())
            return
        }
        guard !summaries.isEmpty else {
            print("no runs in \(path) yet; measure with `ttfa run`")
            return
        }
        var rows = [["id", "started (UTC)", "status", "label", "trials", "p50 TTFA"]]
        for s in summaries {
            rows.append([
                String(s.run.id ?? 0),
                String(s.run.startedAt.prefix(19)).replacingOccurrences(of: "T", with: " "),
                s.run.status.rawValue,
                s.run.label ?? "",
                s.transports.map { "\($0.transport) \($0.ok)/\($0.trials)" }.joined(separator: ", "),
                s.transports.map { "\($0.transport) \(Format.ms($0.ttfa?.p50))" }.joined(separator: ", "),
            ])
        }
        let widths = rows[0].indices.map { i in rows.map { $0[i].count }.max() ?? 0 }
        for row in rows {
            print(
                row.enumerated().map { $0.element.padding(toLength: widths[$0.offset], withPad: " ", startingAt: 0) }
                    .joined(separator: "  ").trimmingCharacters(in: .whitespaces))
        }
    }
}

struct ReportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Summarise a stored run (recomputed from its stored trials).",
        discussion: """
            Formats: table (the terminal summary), markdown (for a CI job summary or a pull-request \
            comment, with a Mermaid chart GitHub renders), json, and html — one self-contained file \
            (inline SVG and CSS, no scripts, nothing fetched) with the verdict, the summary, the CDF \
            of TTFA, the median trial's phases as a waterfall, TTFA against recording length, one \
            turn's timeline per transport and the failed trials.

            Examples:
              ttfa report --format html --out report.html
              ttfa report --run 12 --against 9 --format html --out ab.html
              ttfa report --format markdown >> "$GITHUB_STEP_SUMMARY"
              ttfa report --group load-test --db postgresql://… --format html --out load.html
              ttfa report --format prometheus --out /var/lib/node_exporter/textfile/ttfa.prom

            --group merges every run that joined a load group (`ttfa run --group NAME`, from any \
            number of machines writing to one database) into one report, and says which machine \
            contributed what. In JSON, a run measured under load (open model or --concurrency) \
            also carries its per-second time series ("series").
            """
    )

    @OptionGroup var database: DatabaseOptions
    @OptionGroup var selection: RunSelection

    @Option(
        help:
            "table, markdown, json, html, csv (the run's trials, as `ttfa export`), junit, or openmetrics or prometheus (the metric families of `ttfa monitor`, for one run)."
    )
    var format: ReportFormat = .table

    @Option(
        help: ArgumentHelp(
            "Write the report to this file instead of stdout (written whole, or not at all).", valueName: "file"))
    var out: String?

    @Option(
        help: ArgumentHelp(
            "Report every run of this load group together (runs join one with `ttfa run --group NAME`), instead of one run.",
            valueName: "name"))
    var group: String?

    @Option(
        help: ArgumentHelp(
            "Another run (id or \"latest\") to overlay: the charts show both, the tables the differences per percentile (html).",
            valueName: "run"))
    var against: String?

    @OptionGroup var thresholdOptions: ThresholdOptions

    func validate() throws {
        if against != nil && format != .html {
            throw ValidationError("--against draws two runs in one HTML report; add --format html")
        }
        if group != nil && selection.run != "latest" {
            throw ValidationError("--group reports every run of a group; leave out --run")
        }
    }

    func run() async throws {
        let thresholds = try thresholdOptions.load()
        let (path, loaded) = try await database.withStore(create: false) { store in
            (store.path, try await load(from: store))
        }
        var (data, loadGroup, other, series) = loaded
        try ThresholdOptions.validate(
            thresholds, transports: data.summary.transports.map(\.transport), recordings: data.summary.recordingNames)
        data.summary.check(thresholds)
        let report = Report(
            summaries: [data.summary], healths: [data.summary.health], thresholds: data.summary.checks, database: path,
            group: loadGroup, series: series, charts: (data, other), trials: data.trials)
        try Self.write(format.renderer.render(report), to: out)
        if !data.summary.thresholdsPassed { throw ExitCode(ExitCodes.checkFailed) }
    }

    /// What the report draws: the run (or the group's runs merged), the run to overlay, and a
    /// run's load time series.
    func load(from store: any ResultsStore) async throws -> (ReportData, LoadGroup?, ReportData?, [SeriesRecord]) {
        var loadGroup: LoadGroup?
        let data: ReportData
        if let group {
            guard let found = try await LoadGroup.load(group, from: store) else {
                let known = Set(try await store.runs().compactMap(\.groupName)).sorted()
                throw CommandFailure(
                    message:
                        "no run in \(store.path) belongs to load group \"\(group)\" (\(known.isEmpty ? "no run has joined a group" : "groups there: \(known.joined(separator: ", "))")); runs join one with `ttfa run --group NAME`",
                    exitCode: ExitCodes.usage)
            }
            loadGroup = found
            data = try await ReportData.load(merged: found.summary, trials: found.trials, from: store)
        } else {
            data = try await ReportData.load(try await selection.resolve(in: store), from: store)
        }
        var other: ReportData?
        if let against {
            other = try await ReportData.load(try await RunSelection.resolve(against, in: store), from: store)
        }
        let series = format == .json && loadGroup == nil ? try await store.series(runID: data.summary.run.id ?? 0) : []
        return (data, loadGroup, other, series)
    }

    /// `text` to `path` (atomically: a reader never sees half a report), or to stdout.
    static func write(_ text: String, to path: String?) throws {
        guard let path, path != "-" else {
            print(text, terminator: "")
            return
        }
        try OutputFiles.write(text, to: path, what: "the report")
    }
}

struct ExportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Export trials as CSV (RFC 4180, one row per trial, header row).",
        discussion:
            "Columns and units are documented in results/README.md. Times are milliseconds; milestones are measured from the scheduled end of speech."
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
        let (csv, rows) = try await database.withStore(create: false) { store in
            let runs = all ? try await store.runs() : [try await RunSelection.resolve(run ?? "latest", in: store)]
            var csv = CSVRenderer.header
            var rows = 0
            for run in runs {
                for trial in try await store.trials(runID: run.id!) {
                    csv += CSVRenderer.row(trial)
                    rows += 1
                }
            }
            return (csv, rows)
        }
        if out == "-" {
            FileHandle.standardOutput.write(Data(csv.utf8))
            return
        }
        // Write beside the target, then rename: a reader never sees half a file.
        let target = URL(fileURLWithPath: out)
        let temporary = target.deletingLastPathComponent().appendingPathComponent(
            ".\(target.lastPathComponent).\(ProcessInfo.processInfo.processIdentifier).tmp")
        do {
            try Data(csv.utf8).write(to: temporary)
        } catch {
            throw CommandFailure(
                message:
                    "--out \(out): cannot write (\(error.localizedDescription)); check the folder exists and is writable",
                exitCode: ExitCodes.usage)
        }
        // rename(2) replaces an existing file atomically: the old export stays intact until then.
        guard rename(temporary.path, target.path) == 0 else {
            let reason = String(cString: strerror(errno))
            try? FileManager.default.removeItem(at: temporary)
            throw CommandFailure(
                message: "--out \(out): cannot write (\(reason)); check the folder exists and is writable",
                exitCode: ExitCodes.usage)
        }
        Terminal.error("wrote \(Format.count(rows, "trial")) to \(out)\n")
    }
}

extension ReportFormat: ExpressibleByArgument {}
