import DialectSpec

/// Converts a recording (PCM16 mono 24 kHz) to the format a dialect's endpoint takes:
/// resampled with libsoxr (never by hand), then μ-law coded when asked. The whole utterance is
/// converted at once and cut where the original chunks were cut, so no chunk boundary sees a
/// resampler's edge.
package enum AudioConverter {
    /// `chunks` (PCM16 24 kHz, consecutive pieces of one utterance) in `format`, one piece per
    /// chunk, each covering the same stretch of time.
    package static func convert(chunks: [[UInt8]], to format: AudioFormat) throws(TransportError) -> [[UInt8]] {
        guard format != .pcm16At24k else { return chunks }
        let whole = try convert(chunks.flatMap { $0 }, to: format)
        var pieces: [[UInt8]] = []
        pieces.reserveCapacity(chunks.count)
        var inputOffset = 0
        var outputOffset = 0
        for (index, chunk) in chunks.enumerated() {
            inputOffset += chunk.count / 2
            // Sample boundary in the output that corresponds to the end of this chunk.
            var end =
                index == chunks.count - 1
                ? whole.count
                : Int((Int64(inputOffset) * Int64(format.rate) / 24_000)) * format.bytesPerSample
            end = min(max(end, outputOffset), whole.count)
            pieces.append(Array(whole[outputOffset..<end]))
            outputOffset = end
        }
        return pieces
    }

    /// A whole PCM16 24 kHz utterance in `format` (`wav`: a WAV file of PCM16 24 kHz).
    package static func convert(_ pcm: [UInt8], to format: AudioFormat) throws(TransportError) -> [UInt8] {
        switch format.encoding {
        case .wav:
            return WAVFile.encode(pcm: pcm)
        case .pcm16, .mulaw:
            var samples = pcm
            if format.rate != 24_000 {
                samples = try resample(pcm, to: format.rate)
            }
            return format.encoding == .mulaw ? G711.encode(pcm16: samples) : samples
        }
    }

    /// PCM16 24 kHz → PCM16 at `rate` (libsoxr, high quality).
    static func resample(_ pcm: [UInt8], to rate: Int) throws(TransportError) -> [UInt8] {
        var floats = [Float]()
        floats.reserveCapacity(pcm.count / 2)
        var index = 0
        while index + 1 < pcm.count {
            floats.append(Float(Int16(bitPattern: UInt16(pcm[index]) | UInt16(pcm[index + 1]) << 8)) / 32767)
            index += 2
        }
        return AudioDecoder.pcm16(try AudioDecoder.resample(floats, from: 24_000, to: rate))
    }
}
