/// Voice activity detection by energy, shared by the reference server (its `server_vad`) and
/// ttfa's SSE client (which must find the end of speech itself before it uploads), so both
/// transports wait for the same silence.
///
/// The audio is cut into 20 ms frames of 24 kHz PCM16; a frame is speech when its RMS exceeds
/// `threshold` × 0.05 of full scale (the default 0.5 is about −32 dBFS). Speech ends once
/// `silenceDurationMs` of non-speech frames follow speech — the same three parameters the
/// OpenAI Realtime API's `server_vad` takes. Pure: feed it bytes as they arrive.
package struct EnergyVAD: Sendable {
    package struct Parameters: Sendable, Equatable, Codable {
        /// 0…1: higher needs louder audio to count as speech.
        package var threshold: Double
        /// Audio kept before the detected start of speech (reported, not used for timing).
        package var prefixPaddingMs: Int
        /// Silence after speech that ends the turn.
        package var silenceDurationMs: Int

        /// The Realtime API's defaults: 0.5, 300 ms, 500 ms.
        package init(threshold: Double = 0.5, prefixPaddingMs: Int = 300, silenceDurationMs: Int = 500) {
            self.threshold = threshold
            self.prefixPaddingMs = prefixPaddingMs
            self.silenceDurationMs = silenceDurationMs
        }

        enum CodingKeys: String, CodingKey {
            case threshold
            case prefixPaddingMs = "prefix_padding_ms"
            case silenceDurationMs = "silence_duration_ms"
        }
    }

    /// What a chunk of audio changed.
    package enum Event: Sendable, Equatable {
        /// Speech began at this audio time (ms since the start of the stream).
        case speechStarted(atMs: Int)
        /// Speech ended at this audio time; the silence window closed at `detectedAtMs`.
        case speechStopped(atMs: Int, detectedAtMs: Int)
    }

    package static let frameMs = 20
    static let frameBytes = 24_000 * 2 * frameMs / 1000

    package let parameters: Parameters
    private var pending: [UInt8] = []
    private var framesSeen = 0
    private var inSpeech = false
    private var lastSpeechFrameEnd = 0
    private var silentFrames = 0

    package init(parameters: Parameters = Parameters()) {
        self.parameters = parameters
    }

    /// Feeds PCM16 little-endian bytes; returns the events they caused.
    package mutating func feed(_ bytes: some Sequence<UInt8>) -> [Event] {
        pending.append(contentsOf: bytes)
        var events: [Event] = []
        var offset = 0
        while pending.count - offset >= Self.frameBytes {
            let frame = pending[offset..<offset + Self.frameBytes]
            offset += Self.frameBytes
            framesSeen += 1
            let end = framesSeen * Self.frameMs
            if Self.isSpeech(frame, threshold: parameters.threshold) {
                if !inSpeech {
                    inSpeech = true
                    events.append(.speechStarted(atMs: end - Self.frameMs))
                }
                lastSpeechFrameEnd = end
                silentFrames = 0
            } else if inSpeech {
                silentFrames += 1
                if silentFrames * Self.frameMs >= parameters.silenceDurationMs {
                    inSpeech = false
                    events.append(.speechStopped(atMs: lastSpeechFrameEnd, detectedAtMs: end))
                }
            }
        }
        pending.removeFirst(offset)
        return events
    }

    /// Forgets everything (a new turn).
    package mutating func reset() {
        pending = []
        framesSeen = 0
        inSpeech = false
        lastSpeechFrameEnd = 0
        silentFrames = 0
    }

    static func isSpeech(_ frame: ArraySlice<UInt8>, threshold: Double) -> Bool {
        var sum = 0.0
        var index = frame.startIndex
        while index < frame.endIndex {
            let sample = Double(Int16(bitPattern: UInt16(frame[index]) | UInt16(frame[index + 1]) << 8))
            sum += sample * sample
            index += 2
        }
        let rms = (sum / Double(frame.count / 2)).squareRoot() / 32_768
        return rms > threshold * 0.05
    }

    /// Where speech ends in a recording: the end of its last speech frame, in ms (nil: no
    /// speech at all).
    package static func lastSpeechEndMs(_ pcm: [UInt8], threshold: Double = 0.5) -> Int? {
        var last: Int?
        var frame = 0
        var offset = 0
        while offset + frameBytes <= pcm.count {
            frame += 1
            if isSpeech(pcm[offset..<offset + frameBytes], threshold: threshold) { last = frame * frameMs }
            offset += frameBytes
        }
        return last
    }
}
