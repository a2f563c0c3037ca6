import Testing
@testable import Harness
import VoiceTransport

@Suite("Per-trial metrics")
struct TrialMetricsTests {
    let ms: Int64 = 1_000_000
    let start: Int64 = 1_000_000_000

    func timeline(_ events: [(Int64, TransportEvent)], outcome: TurnOutcome = .ok, speechMs: Int64 = 1000) -> TurnTimeline {
        TurnTimeline(start: start, speechEnd: start + speechMs * ms, chunkMs: 50,
                     events: events.map { TimedEvent(t: start + $0.0 * ms, $0.1) }, outcome: outcome)
    }

    @Test func ttfaIsAnchoredToTheScheduledSpeechEndNotToWhenTheLastByteLeft() {
        // Speech end scheduled at 1000 ms; the commit left 3 ms late; audio arrived at 1300 ms.
        let t = timeline([
            (1003, .speechEnd(scheduled: start + 1000 * ms, lagNs: 3 * ms)),
            (1100, .webSocketMessage(.text("{}"))),
            (1300, .audio(bytes: 4800)),
            (1400, .turnEnd),
        ])
        let m = TrialMetrics(timeline: t, lagBudgetNs: 5 * ms)
        #expect(m.ttfaNs == 300 * ms)
        #expect(m.firstEventNs == 1100 * ms)
        #expect(m.maxSendLagNs == 3 * ms)
        #expect(m.status == "ok")
    }

    @Test func lagBeyondTheBudgetMakesTheTrialInvalid() {
        let t = timeline([
            (0, .chunkSent(index: 0, scheduled: start, lagNs: 0)),
            (58, .chunkSent(index: 1, scheduled: start + 50 * ms, lagNs: 8 * ms)),
            (1000, .speechEnd(scheduled: start + 1000 * ms, lagNs: 0)),
            (1300, .audio(bytes: 4800)),
            (1301, .turnEnd),
        ])
        let m = TrialMetrics(timeline: t, lagBudgetNs: 5 * ms)
        #expect(m.status == "invalid")
        #expect(m.errorMessage?.contains("late") == true)
        #expect(m.chunksSent == 2)
    }

    @Test func waitingForAColdConnectionIsNotHarnessLag() {
        // Chunks queued while the connection opened leave when it opens (at 40 ms).
        let t = timeline([
            (5, .connected(ConnectTimings(dnsNs: 1 * ms, connectNs: 2 * ms, tlsNs: nil, reused: false))),
            (40, .webSocketOpen(upgradeNs: 30 * ms)),
            (40, .chunkSent(index: 0, scheduled: start, lagNs: 40 * ms)),
            (1000, .speechEnd(scheduled: start + 1000 * ms, lagNs: 0)),
            (1300, .audio(bytes: 4800)),
            (1301, .turnEnd),
        ])
        let m = TrialMetrics(timeline: t, lagBudgetNs: 5 * ms)
        #expect(m.status == "ok")
        #expect(m.maxSendLagNs == 0)
        #expect(m.upgradeNs == 30 * ms && m.dnsNs == 1 * ms && m.connectionReused == false)
    }

    @Test func failuresAreFailuresEvenWithAudio() {
        let t = timeline([(1000, .speechEnd(scheduled: start + 1000 * ms, lagNs: 0)), (1100, .audio(bytes: 4800))],
                         outcome: .failed(TransportError(.closed, "dropped")))
        let m = TrialMetrics(timeline: t, lagBudgetNs: 5 * ms)
        #expect(m.status == "closed" && m.errorKind == "closed")
        #expect(m.ttfaNs == 100 * ms, "kept for diagnosis; statistics use ok trials only")
    }

    @Test func playbackUnderrunsCountWhenAudioArrivesAfterTheBufferRanDry() {
        // 100 ms chunks at 0, 50 (early: fine), 400 (buffer ran dry at 200: 200 ms stall), 450.
        let result = TrialMetrics.playback([(0, 4800), (50 * ms, 4800), (400 * ms, 4800), (450 * ms, 4800)])
        #expect(result.count == 1)
        #expect(result.stallNs == 200 * ms)
        #expect(TrialMetrics.playback([(0, 4800), (100 * ms, 4800), (200 * ms, 4800)]).count == 0)
    }
}
