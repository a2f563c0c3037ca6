/// How the reference server paces an answer. Deterministic: the same profile and request give
/// the same timeline, so differences between transports come from the transports.
public struct AnswerPacing: Sendable, Equatable {
    /// Name for `--profile`.
    public var name: String
    /// Delay from the end of the request (WebSocket: `response.create`; SSE: request body fully
    /// received) to the first audio, unless the request sets `first_audio_ms`.
    public var firstAudioMs: Int
    /// Length of the spoken answer.
    public var answerMs: Int
    /// Audio per delta event.
    public var audioDeltaMs: Int
    /// Delivery speed as a multiple of real time (4: a 100 ms delta every 25 ms); 0 sends all
    /// deltas back to back.
    public var realTimeFactor: Double

    public init(name: String, firstAudioMs: Int, answerMs: Int, audioDeltaMs: Int, realTimeFactor: Double) {
        self.name = name
        self.firstAudioMs = firstAudioMs
        self.answerMs = answerMs
        self.audioDeltaMs = audioDeltaMs
        self.realTimeFactor = realTimeFactor
    }

    /// Answers at once: 1.2 s of audio in 100 ms deltas, streamed at 4× real time, like the
    /// OpenAI APIs deliver audio faster than it plays. Measures what the transports add.
    public static let `default` = AnswerPacing(name: "default", firstAudioMs: 0, answerMs: 1_200, audioDeltaMs: 100, realTimeFactor: 4)
    /// Everything back to back, for tests.
    public static let instant = AnswerPacing(name: "instant", firstAudioMs: 0, answerMs: 600, audioDeltaMs: 100, realTimeFactor: 0)

    public static let all: [AnswerPacing] = [.default, .instant]

    public static func named(_ name: String) -> AnswerPacing? {
        all.first { $0.name == name }
    }

    /// Pause between two audio deltas, nanoseconds.
    var deltaIntervalNs: Int64 {
        realTimeFactor > 0 ? Int64(Double(audioDeltaMs) / realTimeFactor * 1_000_000) : 0
    }
}
