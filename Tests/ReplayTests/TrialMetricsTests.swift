import TestSupport
import Testing
import VoiceTransport

@testable import Replay
@testable import Storage
@testable import TTFASupport

@Suite("Per-trial metrics and the checks before a trial is ok")
struct TrialMetricsTests {
    let ms: Int64 = 1_000_000
    let start: Int64 = 1_000_000_000

    /// A turn of 1000 ms of speech in four 250 ms chunks.
    func timeline(
        _ events: [(Int64, TransportEvent)], outcome: TurnOutcome = .ok, turn: Int = 3, chunks: Int = 4,
        tags: Int? = nil
    ) -> TurnTimeline {
        TurnTimeline(
            turn: turn, start: start, speechEnd: start + 1000 * ms, chunkMs: 250, expectedChunks: chunks,
            events: events.map { TimedEvent(t: start + $0.0 * ms, $0.1, turn: tags) }, outcome: outcome)
    }

    /// A WebSocket turn: chunks on schedule (lags as given), commit, answer at `answerMs`.
    func webSocketTurn(
        chunkLags: [Int64] = [0, 0, 0, 0], endLag: Int64 = 0, answerMs: Int64 = 1300, response: String = "r1"
    ) -> [(Int64, TransportEvent)] {
        var events: [(Int64, TransportEvent)] = chunkLags.enumerated().map { k, lag in
            (
                Int64(k + 1) * 250 + lag,
                .chunkSent(index: k, scheduled: start + Int64(k + 1) * 250 * ms, lagNs: lag * ms, blockedNs: 0)
            )
        }
        events += [
            (1000 + endLag, .speechEnd(scheduled: start + 1000 * ms, lagNs: endLag * ms, blockedNs: 0)),
            (1000 + endLag, .encoded(ns: 20_000)),
            (1010, .responseStarted(id: response)),
            (1100, .webSocketMessage(.text("{}"))),
            (answerMs, .audio(bytes: 4800, response: response)),
            (answerMs + 100, .turnEnd),
        ]
        return events
    }

