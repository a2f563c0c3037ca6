import Foundation

/// The spoken answer the reference server sends: a voice-like 24 kHz PCM16 signal (harmonics
/// under a syllable-rate envelope) and its transcript, cut into deltas. Built once per profile.
struct SyntheticAnswer: Sendable {
    static let transcript = "Sure. The short answer is that it depends on the network between you and the model."

    /// Base64 PCM16 per delta.
    let audioDeltas: [String]
    /// Transcript pieces, one per audio delta (some empty).
    let transcriptDeltas: [String]

    init(pacing: AnswerPacing) {
        let (deltas, words) = Self.make(pacing: pacing, sampleRate: 24_000)
        audioDeltas = deltas.map { Data($0).base64EncodedString() }
        transcriptDeltas = words
    }

    /// The answer's PCM16 deltas at `sampleRate`, and a transcript piece per delta.
    static func make(pacing: AnswerPacing, sampleRate: Int) -> (pcm: [[UInt8]], transcript: [String]) {
        let totalSamples = sampleRate * pacing.audioMs / 1000
        let samplesPerDelta = sampleRate * pacing.deltaMs / 1000
        var pcm = [UInt8]()
        pcm.reserveCapacity(totalSamples * 2)
        for n in 0..<totalSamples {
            let t = Double(n) / Double(sampleRate)
            let pitch = 140 + 25 * sin(2 * .pi * 0.7 * t)
            let envelope = 0.5 * (1 - cos(2 * .pi * 4 * t))
            var value = 0.0
            for harmonic in 1...4 {
                value += sin(2 * .pi * pitch * Double(harmonic) * t) / Double(harmonic)
            }
            let sample = Int16(max(-32767, min(32767, value * envelope * 6000)))
            pcm.append(UInt8(truncatingIfNeeded: sample))
            pcm.append(UInt8(truncatingIfNeeded: sample >> 8))
        }
        let deltaBytes = max(2, samplesPerDelta * 2)
        let deltas = stride(from: 0, to: pcm.count, by: deltaBytes).map { Array(pcm[$0..<min($0 + deltaBytes, pcm.count)]) }
        let words = Self.transcript.split(separator: " ").map { String($0) + " " }
        let perDelta = max(1, Int((Double(words.count) / Double(max(1, deltas.count))).rounded(.up)))
        let pieces = (0..<deltas.count).map { i -> String in
            let start = i * perDelta
            guard start < words.count else { return "" }
            return words[start..<min(start + perDelta, words.count)].joined()
        }
        return (deltas, pieces)
    }
}

/// Small helpers for ids and JSON.
enum Wire {
    static func id(_ prefix: String) -> String {
        prefix + String((0..<20).map { _ in "abcdefghijklmnopqrstuvwxyz0123456789".randomElement()! })
    }

    static func json(_ object: [String: Any]) -> String {
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.withoutEscapingSlashes])) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self)
    }

    static func object(_ text: String) -> [String: Any]? {
        guard let data = text.data(using: .utf8) else { return nil }
        return (try? JSONSerialization.jsonObject(with: data)) as? [String: Any]
    }

    /// The OpenAI API's error object.
    static func errorObject(message: String, type: String, code: String?, param: String? = nil) -> [String: Any] {
        ["message": message, "type": type, "code": code as Any? ?? NSNull(), "param": param as Any? ?? NSNull()]
    }
}
