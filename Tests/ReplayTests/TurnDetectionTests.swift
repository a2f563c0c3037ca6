import Foundation
import SpeechDetection
import TestSupport
import Testing
import VoiceTransport

@testable import Replay
@testable import Storage
@testable import TTFASupport

@Suite("Voice activity detection")
struct TurnDetectionTests {
    /// `speechMs` of a loud tone after `leadMs` of silence, then `trailMs` of silence.
    func recording(leadMs: Int = 0, speechMs: Int, trailMs: Int = 0) -> Recording {
        var pcm = [UInt8](repeating: 0, count: leadMs * 48)
        for n in 0..<(speechMs * 24) {
            let sample = Int16(8000 * sin(2 * Double.pi * 200 * Double(n) / 24_000))
            pcm += [UInt8(truncatingIfNeeded: sample), UInt8(truncatingIfNeeded: sample >> 8)]
        }
        pcm += [UInt8](repeating: 0, count: trailMs * 48)
        return Recording(name: "tone", pcm: pcm)
    }

    @Test func withVADTheMicrophoneKeepsRecordingUntilTheWindowPassed() {
        let tone = recording(speechMs: 300)
        let ms: Int64 = 1_000_000
        let server = TurnRunner.plan(
            tone, turn: 1, chunkMs: 50, start: 0, vad: .init(silenceDurationMs: 300), serverDetects: true)
        #expect(server.speechEnd == 300 * ms, "TTFA is measured from the end of speech")
        #expect(server.endOfSpeechDue == 300 * ms, "the WebSocket only marks it: the server decides")
        #expect(server.chunks.last!.due >= (300 + 300) * ms, "silence keeps flowing until the server's window passed")
        #expect(server.requiredChunks == 6, "the utterance itself")
        let client = TurnRunner.plan(
            tone, turn: 1, chunkMs: 50, start: 0, vad: .init(silenceDurationMs: 300), serverDetects: false)
        #expect(
            client.endOfSpeechDue == 600 * ms, "the SSE client's own detector closes the window at 600 ms, then uploads"
        )
        #expect(client.chunks.last!.due == 600 * ms, "and stops recording")
        let manual = TurnRunner.plan(tone, turn: 1, chunkMs: 50, start: 0, vad: nil, serverDetects: true)
        #expect(manual.endOfSpeechDue == 300 * ms && manual.chunks.count == 6)
    }
}
