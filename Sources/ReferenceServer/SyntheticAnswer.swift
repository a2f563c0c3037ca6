import Foundation
import Synchronization

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
        let deltas = stride(from: 0, to: pcm.count, by: deltaBytes).map {
            Array(pcm[$0..<min($0 + deltaBytes, pcm.count)])
        }
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
    /// A fresh id (`resp_…`, `event_…`): 20 base-36 characters from SplitMix64 over a counter
    /// seeded once from the system's generator. Unique, not secret — and no system call per
    /// character, which at thousands of sessions would show up in the server's own latency.
    static func id(_ prefix: String) -> String {
        let n = idCounter.wrappingAdd(1, ordering: .relaxed).oldValue
        var a = splitMix(idSeed &+ n &* 0x9E37_79B9_7F4A_7C15)
        var b = splitMix(a ^ idSeed)
        let alphabet = Array("abcdefghijklmnopqrstuvwxyz0123456789".utf8)
        var out = [UInt8](repeating: 0, count: 20)
        for index in 0..<20 {
            if index == 10 { a = b }
            out[index] = alphabet[Int(a % 36)]
            a /= 36
        }
        return prefix + String(decoding: out, as: UTF8.self)
    }

    private static let idSeed = UInt64.random(in: .min ... .max)
    private static let idCounter = Atomic<UInt64>(0)

    private static func splitMix(_ x: UInt64) -> UInt64 {
        var z = x &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// `object` as JSON text, as `JSONSerialization` writes it with `.withoutEscapingSlashes`
    /// (keys in the dictionary's order, UTF-8 unescaped) — written directly, because Foundation's
    /// writer escapes character by character, and audio deltas are most of what the server
    /// writes. Strings that need no escaping (base64 audio) are copied whole.
    static func json(_ object: [String: Any]) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        write(object, into: &out)
        return String(decoding: out, as: UTF8.self)
    }

    private static func write(_ value: Any, into out: inout [UInt8]) {
        switch value {
        case let string as String:
            write(string: string, into: &out)
        case let dictionary as [String: Any]:
            out.append(UInt8(ascii: "{"))
            var first = true
            for (key, element) in dictionary {
                if !first { out.append(UInt8(ascii: ",")) }
                first = false
                write(string: key, into: &out)
                out.append(UInt8(ascii: ":"))
                write(element, into: &out)
            }
            out.append(UInt8(ascii: "}"))
        case let array as [Any]:
            out.append(UInt8(ascii: "["))
            for (index, element) in array.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                write(element, into: &out)
            }
            out.append(UInt8(ascii: "]"))
        case is NSNull:
            out.append(contentsOf: "null".utf8)
        case let bool as Bool where type(of: value) == Bool.self:
            out.append(contentsOf: (bool ? "true" : "false").utf8)
        case let int as Int where type(of: value) == Int.self:
            out.append(contentsOf: String(int).utf8)
        case Optional<Any>.none:
            out.append(contentsOf: "null".utf8)
        default:
            // Numbers of other types (NSNumber from a parsed request, Double, Int64): exactly
            // as Foundation writes them.
            let data =
                (try? JSONSerialization.data(withJSONObject: [value], options: [.withoutEscapingSlashes]))
                ?? Data("[null]".utf8)
            out.append(contentsOf: data.dropFirst().dropLast())
        }
    }

    private static func write(string: String, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        var string = string
        let plain = string.withUTF8 { bytes in
            for byte in bytes where byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") {
                return false
            }
            out.append(contentsOf: bytes)
            return true
        }
        if !plain {
            let utf8 = string.utf8
            for byte in utf8 {
                switch byte {
                case UInt8(ascii: "\""): out.append(contentsOf: "\\\"".utf8)
                case UInt8(ascii: "\\"): out.append(contentsOf: "\\\\".utf8)
                case 0x0A: out.append(contentsOf: "\\n".utf8)
                case 0x0D: out.append(contentsOf: "\\r".utf8)
                case 0x09: out.append(contentsOf: "\\t".utf8)
                case 0x08: out.append(contentsOf: "\\b".utf8)
                case 0x0C: out.append(contentsOf: "\\f".utf8)
                case ..<0x20:
                    let hex = Array("0123456789abcdef".utf8)
                    out.append(contentsOf: "\\u00".utf8)
                    out.append(hex[Int(byte >> 4)])
                    out.append(hex[Int(byte & 0x0F)])
                default: out.append(byte)
                }
            }
        }
        out.append(UInt8(ascii: "\""))
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
