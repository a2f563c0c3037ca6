/// How audio samples are encoded on the wire.
package enum AudioEncoding: String, Sendable, Hashable, CaseIterable, Codable {
    /// Signed 16-bit little-endian PCM, mono.
    case pcm16
    /// G.711 μ-law, 8 bits per sample, mono (telephony).
    case mulaw
    /// A WAV file (RIFF header + PCM); its header says the rate. Only where a whole file is
    /// carried (an answer's audio payload).
    case wav
}

/// An audio format: encoding and sample rate (mono).
///
/// Every recording is held as PCM16 mono 24 kHz; a dialect declares the format its endpoint
/// takes (24 kHz PCM16 for OpenAI, 16 kHz for many speech servers, 8 kHz μ-law for telephony)
/// and the recording is converted to it once, before the replay.
package struct AudioFormat: Sendable, Hashable, CustomStringConvertible {
    package var encoding: AudioEncoding
    /// Samples per second (for `wav`: the rate assumed when a header is missing).
    package var rate: Int

    package init(_ encoding: AudioEncoding, rate: Int) {
        self.encoding = encoding
        self.rate = rate
    }

    /// What OpenAI's dialects take and send, and what recordings are held as.
    package static let pcm16At24k = AudioFormat(.pcm16, rate: 24_000)

    /// Bytes per sample (WAV payloads: PCM16 after the header).
    package var bytesPerSample: Int { encoding == .mulaw ? 1 : 2 }

    /// Bytes of one second.
    package var bytesPerSecond: Int { rate * bytesPerSample }

    /// How many bytes of PCM16 24 kHz the same duration takes: what `audio_bytes` counts, so
    /// answers in any format add up in one unit (48 bytes per millisecond).
    package func pcm16At24kBytes(forEncodedBytes count: Int) -> Int {
        guard rate > 0 else { return 0 }
        let samples = count / bytesPerSample
        return Int((Int64(samples) * 24_000 / Int64(rate)) * 2)
    }

    package var description: String {
        switch encoding {
        case .pcm16: "PCM16 \(Self.kHz(rate))"
        case .mulaw: "μ-law \(Self.kHz(rate))"
        case .wav: "WAV"
        }
    }

    static func kHz(_ rate: Int) -> String {
        rate % 1000 == 0 ? "\(rate / 1000) kHz" : "\(Double(rate) / 1000) kHz"
    }
}
