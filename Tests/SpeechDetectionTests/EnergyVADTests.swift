import Foundation
import SpeechDetection
import Testing

@Suite("Voice activity detection")
struct EnergyVADTests {
    /// PCM16 24 kHz: `speechMs` of a loud tone after `leadMs` of silence, then `trailMs` of silence.
    func pcm(leadMs: Int = 0, speechMs: Int, trailMs: Int = 0) -> [UInt8] {
        var pcm = [UInt8](repeating: 0, count: leadMs * 48)
        for n in 0..<(speechMs * 24) {
            let sample = Int16(8000 * sin(2 * Double.pi * 200 * Double(n) / 24_000))
            pcm += [UInt8(truncatingIfNeeded: sample), UInt8(truncatingIfNeeded: sample >> 8)]
        }
        return pcm + [UInt8](repeating: 0, count: trailMs * 48)
    }

    @Test func theDetectorFindsSpeechAndTheSilenceThatEndsIt() {
        var vad = EnergyVAD(parameters: .init(threshold: 0.5, prefixPaddingMs: 300, silenceDurationMs: 200))
        let pcm = pcm(leadMs: 100, speechMs: 300, trailMs: 400)
        var events: [EnergyVAD.Event] = []
        for start in stride(from: 0, to: pcm.count, by: 960) {
            events += vad.feed(pcm[start..<min(start + 960, pcm.count)])
        }
        #expect(events == [.speechStarted(atMs: 100), .speechStopped(atMs: 400, detectedAtMs: 600)])
        #expect(EnergyVAD.lastSpeechEndMs(pcm) == 400)
    }

}
