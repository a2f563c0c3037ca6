/// WAV files as dialects carry them: PCM16 or μ-law mono at any rate, written in the canonical
/// 44-byte form; read with their chunks walked (`fmt ` anywhere before `data`, other chunks
/// skipped), as a server's or proxy's WAV may carry `LIST` or `fact` chunks.
package enum WAVContainer {
    /// A WAV file holding `audio` (in `format`; `wav` is taken as PCM16 at its rate).
    package static func encode(_ audio: [UInt8], format: AudioFormat) -> [UInt8] {
        let mulaw = format.encoding == .mulaw
        let bytesPerSample = mulaw ? 1 : 2
        var out: [UInt8] = []
        out.reserveCapacity(44 + audio.count)
        func u32(_ v: Int) { out.append(contentsOf: withUnsafeBytes(of: UInt32(v).littleEndian, Array.init)) }
        func u16(_ v: Int) { out.append(contentsOf: withUnsafeBytes(of: UInt16(v).littleEndian, Array.init)) }
        out.append(contentsOf: Array("RIFF".utf8))
        u32(36 + audio.count)
        out.append(contentsOf: Array("WAVE".utf8))
        out.append(contentsOf: Array("fmt ".utf8))
        u32(16)
        u16(mulaw ? 7 : 1)
        u16(1)
        u32(format.rate)
        u32(format.rate * bytesPerSample)
        u16(bytesPerSample)
        u16(bytesPerSample * 8)
        out.append(contentsOf: Array("data".utf8))
        u32(audio.count)
        out.append(contentsOf: audio)
        return out
    }

    package struct Info: Sendable, Equatable {
        /// PCM16 or μ-law at the file's rate (other encodings are not read).
        package var format: AudioFormat
        package var channels: Int
        /// Where the samples are.
        package var data: Range<Int>
        /// Duration in PCM16 24 kHz mono bytes (48 per millisecond).
        package var pcm16At24kBytes: Int {
            format.pcm16At24kBytes(forEncodedBytes: data.count / max(1, channels))
        }
    }

    package struct Problem: Error, CustomStringConvertible {
        package var description: String
    }

    /// Reads a WAV file's header. The data chunk may claim more than is there (a streamed WAV's
    /// 0xFFFFFFFF): what is there counts.
    package static func parse(_ bytes: [UInt8]) throws(Problem) -> Info {
        func u32(_ at: Int) -> Int {
            Int(bytes[at]) | Int(bytes[at + 1]) << 8 | Int(bytes[at + 2]) << 16 | Int(bytes[at + 3]) << 24
        }
        func u16(_ at: Int) -> Int { Int(bytes[at]) | Int(bytes[at + 1]) << 8 }
        guard bytes.count >= 12, bytes[0..<4].elementsEqual("RIFF".utf8), bytes[8..<12].elementsEqual("WAVE".utf8)
        else {
            throw Problem(description: "not a WAV file (no RIFF/WAVE header)")
        }
        var offset = 12
        var format: (tag: Int, channels: Int, rate: Int, bits: Int)?
        while offset + 8 <= bytes.count {
            let id = String(decoding: bytes[offset..<offset + 4], as: UTF8.self)
            let size = u32(offset + 4)
            let body = offset + 8
            if id == "fmt " {
                guard body + 16 <= bytes.count else { throw Problem(description: "the WAV fmt chunk is cut short") }
                format = (u16(body), u16(body + 2), u32(body + 4), u16(body + 14))
            } else if id == "data" {
                guard let format else { throw Problem(description: "the WAV data chunk comes before its fmt chunk") }
                let end = min(bytes.count, size == 0xFFFF_FFFF ? bytes.count : body + size)
                let encoding: AudioEncoding
                switch (format.tag, format.bits) {
                case (1, 16), (0xFFFE, 16): encoding = .pcm16
                case (7, 8): encoding = .mulaw
                default:
                    throw Problem(
                        description:
                            "WAV format tag \(format.tag) with \(format.bits)-bit samples (ttfa reads PCM16 and μ-law)")
                }
                guard format.rate > 0, format.channels > 0 else {
                    throw Problem(description: "the WAV header says \(format.rate) Hz, \(format.channels) channels")
                }
                return Info(
                    format: AudioFormat(encoding, rate: format.rate), channels: format.channels,
                    data: body..<max(body, end))
            }
            offset = body + size + (size & 1)
        }
        throw Problem(description: "the WAV file has no data chunk")
    }
}
