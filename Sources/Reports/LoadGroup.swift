import Foundation
import Statistics
import Storage
import TTFASupport

/// The runs of one load group (`ttfa run --group NAME`, from any number of machines writing to
/// one database) as one report: their trials merged — every duration was measured on the
/// machine that made the request, so clocks never need to agree — and what each run
/// contributed.
package struct LoadGroup: Sendable {
    package var name: String
    package var runs: [RunRecord]
    /// Every trial of every run, run by run.
    package var trials: [TrialRecord]

    /// One run's share.
    package struct Contribution: Sendable {
        package var run: RunRecord
        package var trials: Int
        package var ok: Int
        package var failed: Int
        package var invalid: Int
        /// p50 TTFA (ms) of its measured ok trials, per transport.
        package var p50: [(transport: String, ms: Double?)]
    }

    /// The group's runs and trials; nil when no run has joined it.
    package static func load(_ name: String, from store: any ResultsStore) async throws -> LoadGroup? {
        let runs = try await store.runs(group: name)
        guard !runs.isEmpty else { return nil }
        var trials: [TrialRecord] = []
        for run in runs { trials += try await store.trials(runID: run.id!) }
        return LoadGroup(name: name, runs: runs, trials: trials)
    }

    /// The runs as one: the first run's configuration, every machine's name, the group's span
    /// of time; `complete` only when every run is.
    package var mergedRun: RunRecord {
        var run = runs[0]
        var hosts: [String] = []
        for r in runs where !hosts.contains(r.hostname) { hosts.append(r.hostname) }
        run.hostname = hosts.joined(separator: ", ")
        run.label = "group \(name) (runs \(runs.compactMap(\.id).map(String.init).joined(separator: ", ")))"
        run.status =
            runs.allSatisfy { $0.status == .complete }
            ? .complete : (runs.contains { $0.status == .running } ? .running : .interrupted)
        run.startedAt = runs.map(\.startedAt).min() ?? run.startedAt
        run.endedAt = runs.contains { $0.endedAt == nil } ? nil : runs.compactMap(\.endedAt).max()
        return run
    }

    package var summary: RunSummary { RunSummary(run: mergedRun, trials: trials) }

    package var contributions: [Contribution] {
        runs.map { run in
            let own = trials.filter { $0.runID == run.id }
            var transports: [String] = []
            for t in own where !transports.contains(t.transport) { transports.append(t.transport) }
            return Contribution(
                run: run, trials: own.count, ok: own.filter { $0.status == .ok }.count,
                failed: own.filter(\.isFailure).count, invalid: own.filter { $0.status == .invalid }.count,
                p50: transports.map { name in
                    let values = own.filter { $0.transport == name && $0.isMeasuredOK }.compactMap(\.ttfaNs).map {
                        Double($0) / 1e6
                    }
                    return (name, values.isEmpty ? nil : Summary.median(values))
                })
        }
    }

}