    @Test func ttfaIsAnchoredToTheScheduledSpeechEndNotToWhenTheLastByteLeft() {
        let m = TrialMetrics(timeline: timeline(webSocketTurn(endLag: 3)), lagBudgetNs: 5 * ms)
        #expect(
            m.ttfaNs == 300 * ms, "audio at 1300 ms, speech end scheduled at 1000 ms; the commit's 3 ms lag is inside")
        #expect(m.firstEventNs == 1100 * ms)
        #expect(m.speechEndLagNs == 3 * ms)
        #expect(m.encodeNs == 20_000)
        #expect(m.responseID == "r1")
        #expect(m.status == .ok)
    }

    @Test func lateMidUtteranceChunksDoNotInvalidateButALateEndOfSpeechDoes() {
        let midLate = TrialMetrics(timeline: timeline(webSocketTurn(chunkLags: [0, 8, 0, 0])), lagBudgetNs: 5 * ms)
        #expect(midLate.status == .ok, "a chunk that is late but caught up before the end cannot move the TTFA")
        #expect(midLate.maxSendLagNs == 8 * ms, "still recorded")

        let lastLate = TrialMetrics(timeline: timeline(webSocketTurn(chunkLags: [0, 0, 0, 8])), lagBudgetNs: 5 * ms)
        #expect(lastLate.status == .invalid)
        #expect(
            lastLate.errorMessage?.contains("last audio chunk (4 of 4) left 8.00 ms late") == true,
            "\(lastLate.errorMessage ?? "")")

        let endLate = TrialMetrics(timeline: timeline(webSocketTurn(endLag: 8)), lagBudgetNs: 5 * ms)
        #expect(endLate.status == .invalid)
        #expect(
            endLate.errorMessage?.contains("end of speech 8.00 ms late (budget 5.00 ms)") == true,
            "\(endLate.errorMessage ?? "")")
    }

    @Test func sseCaptureLagCannotMoveItsTTFASoItNeverInvalidates() {
        var events: [(Int64, TransportEvent)] = (0..<4).map { k in
            (
                Int64(k + 1) * 250 + 40,
                .chunkCaptured(index: k, scheduled: start + Int64(k + 1) * 250 * ms, lagNs: 40 * ms)
            )
        }
        events += [
            (1000, .speechEnd(scheduled: start + 1000 * ms, lagNs: 0, blockedNs: 0)),
            (1300, .audio(bytes: 4800, response: "c")), (1400, .turnEnd),
        ]
        let m = TrialMetrics(timeline: timeline(events, tags: 3), lagBudgetNs: 5 * ms)
        #expect(m.status == .ok)
        #expect(m.maxSendLagNs == 40 * ms)
        #expect(m.speechEndLagNs == 0)
    }

    @Test func timeBlockedOnAFullSocketIsTheNetworksNotTheHarnesss() {
        var events = webSocketTurn()
        events[2] = (750 + 30, .chunkSent(index: 2, scheduled: start + 750 * ms, lagNs: 0, blockedNs: 30 * ms))
        events[4] = (1000, .speechEnd(scheduled: start + 1000 * ms, lagNs: 0, blockedNs: 12 * ms))
        let m = TrialMetrics(timeline: timeline(events), lagBudgetNs: 5 * ms)
        #expect(m.status == .ok)
        #expect(m.uploadBlockedNs == 42 * ms)
    }

    @Test func audioBeforeTheEndOfSpeechIsNeverOK() {
        let m = TrialMetrics(timeline: timeline(webSocketTurn(answerMs: 770)), lagBudgetNs: 5 * ms)
        #expect(m.status == .failed(.protocol))
        #expect(
            m.errorMessage
                == "audio arrived 230 ms before the end of speech — the server answered before the utterance was complete"
        )
    }

    @Test func oneUtteranceOneEndOfSpeechEveryChunk() {
        var twoEnds = webSocketTurn()
        twoEnds.insert((900, .speechEnd(scheduled: start + 900 * ms, lagNs: 0, blockedNs: 0)), at: 4)
        #expect(TrialMetrics(timeline: timeline(twoEnds), lagBudgetNs: 5 * ms).status == .failed(.internal))
        let missingChunk = TrialMetrics(timeline: timeline(webSocketTurn(chunkLags: [0, 0, 0])), lagBudgetNs: 5 * ms)
        #expect(missingChunk.status == .failed(.internal))
        #expect(missingChunk.errorMessage?.contains("3 of the recording's 4 audio chunks") == true)
    }

    @Test func firstAudioMustComeFromThisTrialsOwnRequestAndResponse() {
        var foreign = webSocketTurn()
        foreign[7] = (1300, .audio(bytes: 4800, response: "r0"))
        let otherResponse = TrialMetrics(timeline: timeline(foreign), lagBudgetNs: 5 * ms)
        #expect(otherResponse.status == .failed(.protocol))
        #expect(otherResponse.errorMessage?.contains("response r0, not to this trial's response r1") == true)

        let otherRequest = TrialMetrics(timeline: timeline(webSocketTurn(), turn: 3, tags: 2), lagBudgetNs: 5 * ms)
        #expect(otherRequest.status == .failed(.protocol))
        #expect(otherRequest.errorMessage?.contains("request 2, not from this trial's request 3") == true)
    }

    @Test func anomaliesAreCountedNotCountedAsAudio() {
        var events = webSocketTurn()
        events.insert(
            (1005, .anomaly("audio of response r0 arrived during this turn's response r1; not counted")), at: 6)
        events.insert((1006, .stale(turn: 2, event: .sse(SSEEvent(data: "{}")))), at: 6)
        let m = TrialMetrics(timeline: timeline(events), lagBudgetNs: 5 * ms)
        #expect(m.status == .ok && m.anomalies == 2 && m.audioEvents == 1)
    }

    @Test func failuresAreFailuresEvenWithAudio() {
        let t = timeline(Array(webSocketTurn().prefix(9)), outcome: .failed(TransportError(.closed, "dropped")))
        let m = TrialMetrics(timeline: t, lagBudgetNs: 5 * ms)
        #expect(m.status == .failed(.closed) && m.errorKind == .closed)
        #expect(m.ttfaNs == 300 * ms, "kept for diagnosis; statistics use ok trials only")
    }

    @Test func theMicrophoneHandsChunkKOverAtTheEndOfItsAudio() {
        // 1.1 s at 250 ms: chunks end at 250, 500, 750, 1000 and — the short last one — 1100 ms.
        let recording = Recording(name: "r", pcm: [UInt8](repeating: 0, count: 48 * 1100))
        let chunks = TurnRunner.microphoneSchedule(recording, turn: 7, chunkMs: 250, start: start)
        #expect(chunks.map { ($0.due - start) / ms } == [250, 500, 750, 1000, 1100])
        #expect(chunks.map(\.pcm.count) == [12_000, 12_000, 12_000, 12_000, 4_800])
        #expect(chunks.allSatisfy { $0.turn == 7 })
        #expect(chunks.last!.due == start + recording.durationNs, "the last chunk leaves with the end of speech")
    }

    @Test func playbackUnderrunsCountWhenAudioArrivesAfterTheBufferRanDry() {
        // 100 ms chunks at 0, 50 (early: fine), 400 (buffer ran dry at 200: 200 ms stall), 450.
        let result = TrialMetrics.playback([(0, 4800), (50 * ms, 4800), (400 * ms, 4800), (450 * ms, 4800)])
        #expect(result.count == 1)
        #expect(result.stallNs == 200 * ms)
        #expect(TrialMetrics.playback([(0, 4800), (100 * ms, 4800), (200 * ms, 4800)]).count == 0)
    }
}

@Suite("Audio bursts")
struct AudioBurstTests {
    @Test func clumpsOfEventsArrivingTogetherAreCounted() {
        let ms: Int64 = 1_000_000
        #expect(TrialMetrics.bursts([0, 67, 133, 200].map { $0 * ms }) == 0, "paced audio has none")
        #expect(TrialMetrics.bursts([0, 0, 0, 200 * ms, 200 * ms + 300_000, 400 * ms]) == 2)
        #expect(TrialMetrics.bursts([0, 100_000, 200_000, 300_000]) == 1, "back to back is one clump")
        // A 200 ms flush of deltas paced 67 ms apart, read 1.3 ms apart (a debug build): three clumps.
        let flushes = [505.3, 508.0, 509.3, 510.9, 771.4, 772.8, 774.2, 971.7, 972.9, 974.0, 975.2, 1237.9].map {
            Int64($0 * 1e6)
        }
        #expect(TrialMetrics.bursts(flushes) == 3)
        // Paced deltas whose reads came 3 ms late and early on a busy machine are still paced.
        #expect(TrialMetrics.bursts([0, 70, 130, 203, 264, 336].map { $0 * ms }) == 0)
    }
}
