import Foundation
import Statistics
import Storage
import TTFASupport

/// What a report draws from one stored run: its summary, its trials, and the timeline of each
/// transport's median trial.
package struct ReportData: Sendable {
    package var summary: RunSummary
    package var trials: [TrialRecord]
    /// Per transport: its median ok trial (the lower median) and that trial's events.
    package var timelines: [(transport: String, trial: TrialRecord, events: [TrialEventRecord])]

    package init(
        summary: RunSummary, trials: [TrialRecord],
        timelines: [(transport: String, trial: TrialRecord, events: [TrialEventRecord])]
    ) {
        self.summary = summary
        self.trials = trials
        self.timelines = timelines
    }

    /// Reads a run and what its charts need from a store.
    package static func load(_ run: RunRecord, from store: any ResultsStore) async throws -> ReportData {
        let trials = try await store.trials(runID: run.id!)
        let summary = RunSummary(run: run, trials: trials)
        var timelines: [(String, TrialRecord, [TrialEventRecord])] = []
        for t in summary.transports {
            guard let median = medianTrial(trials, transport: t.transport), let id = median.id else { continue }
            timelines.append((t.transport, median, try await store.events(trialID: id)))
        }
        return ReportData(summary: summary, trials: trials, timelines: timelines)
    }

    /// A report of trials from several runs (a load group) under one merged summary.
    package static func load(merged summary: RunSummary, trials: [TrialRecord], from store: any ResultsStore)
        async throws -> ReportData
    {
        var timelines: [(String, TrialRecord, [TrialEventRecord])] = []
        for t in summary.transports {
            guard let median = medianTrial(trials, transport: t.transport), let id = median.id else { continue }
            timelines.append((t.transport, median, try await store.events(trialID: id)))
        }
        return ReportData(summary: summary, trials: trials, timelines: timelines)
    }

    /// The ok measured trial with the (lower) median TTFA of a transport.
    static func medianTrial(_ trials: [TrialRecord], transport: String) -> TrialRecord? {
        let ok = trials.filter { $0.transport == transport && $0.isMeasuredOK && $0.ttfaNs != nil }.sorted {
            $0.ttfaNs! < $1.ttfaNs!
        }
        return ok.isEmpty ? nil : ok[(ok.count - 1) / 2]
    }

    /// Where the median trial's time went: the server-side breakdown when the run measured the
    /// embedded server, otherwise the client's own milestones. The parts add up to its TTFA.
    func waterfallRow(_ t: TransportSummary, label: String) -> ReportCharts.WaterfallRow? {
        if let b = t.breakdown {
            return .init(label: label, trialSeq: b.trial, ttfaMs: b.ttfaMs, segments: b.parts)
        }
        guard let trial = Self.medianTrial(trials, transport: t.transport), let ttfa = trial.ttfaNs else { return nil }
        let ms = { (ns: Int64?) in ns.map { Double($0) / 1e6 } }
        let afterSpeech = { (ns: Int64?) in ns.map { Double($0 - trial.speechEndNs) / 1e6 } }
        let total = Double(ttfa) / 1e6
        let marks: [(String, Double?)] = [
            ("encode", ms(trial.encodeNs)), ("upload", afterSpeech(trial.uploadDoneNs)),
            ("response_headers", afterSpeech(trial.responseHeadersNs)),
            ("first_byte", afterSpeech(trial.firstByteNs)), ("first_audio", total),
        ]
        var segments: [(String, Double)] = []
        var previous = 0.0
        for (name, mark) in marks {
            guard let mark else { continue }
            let at = min(max(mark, previous), total)
            segments.append((name, at - previous))
            previous = at
        }
        return .init(label: label, trialSeq: trial.seq, ttfaMs: total, segments: segments)
    }
}
