import VoiceTransport

/// The figures of one trial, derived only from its timeline (so they can be recomputed from
/// what is stored). All times are nanoseconds relative to the trial's scheduled start.
public struct TrialMetrics: Sendable, Equatable {
    public var status: String
    public var errorKind: String?
    public var errorMessage: String?

    /// Scheduled end of speech (the recording's duration).
    public var speechEndNs: Int64
    public var ttfaNs: Int64?

    // Connection setup inside the trial (cold), durations.
    public var dnsNs: Int64?
    public var connectNs: Int64?
    public var tlsNs: Int64?
    /// WebSocket upgrade: request sent → 101 received (cold only).
    public var upgradeNs: Int64?
    /// Whether an existing connection carried the request.
    public var connectionReused: Bool?

    // Milestones, relative to the trial's start.
    public var responseHeadersNs: Int64?
    public var uploadDoneNs: Int64?
    public var firstByteNs: Int64?
    public var firstEventNs: Int64?
    public var firstAudioNs: Int64?
    public var lastAudioNs: Int64?
    public var doneNs: Int64?

    public var audioBytes: Int
    public var audioEvents: Int
    /// Largest pause between consecutive audio events.
    public var maxAudioGapNs: Int64?
    /// A real-time player started at first audio: how often it ran dry, and for how long in all.
    public var underruns: Int
    public var underrunNs: Int64
    /// Largest send lag (actual − max(scheduled, connection ready)).
    public var maxSendLagNs: Int64?
    public var chunksSent: Int

    public var curl: CurlTimes?

    /// Audio received, in milliseconds of 24 kHz PCM16.
    public var audioMs: Double { Double(audioBytes) / 48.0 }

    /// Derives the metrics of a finished turn.
    /// - Parameter lagBudgetNs: a trial whose send lag exceeds this is `invalid`.
    public init(timeline: TurnTimeline, lagBudgetNs: Int64) {
        let start = timeline.start
        func rel(_ t: Int64?) -> Int64? { t.map { $0 - start } }
        speechEndNs = timeline.speechEnd - start

        // Chunks queued while a cold WebSocket was still connecting leave when it opens; that
        // wait is the connection's, not the harness's, so lag counts from the opening.
        var readyAt: Int64?
        var audioTimes: [(t: Int64, bytes: Int)] = []
        var maxLag: Int64?
        var chunks = 0
        for event in timeline.events {
            // A warm connection was opened before the trial; its setup is not this trial's.
            let insideTrial = event.t >= start
            switch event.event {
            case .connected(let c) where insideTrial:
                if connectionReused == nil {
                    connectionReused = c.reused
                    if !c.reused {
                        dnsNs = c.dnsNs
                        connectNs = c.connectNs
                        tlsNs = c.tlsNs
                    }
                }
            case .webSocketOpen(let upgrade) where insideTrial:
                upgradeNs = upgradeNs ?? upgrade
                readyAt = event.t
            case .httpResponse:
                if event.t >= timeline.speechEnd { responseHeadersNs = responseHeadersNs ?? rel(event.t) }
            case .uploadDone:
                uploadDoneNs = uploadDoneNs ?? rel(event.t)
            case .firstByte:
                firstByteNs = firstByteNs ?? rel(event.t)
            case .sse, .webSocketMessage:
                if event.t >= timeline.speechEnd { firstEventNs = firstEventNs ?? rel(event.t) }
            case .audio(let bytes):
                audioTimes.append((event.t, bytes))
            case .turnEnd:
                doneNs = doneNs ?? rel(event.t)
            case .chunkSent(_, let scheduled, let lag):
                chunks += 1
                let harnessLag = lag - max(0, (readyAt ?? scheduled) - scheduled)
                maxLag = max(maxLag ?? .min, harnessLag)
            case .speechEnd(let scheduled, let lag):
                let harnessLag = lag - max(0, (readyAt ?? scheduled) - scheduled)
                maxLag = max(maxLag ?? .min, harnessLag)
            case .curlTimes(let times) where insideTrial:
                curl = times
            default:
                break
            }
        }
        // WebSocket: the first event after speech end is also the first byte of the answer.
        if firstByteNs == nil { firstByteNs = firstEventNs }
        chunksSent = chunks
        maxSendLagNs = maxLag

        audioEvents = audioTimes.count
        audioBytes = audioTimes.reduce(0) { $0 + $1.bytes }
        firstAudioNs = rel(audioTimes.first?.t)
        lastAudioNs = rel(audioTimes.last?.t)
        ttfaNs = audioTimes.first.map { $0.t - timeline.speechEnd }
        maxAudioGapNs = audioTimes.count > 1 ? zip(audioTimes.dropFirst(), audioTimes).map { $0.t - $1.t }.max() : nil
        (underruns, underrunNs) = Self.playback(audioTimes)

        switch timeline.outcome {
        case .failed(let error):
            status = error.kind.rawValue
            errorKind = error.kind.rawValue
            errorMessage = error.message
        case .ok:
            if let maxLag, maxLag > lagBudgetNs {
                status = "invalid"
                errorKind = nil
                errorMessage = "the harness sent audio \(Format.ms(Double(maxLag) / 1e6)) late (budget \(Format.ms(Double(lagBudgetNs) / 1e6))): the machine was too busy to replay on schedule"
            } else {
                status = "ok"
            }
        }
    }

    /// Simulates a player that starts at the first audio and plays in real time: it runs dry
    /// whenever the next audio arrives after everything received so far has been played.
    static func playback(_ audio: [(t: Int64, bytes: Int)]) -> (count: Int, stallNs: Int64) {
        guard let first = audio.first else { return (0, 0) }
        var playedUntil = first.t  // wall time at which the buffer runs out
        var count = 0
        var stall: Int64 = 0
        for (t, bytes) in audio {
            if t > playedUntil {
                if t != first.t {
                    count += 1
                    stall += t - playedUntil
                }
                playedUntil = t
            }
            playedUntil += Int64(bytes) * 1_000_000_000 / 48_000
        }
        return (count, stall)
    }
}
