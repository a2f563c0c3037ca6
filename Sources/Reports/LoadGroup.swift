import Foundation
import Statistics
import Storage
import TTFASupport

/// The runs of one load group (`ttfa run --group NAME`, from any number of machines writing to
/// one database) as one report: their trials merged — every duration was measured on the
/// machine that made the request, so clocks never need to agree — and what each run
/// contributed.
public struct LoadGroup: Sendable {
    public var name: String
    public var runs: [RunRecord]
    /// Every trial of every run, run by run.
    public var trials: [TrialRecord]

    /// One run's share.
    public struct Contribution: Sendable {
        public var run: RunRecord
        public var trials: Int
        public var ok: Int
        public var failed: Int
        public var invalid: Int
        /// p50 TTFA (ms) of its measured ok trials, per transport.
        public var p50: [(transport: String, ms: Double?)]
    }

    /// The group's runs and trials; nil when no run has joined it.
    public static func load(_ name: String, from store: any ResultsStore) async throws -> LoadGroup? {
        let runs = try await store.runs(group: name)
        guard !runs.isEmpty else { return nil }
        var trials: [TrialRecord] = []
        for run in runs { trials += try await store.trials(runID: run.id!) }
        return LoadGroup(name: name, runs: runs, trials: trials)
    }

    /// The runs as one: the first run's configuration, every machine's name, the group's span
    /// of time; `complete` only when every run is.
    public var mergedRun: RunRecord {
        var run = runs[0]
        var hosts: [String] = []
        for r in runs where !hosts.contains(r.hostname) { hosts.append(r.hostname) }
        run.hostname = hosts.joined(separator: ", ")
        run.label = "group \(name) (runs \(runs.compactMap(\.id).map(String.init).joined(separator: ", ")))"
        run.status = runs.allSatisfy { $0.status == .complete } ? .complete : (runs.contains { $0.status == .running } ? .running : .interrupted)
        run.startedAt = runs.map(\.startedAt).min() ?? run.startedAt
        run.endedAt = runs.contains { $0.endedAt == nil } ? nil : runs.compactMap(\.endedAt).max()
        return run
    }

    public var summary: RunSummary { RunSummary(run: mergedRun, trials: trials) }

    public var contributions: [Contribution] {
        runs.map { run in
            let own = trials.filter { $0.runID == run.id }
            var transports: [String] = []
            for t in own where !transports.contains(t.transport) { transports.append(t.transport) }
            return Contribution(
                run: run, trials: own.count, ok: own.filter { $0.status == .ok }.count,
                failed: own.filter(\.isFailure).count, invalid: own.filter { $0.status == .invalid }.count,
                p50: transports.map { name in
                    let values = own.filter { $0.transport == name && $0.isMeasuredOK }.compactMap(\.ttfaNs).map { Double($0) / 1e6 }
                    return (name, values.isEmpty ? nil : Summary.median(values))
                })
        }
    }

    /// Which machine contributed what, as a table (terminal) or Markdown.
    public func contributionsText(markdown: Bool) -> String {
        let header = ["run", "machine", "status", "trials", "ok", "failed", "invalid", "p50 TTFA"]
        let rows = contributions.map { c in
            [String(c.run.id ?? 0), c.run.hostname, c.run.status.rawValue, String(c.trials), String(c.ok), String(c.failed), String(c.invalid),
             c.p50.map { "\($0.transport) \($0.ms.map { String(format: "%.1f ms", $0) } ?? "–")" }.joined(separator: ", ")]
        }
        let total = contributions.reduce(0) { $0 + $1.trials }
        let title = "Load group \(name): \(runs.count) run\(runs.count == 1 ? "" : "s") on \(Set(runs.map(\.hostname)).count) machine\(Set(runs.map(\.hostname)).count == 1 ? "" : "s"), \(total) trials merged"
        if markdown {
            var text = "### \(title)\n\n| " + header.joined(separator: " | ") + " |\n|" + header.map { _ in "---" }.joined(separator: "|") + "|\n"
            for row in rows { text += "| " + row.map { $0.replacingOccurrences(of: "|", with: "\\|") }.joined(separator: " | ") + " |\n" }
            return text + "\n"
        }
        let widths = header.indices.map { i in ([header[i]] + rows.map { $0[i] }).map(\.count).max()! }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { i, cell in cell.padding(toLength: widths[i], withPad: " ", startingAt: 0) }.joined(separator: "  ")
                .trimmingCharacters(in: .whitespaces)
        }
        return ([title, line(header)] + rows.map(line)).joined(separator: "\n") + "\n\n"
    }

    /// The contributions as JSON.
    public var contributionsJSON: JSONValue {
        .object([
            ("name", .string(name)),
            ("runs", .array(contributions.map { c in
                .object([
                    ("run_id", .int(c.run.id ?? 0)), ("hostname", .string(c.run.hostname)), ("status", .string(c.run.status.rawValue)),
                    ("started_at", .string(c.run.startedAt)), ("trials", .int(Int64(c.trials))), ("ok", .int(Int64(c.ok))),
                    ("failed", .int(Int64(c.failed))), ("invalid", .int(Int64(c.invalid))),
                    ("p50_ms", .object(c.p50.map { ($0.transport, $0.ms.map { .double(($0 * 1000).rounded() / 1000) } ?? .null) })),
                ])
            })),
            ("trials", .int(Int64(trials.count))),
        ])
    }
}
