import ArgumentParser
import Checks
import Foundation
import Reports
import RunSession
import Statistics
import Storage
import TTFASupport

/// `ttfa compare`: a candidate run against a baseline (a file or a run), metric by metric.
struct CompareCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare",
        abstract:
            "Compare a candidate run with a baseline (a baseline file or a stored run): per transport, recording and percentile, regressed / improved / unchanged.",
        discussion: """
            Each metric's difference (candidate − baseline) gets a seeded, stratified bootstrap 95% confidence interval; \
            it is regressed only when the whole interval lies above the tolerance (default: 10% of the baseline or 20 ms, \
            whichever is larger), improved only when it lies below minus the tolerance, else unchanged. Percentiles need \
            enough trials to be more than the sample's extreme (p90 10, p95 20, p99 100 per side); with fewer they are listed, not judged.

            Examples:
              ttfa baseline save --run 12 --out results/baseline.json
              ttfa compare --baseline results/baseline.json --candidate latest --markdown summary.md --junit ttfa.xml
              ttfa compare 12 14      (baseline run 12, candidate run 14)

            Exit codes: 0 no regression; 1 a metric regressed; 2 usage or input (a missing or corrupt baseline, \
            a configuration mismatch without --allow-mismatch); 3 the candidate run had failed trials, or more invalid ones than it allowed.
            """
    )

    @OptionGroup var database: DatabaseOptions

    @Argument(help: "Baseline (same as --baseline).")
    var positionalBaseline: String?

    @Argument(help: "Candidate (same as --candidate).")
    var positionalCandidate: String?

    @Option(help: "The baseline: a baseline file (ttfa baseline save), a run id, or \"latest\".")
    var baseline: String?

    @Option(help: "The candidate: a run id or \"latest\" (or a baseline file).")
    var candidate: String?

    @Option(
        help: "Allowed change before a metric counts: a share, a time, or both (the larger applies), e.g. 10%,20ms.")
    var tolerance = "10%,20ms"

    @Option(
        name: .customLong("metric-tolerance"),
        help: ArgumentHelp(
            "Tolerance of one metric, METRIC=TOLERANCE, e.g. websocket.ttfa.p95=15%,30ms or *.ttfa.p99=25% (repeatable).",
            valueName: "metric=tolerance"))
    var metricTolerances: [String] = []

    @Flag(
        help:
            "Compare even when the two runs' configurations differ (profile, link, recordings, transports, connection mode, host class)."
    )
    var allowMismatch = false

    @Flag(help: "One JSON object on stdout.")
    var json = false

    @Option(help: "Also write the verdict table as Markdown to this file (e.g. $GITHUB_STEP_SUMMARY).")
    var markdown: String?

    @Option(help: "Also write JUnit XML to this file: one test case per compared metric.")
    var junit: String?

    func validate() throws {
        if positionalBaseline != nil && baseline != nil {
            throw ValidationError("give the baseline once: as an argument or with --baseline")
        }
        if positionalCandidate != nil && candidate != nil {
            throw ValidationError("give the candidate once: as an argument or with --candidate")
        }
        if (positionalBaseline ?? baseline) == nil {
            throw ValidationError(
                "no baseline: give --baseline FILE|RUN_ID (create a file with `ttfa baseline save --run ID --out FILE`)"
            )
        }
    }

    /// `--tolerance` and `--metric-tolerance`, parsed (a bad one is a usage error).
    static func tolerances(_ tolerance: String, _ metricTolerances: [String]) throws -> (
        overall: Tolerance, perMetric: [(pattern: String, tolerance: Tolerance)]
    ) {
        do throws(CheckError) {
            var perMetric: [(pattern: String, tolerance: Tolerance)] = []
            for item in metricTolerances {
                guard let equals = item.firstIndex(of: "=") else {
                    throw CheckError(
                        "--metric-tolerance \(item): write METRIC=TOLERANCE, e.g. websocket.ttfa.p95=15%,30ms")
                }
                perMetric.append(
                    (
                        String(item[..<equals]).trimmingCharacters(in: .whitespaces),
                        try Tolerance(parsing: String(item[item.index(after: equals)...]))
                    ))
            }
            return (try Tolerance(parsing: tolerance), perMetric)
        } catch {
            throw CommandFailure(message: error.message, exitCode: ExitCodes.usage)
        }
    }

    func run() async throws {
        let base = positionalBaseline ?? baseline!
        let cand = positionalCandidate ?? candidate ?? "latest"
        let tolerances = try Self.tolerances(tolerance, metricTolerances)
        let baselineSource = try Self.source(base, role: "baseline")
        let candidateSource = try Self.source(cand, role: "candidate")
        // Files first (a broken baseline file is reported as such); the store is opened only
        // when a side is a stored run.
        let baselineFile = baselineSource.isFile ? try await Self.side(baselineSource, store: nil) : nil
        let candidateFile = candidateSource.isFile ? try await Self.side(candidateSource, store: nil) : nil
        let (baselineSide, candidateSide) =
            if let baselineFile, let candidateFile {
                (baselineFile, candidateFile)
            } else {
                try await database.withStore(create: false) { store in
                    let baseline =
                        if let baselineFile { baselineFile } else { try await Self.side(baselineSource, store: store) }
                    let candidate =
                        if let candidateFile { candidateFile } else {
                            try await Self.side(candidateSource, store: store)
                        }
                    return (baseline, candidate)
                }
            }
        let check = RegressionCheck(
            baseline: baselineSide.baseline, candidate: candidateSide.baseline, tolerance: tolerances.overall,
            tolerances: tolerances.perMetric, seed: UInt64(bitPattern: candidateSide.baseline.run.seed))
        if !check.mismatches.isEmpty && !allowMismatch {
            let lines = check.mismatches.map { "  " + $0.line }.joined(separator: "\n")
            throw CommandFailure(
                message:
                    "the baseline and the candidate were measured under different configurations:\n\(lines)\ntheir numbers are not comparable; measure both the same way, or pass --allow-mismatch to compare anyway",
                exitCode: ExitCodes.usage)
        }
        if check.metrics.isEmpty {
            throw CommandFailure(
                message:
                    "\(check.baseline.source) and \(check.candidate.source) share no transport with ok trials; nothing to compare",
                exitCode: ExitCodes.usage)
        }
        let report = Report(summaries: [], check: check)
        print((json ? JSONRenderer() as any ReportRenderer : TableRenderer()).render(report), terminator: "")
        if !check.mismatches.isEmpty {
            Terminal.error(
                "ttfa: warning: compared despite configuration differences (--allow-mismatch): \(check.mismatches.map(\.fact).joined(separator: ", "))\n"
            )
        }
        try OutputFiles.write(
            markdown: markdown, MarkdownRenderer().render(report), junit: junit, JUnitRenderer().render(report))
        if !check.regressed.isEmpty { throw ExitCode(ExitCodes.checkFailed) }
        if let health = candidateSide.health, !health.passed {
            for problem in health.problems { Terminal.error("ttfa: candidate: \(problem)\n") }
            throw ExitCode(ExitCodes.trialsFailed)
        }
    }

    /// Where a side comes from: a baseline file, or a stored run ("latest" or an id).
    enum Source {
        case file(String)
        case run(String)

        var isFile: Bool {
            if case .file = self { return true }
            return false
        }
    }

    /// What `selector` names, checked before any store is opened.
    static func source(_ selector: String, role: String) throws -> Source {
        if selector.hasSuffix(".json") || selector.contains("/") || FileManager.default.fileExists(atPath: selector) {
            return .file(selector)
        }
        guard selector == "latest" || Int64(selector) != nil else {
            throw CommandFailure(
                message:
                    "\(role) '\(selector)' is neither a baseline file nor a run id; give a file made by `ttfa baseline save`, a number from `ttfa runs`, or \"latest\"",
                exitCode: ExitCodes.usage)
        }
        return .run(selector)
    }

    /// A side of the comparison: a baseline file, or a stored run (with its health).
    static func side(_ source: Source, store: (any ResultsStore)?) async throws -> (
        baseline: Baseline, health: RunHealth?
    ) {
        let selector: String
        switch source {
        case .file(let path):
            do throws(CheckError) {
                return (try Baseline(file: path), nil)
            } catch {
                throw CommandFailure(message: error.message, exitCode: ExitCodes.usage)
            }
        case .run(let id):
            selector = id
        }
        guard let store else { preconditionFailure("a stored run is read with a store open") }
        let run = try await RunSelection.resolve(selector, in: store)
        let trials = try await store.trials(runID: run.id!)
        let config = (try? JSONSerialization.jsonObject(with: Data(run.configJSON.utf8))) as? [String: Any]
        let health = RunSummary(run: run, trials: trials).health(
            maxInvalidShare: config?["max_invalid"] as? Double ?? 0.1)
        return (Baseline(run: run, trials: trials), health)
    }
}
