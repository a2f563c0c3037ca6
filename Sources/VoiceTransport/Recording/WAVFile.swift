import Foundation

/// Reads and writes the one audio format both dialects use: RIFF/WAVE, PCM 16-bit little-endian,
/// mono, 24 000 Hz.
package enum WAVFile {
    package static let sampleRate = 24_000
    package static let bytesPerSample = 2

    /// Parses a WAV file's bytes and returns its PCM samples (little-endian bytes).
    /// - Parameter name: the file's name or path, used in error messages.
    /// - Throws: `TransportError` of kind `input` saying what was found and what is needed.
    package static func decode(_ bytes: [UInt8], name: String) throws(TransportError) -> [UInt8] {
        func fail(_ what: String, convertible: Bool = true) -> TransportError {
            let fix =
                convertible
                ? "convert it with: sox \"\(name)\" -r 24000 -c 1 -b 16 -e signed-integer out.wav"
                : "record or convert the audio to that format (for example with sox)"
            return TransportError(
                .input, "\(name): \(what); ttfa needs a WAV file (RIFF) with 16-bit PCM, mono, 24000 Hz — \(fix)")
        }
        guard bytes.count >= 12 else {
            throw fail(
                bytes.isEmpty ? "the file is empty" : "only \(bytes.count) bytes, too short for a WAV header",
                convertible: false)
        }
        guard bytes[0..<4].elementsEqual("RIFF".utf8) else {
            let magic = String(
                decoding: bytes[0..<4].map { (0x20...0x7E).contains($0) ? $0 : UInt8(ascii: ".") }, as: UTF8.self)
            throw fail(
                bytes[0..<4].elementsEqual("RIFX".utf8)
                    ? "big-endian RIFX is not supported" : "not a WAV file (starts with \"\(magic)\", not \"RIFF\")",
                convertible: bytes[0..<4].elementsEqual("RIFX".utf8))
        }
        guard bytes[8..<12].elementsEqual("WAVE".utf8) else {
            throw fail("a RIFF file but not WAVE", convertible: false)
        }

        var offset = 12
        var format: (tag: Int, channels: Int, rate: Int, bits: Int)?
        while offset + 8 <= bytes.count {
            let id = String(decoding: bytes[offset..<offset + 4], as: UTF8.self)
            let size = Int(readLE32(bytes, offset + 4))
            let body = offset + 8
            switch id {
            case "fmt ":
                guard size >= 16, body + 16 <= bytes.count else { throw fail("truncated fmt chunk") }
                var tag = Int(readLE16(bytes, body))
                let channels = Int(readLE16(bytes, body + 2))
                let rate = Int(readLE32(bytes, body + 4))
                let bits = Int(readLE16(bytes, body + 14))
                if tag == 0xFFFE, size >= 40, body + 26 <= bytes.count {
                    tag = Int(readLE16(bytes, body + 24))  // WAVE_FORMAT_EXTENSIBLE: sub-format GUID's first two bytes
                }
                format = (tag, channels, rate, bits)
            case "data":
                guard let format else { throw fail("data chunk before the fmt chunk") }
                var problems: [String] = []
                if format.tag != 1 {
                    let name =
                        [3: "32-bit float", 6: "A-law", 7: "µ-law", 2: "ADPCM", 0x11: "IMA ADPCM", 0x55: "MP3"][
                            format.tag] ?? "format \(format.tag)"
                    problems.append("encoding is \(name), not PCM")
                }
                if format.bits != 16 { problems.append("\(format.bits)-bit samples, not 16-bit") }
                if format.channels != 1 { problems.append("\(format.channels) channels, not mono") }
                if format.rate != sampleRate { problems.append("\(format.rate) Hz, not 24000 Hz") }
                guard problems.isEmpty else { throw fail(problems.joined(separator: ", ")) }
                let available = bytes.count - body
                if size > available {
                    throw fail("truncated: the header announces \(size) bytes of audio but the file holds \(available)")
                }
                guard size >= bytesPerSample else { throw fail("the data chunk holds no audio") }
                return Array(bytes[body..<body + (size & ~1)])
            default:
                break
            }
            offset = body + size + (size & 1)  // chunks are padded to even sizes
        }
        throw fail(format == nil ? "no fmt chunk" : "no data chunk (truncated?)")
    }

    /// Wraps PCM16 mono 24 kHz samples in a 44-byte WAV header (Chat Completions takes WAV, not raw PCM).
    package static func encode(pcm: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(44 + pcm.count)
        func le32(_ v: Int) {
            out += [UInt8(v & 0xFF), UInt8((v >> 8) & 0xFF), UInt8((v >> 16) & 0xFF), UInt8((v >> 24) & 0xFF)]
        }
        func le16(_ v: Int) { out += [UInt8(v & 0xFF), UInt8((v >> 8) & 0xFF)] }
        out += Array("RIFF".utf8)
        le32(36 + pcm.count)
        out += Array("WAVE".utf8)
        out += Array("fmt ".utf8)
        le32(16)
        le16(1)
        le16(1)
        le32(sampleRate)
        le32(sampleRate * bytesPerSample)
        le16(bytesPerSample)
        le16(16)
        out += Array("data".utf8)
        le32(pcm.count)
        out += pcm
        return out
    }

    private static func readLE16(_ b: [UInt8], _ i: Int) -> UInt16 { UInt16(b[i]) | UInt16(b[i + 1]) << 8 }
    private static func readLE32(_ b: [UInt8], _ i: Int) -> UInt32 {
        UInt32(b[i]) | UInt32(b[i + 1]) << 8 | UInt32(b[i + 2]) << 16 | UInt32(b[i + 3]) << 24
    }
}
