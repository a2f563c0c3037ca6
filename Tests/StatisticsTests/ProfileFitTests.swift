import Foundation
import ReferenceServer
import TestSupport
import Testing

@testable import Statistics
@testable import Storage
@testable import TTFASupport

@Suite("Fitting a profile to a measured run")
struct ProfileFitTests {
    /// SSE trials whose server time is `ingest` ms per second of audio plus a known log-normal.
    func trials(ingest: Double, model: Distribution, count: Int) -> [TrialRecord] {
        let truth = DeploymentProfile(
            name: "truth", description: "", edge: nil, ingestMsPerAudioSecond: 0, firstAudio: model,
            answer: AnswerPacing(audioMs: 1200, deltaMs: 100, realTimeFactor: 1.5, transcriptChunksBeforeAudio: 1))
        return (1...count).map { n in
            let seconds = [1.0, 4.0, 10.0][n % 3]
            let server = ingest * seconds + truth.plan(sequence: n, audioSeconds: 0).modelMs
            var t = sampleTrial(runID: 1, seq: n, transport: "sse", ttfaMs: nil)
            t.recordingNs = Int64(seconds * 1e9)
            t.speechEndNs = t.recordingNs
            t.uploadDoneNs = t.speechEndNs + 30_000_000
            t.firstAudioNs = t.uploadDoneNs! + Int64(server * 1e6)
            t.ttfaNs = t.firstAudioNs! - t.speechEndNs
            t.audioBytes = 57_600  // 1.2 s in 12 deltas, delivered over 733 ms: 1.5x real time
            t.audioEvents = 12
            t.lastAudioNs = t.firstAudioNs! + 733_333_333
            return t
        }
    }

    @Test func itRecoversIngestModelAndPacing() throws {
        let fit = try ProfileFit(
            trials: trials(ingest: 50, model: .logNormal(median: 700, p95: 1100), count: 300), transport: "sse",
            name: "fitted")
        #expect(abs(fit.profile.ingestMsPerAudioSecond - 50) < 5, "\(fit.profile.ingestMsPerAudioSecond)")
        guard case .logNormal(let median, let p95) = fit.profile.firstAudio else {
            Issue.record("not log-normal")
            return
        }
        #expect(abs(median - 700) / 700 < 0.05, "median \(median)")
        #expect(abs(p95 - 1100) / 1100 < 0.07, "p95 \(p95)")
        #expect(fit.profile.answer.deltaMs == 100 && fit.profile.answer.audioMs == 1200)
        #expect(abs(fit.profile.answer.realTimeFactor - 1.5) < 0.05)
    }

    @Test func tooFewTrialsIsAClearError() {
        #expect(throws: ProfileFit.Problem.self) {
            try ProfileFit(trials: trials(ingest: 0, model: .fixed(100), count: 3), transport: "sse", name: "x")
        }
    }
}
