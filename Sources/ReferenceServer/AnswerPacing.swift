/// How the reference server paces an answer once its first audio is due: how much audio, in
/// what pieces, how fast. Part of a `DeploymentProfile`.
package struct AnswerPacing: Sendable, Equatable {
    /// Length of the spoken answer, milliseconds of audio.
    package var audioMs: Int
    /// Audio per delta event, milliseconds.
    package var deltaMs: Int
    /// Delivery speed as a multiple of real time (1.5: a 100 ms delta every 67 ms); 0 sends all
    /// deltas back to back.
    package var realTimeFactor: Double
    /// Transcript-only events before the first audio (Chat Completions sends some).
    package var transcriptChunksBeforeAudio: Int

    package init(audioMs: Int, deltaMs: Int, realTimeFactor: Double, transcriptChunksBeforeAudio: Int) {
        self.audioMs = audioMs
        self.deltaMs = deltaMs
        self.realTimeFactor = realTimeFactor
        self.transcriptChunksBeforeAudio = transcriptChunksBeforeAudio
    }

    /// Pause between two audio deltas, nanoseconds.
    var deltaIntervalNs: Int64 {
        realTimeFactor > 0 ? Int64(Double(deltaMs) / realTimeFactor * 1_000_000) : 0
    }
}
