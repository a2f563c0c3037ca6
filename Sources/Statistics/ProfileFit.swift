import Foundation
import ReferenceServer
import Storage

/// Derives a deployment profile from a run measured against a real endpoint, so its behaviour
/// can be replayed by the reference server under other network conditions (`--link`).
///
/// From every measured `ok` trial of one transport it takes the endpoint's **server time**: first
/// audio minus the moment the request had left the client (SSE: the request body handed to the
/// socket; WebSocket: the end of speech plus the commit's framing). That time still contains
/// the round trip of the network the run was measured on; `rttMs` subtracts a known one. With
/// several recording lengths, a least-squares line through server time against audio length
/// gives the ingest cost per second of audio (kept only when positive); what remains is the
/// model's time to first audio, fitted as a log-normal from the mean and spread of its
/// logarithms. The answer's pacing comes from the audio events: their size, the answer's length,
/// and how fast it arrived.
package struct ProfileFit: Sendable {
    package var profile: DeploymentProfile
    /// Trials the fit used.
    package var trials: Int
    /// The server times it saw, milliseconds: median and 95th percentile (empirical).
    package var serverMedianMs: Double
    package var serverP95Ms: Double

    package enum Problem: Error, CustomStringConvertible {
        case tooFewTrials(transport: String, ok: Int)

        package var description: String {
            switch self {
            case .tooFewTrials(let transport, let ok):
                "\(transport) has \(ok) ok trials with first audio in this run; a fit needs at least 5 (measure more with ttfa run --trials N)"
            }
        }
    }

    package init(trials all: [TrialRecord], transport: String, name: String, rttMs: Double = 0) throws(Problem) {
        let trials = all.filter { $0.isMeasuredOK && $0.transport == transport && $0.firstAudioNs != nil }
        var points: [(seconds: Double, serverMs: Double)] = []
        for trial in trials {
            let left = trial.uploadDoneNs ?? (trial.speechEndNs + (trial.encodeNs ?? 0))
            let serverMs = Double(trial.firstAudioNs! - left) / 1e6 - rttMs
            points.append((Double(trial.recordingNs) / 1e9, max(1, serverMs)))
        }
        guard points.count >= 5 else { throw .tooFewTrials(transport: transport, ok: points.count) }
        self.trials = points.count
        let sortedServer = points.map(\.serverMs).sorted()
        serverMedianMs = Summary.percentile(sortedServer, 0.5)
        serverP95Ms = Summary.percentile(sortedServer, 0.95)

        // Ingest: the slope of server time over audio length, when lengths differ.
        var ingest = 0.0
        let xs = points.map(\.seconds)
        if let low = xs.min(), let high = xs.max(), high - low > 0.5 {
            let meanX = xs.reduce(0, +) / Double(xs.count)
            let meanY = points.map(\.serverMs).reduce(0, +) / Double(points.count)
            let sxy = points.reduce(0) { $0 + ($1.seconds - meanX) * ($1.serverMs - meanY) }
            let sxx = xs.reduce(0) { $0 + ($1 - meanX) * ($1 - meanX) }
            ingest = max(0, sxy / sxx)
        }
        let model = points.map { max(1, $0.serverMs - ingest * $0.seconds) }
        let logs = model.map { log($0) }
        let mu = logs.reduce(0, +) / Double(logs.count)
        let sigma = (logs.reduce(0) { $0 + ($1 - mu) * ($1 - mu) } / Double(max(1, logs.count - 1))).squareRoot()
        let median = exp(mu)
        let p95 = exp(mu + 1.644_853_627 * sigma)

        // Pacing, from the audio events.
        let okWithAudio = trials.filter { $0.audioEvents > 0 }
        let deltaMs = Summary.median(okWithAudio.map { Double($0.audioBytes) / Double($0.audioEvents) / 48 })
        let answerMs = Summary.median(okWithAudio.map { Double($0.audioBytes) / 48 })
        let spans = okWithAudio.compactMap { t -> Double? in
            guard let first = t.firstAudioNs, let last = t.lastAudioNs, t.audioEvents > 1 else { return nil }
            let span = Double(last - first) / 1e6
            let audioAfterFirst = Double(t.audioBytes) / 48 * Double(t.audioEvents - 1) / Double(t.audioEvents)
            return span > 1 ? audioAfterFirst / span : nil
        }
        let realTimeFactor = spans.isEmpty ? 0 : Summary.median(spans)

        profile = DeploymentProfile(
            name: name,
            description:
                "fitted from \(points.count) \(transport) trials: server time median \(Int(serverMedianMs.rounded())) ms, p95 \(Int(serverP95Ms.rounded())) ms"
                + (rttMs > 0
                    ? " after subtracting a \(rttMs) ms round trip" : " (including the measured network's round trip)"),
            edge: nil,
            ingestMsPerAudioSecond: (ingest * 10).rounded() / 10,
            firstAudio: .logNormal(median: (median * 10).rounded() / 10, p95: (max(p95, median) * 10).rounded() / 10),
            answer: AnswerPacing(
                audioMs: max(100, Int(answerMs.rounded())), deltaMs: max(10, Int(deltaMs.rounded())),
                realTimeFactor: (realTimeFactor * 100).rounded() / 100, transcriptChunksBeforeAudio: 1))
    }
}
