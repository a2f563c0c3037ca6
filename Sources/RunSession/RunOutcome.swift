import Checks
import Foundation
import Reports
import Statistics
import Storage
import TTFASupport

/// What a run measured, read back from the store (so a later `ttfa report` says the same):
/// the summary of each side, thresholds judged on the last, and an A/B comparison's verdict.
package struct RunOutcome: Sendable {
    package var summaries: [RunSummary]
    package var check: RegressionCheck?
    package var healths: [RunHealth]
    package var interrupted: Bool
    /// A trial could not be stored: the run stopped there.
    package var storeFailed: Bool
    /// The runs stored (two in an A/B comparison: baseline, candidate).
    package let runIDs: [Int64]
    let storePath: String
    let plan: RunPlan
    /// What the HTML report draws (read while the store is open), when one is asked for: the
    /// run or candidate, and an A/B run's baseline.
    let reportData: (run: ReportData, baseline: ReportData?)?

    /// How the run ends, in the order the exit code says it.
    package enum Status: Sendable, Equatable {
        case success, checkFailed, trialsFailed, interrupted, storeFailed
    }

    init(plan: RunPlan, store: any ResultsStore, runIDs: [Int64], interrupted: Bool, storeFailed: Bool) async throws {
        self.plan = plan
        self.runIDs = runIDs
        storePath = store.path
        self.interrupted = interrupted
        self.storeFailed = storeFailed
        var summaries: [RunSummary] = []
        for id in runIDs {
            guard let stored = try await store.run(id: id) else {
                throw RunInputError("\(store.path): run \(id) is gone from the store")
            }
            summaries.append(RunSummary(run: stored, trials: try await store.trials(runID: id)))
        }
        // Thresholds judge the run, or the candidate of an A/B comparison.
        summaries[summaries.count - 1].check(plan.thresholds)
        if summaries.count == 2 {
            var trials: [[TrialRecord]] = []
            for id in runIDs { trials.append(try await store.trials(runID: id)) }
            check = RegressionCheck(
                baseline: Baseline(run: summaries[0].run, trials: trials[0]),
                candidate: Baseline(run: summaries[1].run, trials: trials[1]),
                tolerance: plan.tolerance, tolerances: plan.metricTolerances, seed: plan.seed)
        }
        self.summaries = summaries
        healths = summaries.map { $0.health(maxInvalidShare: plan.maxInvalidShare) }
        if plan.outputs.html != nil {
            // Also for an interrupted run: the report says what was measured.
            var data = try await ReportData.load(summaries[summaries.count - 1].run, from: store)
            data.summary.checks = summaries[summaries.count - 1].checks
            let baseline = summaries.count == 2 ? try await ReportData.load(summaries[0].run, from: store) : nil
            reportData = (data, baseline)
        } else {
            reportData = nil
        }
    }

    /// What the run measured, for the renderers: the summaries (thresholds judged on the last),
    /// the A/B check, the HTML report's data.
    package var report: Report {
        Report(
            summaries: summaries, healths: healths, check: check, thresholds: summaries.last?.checks ?? [],
            database: storePath,
            charts: reportData)
    }

    /// Writes what the plan's outputs ask for — the table or one JSON object on stdout, the
    /// Markdown, JUnit and HTML files — and says on stderr what a reader must know (notes,
    /// problems, failed thresholds). Returns how the run ends.
    /// - Throws: `RunInputError` when a file cannot be written.
    package func write() throws -> Status {
        let outputs = plan.outputs
        let report = self.report
        if outputs.json {
            print(JSONRenderer().render(report), terminator: "")
            if !outputs.quiet { Terminal.error(TableRenderer().render(report)) }
        } else {
            print(TableRenderer().render(report), terminator: "")
        }
        if let html = outputs.html, report.charts != nil {
            do throws(OutputFiles.Failure) {
                try OutputFiles.write(HTMLRenderer().render(report), to: html, what: "the HTML report")
            } catch {
                throw RunInputError(error.message)
            }
            if !outputs.quiet { Terminal.error("ttfa: report written to \(html)\n") }
        }
        if interrupted { return .interrupted }
        if storeFailed { return .storeFailed }
        do {
            try OutputFiles.write(
                markdown: outputs.markdown, MarkdownRenderer().render(report), junit: outputs.junit,
                JUnitRenderer().render(report))
        } catch {
            throw RunInputError(error.message)
        }
        if !outputs.quiet {
            for (summary, health) in zip(summaries, healths) {
                let who = summaries.count == 1 ? "" : "run \(summary.run.id!): "
                for note in health.notes { Terminal.error("ttfa: note: \(who)\(note)\n") }
                for problem in health.problems { Terminal.error("ttfa: \(who)\(problem)\n") }
            }
        }
        let failedChecks = summaries.last!.checks.filter { !$0.passed }
        if !failedChecks.isEmpty || !(check?.regressed.isEmpty ?? true) {
            if !outputs.quiet {
                if !failedChecks.isEmpty {
                    Terminal.error(
                        "ttfa: \(Format.count(failedChecks.count, "threshold")) failed: \(failedChecks.map(\.threshold.expression).joined(separator: "; "))\n"
                    )
                }
                if let check, !check.regressed.isEmpty {
                    Terminal.error(
                        "ttfa: the candidate regressed: \(check.regressed.map(\.metric).joined(separator: ", "))\n")
                }
            }
            return .checkFailed
        }
        return healths.allSatisfy(\.passed) ? .success : .trialsFailed
    }
}
