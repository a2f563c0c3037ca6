import CSndFile
import CSoxr
import Foundation

/// What a recording was before ttfa converted it, stored with the run.
package struct AudioSource: Sendable, Equatable {
    /// "WAV (Microsoft) / Signed 16 bit PCM", "MPEG-1/2 Audio / MPEG Layer III", "FLAC / 16 bit"…
    package var format: String
    package var sampleRate: Int
    package var channels: Int
    /// What was done to it: "" when it already was PCM16 mono 24 kHz.
    package var conversion: String
}

/// Decodes any audio file libsndfile reads (WAV at any rate and depth, mono or stereo, FLAC,
/// MP3, Ogg/Vorbis …) into what the dialects send — PCM16 mono 24 kHz — downmixing channels
/// by their mean and resampling with libsoxr (high quality), never by hand.
package enum AudioDecoder {
    package static let targetRate = WAVFile.sampleRate

    /// - Throws: `TransportError(.input)` naming the file and what was found.
    package static func decode(path: String) throws(TransportError) -> (pcm: [UInt8], source: AudioSource) {
        var info = SF_INFO()
        guard let file = sf_open(path, Int32(SFM_READ), &info) else {
            let reason = String(cString: sf_strerror(nil))
            throw TransportError(
                .input, "\(path): not an audio file ttfa can read (\(reason)); give WAV, FLAC, MP3 or Ogg")
        }
        defer { sf_close(file) }
        let channels = Int(info.channels)
        let rate = Int(info.samplerate)
        let frames = Int(info.frames)
        guard channels >= 1, rate >= 1000, frames > 0 else {
            throw TransportError(
                .input, "\(path): \(channels) channel(s) at \(rate) Hz, \(frames) frames — no audio to replay")
        }
        var interleaved = [Float](repeating: 0, count: frames * channels)
        let read = Int(
            interleaved.withUnsafeMutableBufferPointer { sf_readf_float(file, $0.baseAddress, sf_count_t(frames)) })
        guard read > 0 else {
            throw TransportError(
                .input, "\(path): the audio could not be decoded (\(String(cString: sf_strerror(file))))")
        }
        var mono = [Float](repeating: 0, count: read)
        for frame in 0..<read {
            var sum: Float = 0
            for channel in 0..<channels { sum += interleaved[frame * channels + channel] }
            mono[frame] = sum / Float(channels)
        }
        var steps: [String] = []
        if channels > 1 { steps.append("\(channels) channels mixed down to mono") }
        if rate != targetRate {
            mono = try resample(mono, from: rate, to: targetRate, path: path)
            steps.append("resampled \(rate) → \(targetRate) Hz (libsoxr, high quality)")
        }
        let format = Self.describe(info.format)
        if !format.contains("Signed 16 bit PCM") { steps.append("converted to PCM16") }
        return (
            pcm16(mono),
            AudioSource(format: format, sampleRate: rate, channels: channels, conversion: steps.joined(separator: "; "))
        )
    }

    /// Float samples (−1…1) as PCM16 little-endian, clipped.
    static func pcm16(_ samples: [Float]) -> [UInt8] {
        var pcm = [UInt8]()
        pcm.reserveCapacity(samples.count * 2)
        for sample in samples {
            let value = Int16(max(-32768, min(32767, (sample * 32767).rounded())))
            pcm.append(UInt8(truncatingIfNeeded: value))
            pcm.append(UInt8(truncatingIfNeeded: value >> 8))
        }
        return pcm
    }

    /// `samples` (mono float) at `inputRate` resampled to `outputRate` with libsoxr.
    package static func resample(_ samples: [Float], from inputRate: Int, to outputRate: Int, path: String = "audio")
        throws(TransportError) -> [Float]
    {
        let capacity = Int((Double(samples.count) * Double(outputRate) / Double(inputRate)).rounded(.up)) + 64
        var output = [Float](repeating: 0, count: capacity)
        var produced = 0
        var io = ttfa_soxr_float_io()
        var quality = ttfa_soxr_high_quality()
        let error: soxr_error_t? = samples.withUnsafeBufferPointer { input in
            output.withUnsafeMutableBufferPointer { out in
                soxr_oneshot(
                    Double(inputRate), Double(outputRate), 1, input.baseAddress, samples.count, nil,
                    out.baseAddress, capacity, &produced, &io, &quality, nil)
            }
        }
        if let error {
            throw TransportError(
                .input, "\(path): resampling \(inputRate) → \(outputRate) Hz failed (\(String(cString: error)))")
        }
        return Array(output.prefix(produced))
    }

    /// libsndfile's names of a file's major format and encoding.
    static func describe(_ format: Int32) -> String {
        func name(_ value: Int32) -> String? {
            var info = SF_FORMAT_INFO()
            info.format = value
            guard sf_command(nil, Int32(SFC_GET_FORMAT_INFO), &info, Int32(MemoryLayout<SF_FORMAT_INFO>.size)) == 0,
                let pointer = info.name
            else { return nil }
            return String(cString: pointer)
        }
        let major = name(format & Int32(SF_FORMAT_TYPEMASK)) ?? "unknown format"
        let subtype = name(format & Int32(SF_FORMAT_SUBMASK))
        return subtype.map { "\(major) / \($0)" } ?? major
    }
}
