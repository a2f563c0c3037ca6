import Storage
import TTFASupport
import VoiceTransport

/// The figures of one trial, derived only from its timeline (so they can be recomputed from
/// what is stored). All times are nanoseconds relative to the trial's scheduled start.
package struct TrialMetrics: Sendable, Equatable {
    package var status: TrialStatus
    package var errorKind: ErrorKind?
    package var errorMessage: String?

    /// Scheduled end of speech (the recording's duration).
    package var speechEndNs: Int64
    package var ttfaNs: Int64?

    // Connection setup inside the trial (cold), durations.
    package var dnsNs: Int64?
    package var connectNs: Int64?
    package var tlsNs: Int64?
    /// WebSocket upgrade: request sent → 101 received (cold only).
    package var upgradeNs: Int64?
    /// Whether an existing connection carried the request.
    package var connectionReused: Bool?

    /// Client work after the end of speech (request body; commit framing), a duration.
    package var encodeNs: Int64?
    // Milestones, relative to the trial's start.
    package var responseHeadersNs: Int64?
    package var uploadDoneNs: Int64?
    package var firstByteNs: Int64?
    package var firstEventNs: Int64?
    package var firstAudioNs: Int64?
    package var lastAudioNs: Int64?
    package var doneNs: Int64?

    package var audioBytes: Int
    package var audioEvents: Int
    /// Largest pause between consecutive audio events.
    package var maxAudioGapNs: Int64?
    /// Clumps of audio events: runs of two or more that arrived within 1 ms of each other. A
    /// server that paces its audio produces none; a buffering proxy in between produces several.
    package var audioBursts: Int
    /// A real-time player started at first audio: how often it ran dry, and for how long in all.
    package var underruns: Int
    package var underrunNs: Int64
    /// Largest harness lateness of any chunk or of the end of speech.
    package var maxSendLagNs: Int64?
    /// Harness lateness that can move the TTFA: the end of speech (SSE: the start of the
    /// upload; WebSocket: the last chunk and the commit). It alone can make a trial `invalid`.
    package var speechEndLagNs: Int64?
    /// Time writes waited for a full socket (the network's backpressure, not the harness's).
    package var uploadBlockedNs: Int64
    package var chunksSent: Int
    /// The id of the answer this trial's audio came from (Realtime response, Chat Completions
    /// stream), for matching with server logs.
    package var responseID: String?
    /// Protocol anomalies seen and set aside: audio of other responses, events of other
    /// requests, errors after the answer.
    package var anomalies: Int

    package var curl: CurlTimes?

    /// WebRTC: the call's set-up steps when the call was set up inside the trial (cold).
    package var webRTC: WebRTCTimings?
    /// WebRTC: when the modelled receiver would play the first audio, relative to the start.
    package var playoutNs: Int64?

    /// Audio received, in milliseconds of 24 kHz PCM16.
    package var audioMs: Double { Double(audioBytes) / 48.0 }

    /// Derives the metrics of a finished turn, and checks before calling it `ok` that every
    /// number belongs to this trial: exactly one end of speech, every chunk sent, first audio
    /// after the end of speech and from this trial's own request and answer.
    /// - Parameter lagBudgetNs: a trial whose end of speech left later than this is `invalid`.
    package init(timeline: TurnTimeline, lagBudgetNs: Int64) {
        let start = timeline.start
        func rel(_ t: Int64?) -> Int64? { t.map { $0 - start } }
        speechEndNs = timeline.speechEnd - start

        var audio: [TimedEvent] = []
        var audioTimes: [(t: Int64, bytes: Int)] = []
        var maxLag: Int64?
        var lastChunkLag: Int64?
        var endLag: Int64?
        var speechEnds = 0
        var chunks = 0
        var blocked: Int64 = 0
        var anomalyCount = 0
        var boundResponse: String?
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
            case .httpResponse:
                if event.t >= timeline.speechEnd { responseHeadersNs = responseHeadersNs ?? rel(event.t) }
            case .uploadDone:
                uploadDoneNs = uploadDoneNs ?? rel(event.t)
            case .firstByte:
                firstByteNs = firstByteNs ?? rel(event.t)
            case .sse, .webSocketMessage, .dataChannelMessage:
                if event.t >= timeline.speechEnd { firstEventNs = firstEventNs ?? rel(event.t) }
            case .audio(let bytes, _):
                audio.append(event)
                audioTimes.append((event.t, bytes))
            case .turnEnd:
                doneNs = doneNs ?? rel(event.t)
            case .chunkSent(let index, _, let lag, let waited):
                chunks += 1
                blocked += waited
                maxLag = max(maxLag ?? .min, lag)
                if index == timeline.expectedChunks - 1 { lastChunkLag = lag }
            case .chunkCaptured(_, _, let lag):
                // SSE records the microphone and uploads later: capture lag cannot move its TTFA.
                chunks += 1
                maxLag = max(maxLag ?? .min, lag)
            case .speechEnd(_, let lag, let waited):
                speechEnds += 1
                blocked += waited
                endLag = lag
                maxLag = max(maxLag ?? .min, lag)
            case .encoded(let ns):
                encodeNs = ns
            case .responseStarted(let id):
                boundResponse = boundResponse ?? id
            case .anomaly, .stale:
                anomalyCount += 1
            case .webRTCSetup(let timings) where insideTrial:
                webRTC = webRTC ?? timings
            case .playout(let at):
                playoutNs = playoutNs ?? rel(at)
            case .curlTimes(let times) where insideTrial:
                curl = times
            case .transferEnd(let times, _) where insideTrial && times != .zero:
                curl = times
            default:
                break
            }
        }
        // WebSocket: the first event after speech end is also the first byte of the answer.
        if firstByteNs == nil { firstByteNs = firstEventNs }
        chunksSent = chunks
        maxSendLagNs = maxLag
        uploadBlockedNs = blocked
        anomalies = anomalyCount
        responseID = boundResponse
        let ttfaLag = [lastChunkLag, endLag].compactMap { $0 }.max()
        speechEndLagNs = ttfaLag

        audioEvents = audioTimes.count
        audioBytes = audioTimes.reduce(0) { $0 + $1.bytes }
        firstAudioNs = rel(audioTimes.first?.t)
        lastAudioNs = rel(audioTimes.last?.t)
        ttfaNs = audioTimes.first.map { $0.t - timeline.speechEnd }
        maxAudioGapNs = audioTimes.count > 1 ? zip(audioTimes.dropFirst(), audioTimes).map { $0.t - $1.t }.max() : nil
        audioBursts = Self.bursts(audioTimes.map(\.t))
        // A WebRTC receiver starts playing after its jitter buffer, not at the first packet.
        (underruns, underrunNs) = Self.playback(
            audioTimes,
            startingAt: playoutNs.map { $0 + start }.flatMap { at in audioTimes.first.map { max(at, $0.t) } })

        switch timeline.outcome {
        case .failed(let error):
            status = .failed(error.kind)
            errorKind = error.kind
            errorMessage = error.message
        case .ok:
            if let violation = Self.guardViolation(
                timeline: timeline, speechEnds: speechEnds, chunks: chunks, firstAudio: audio.first,
                response: boundResponse)
            {
                status = .failed(violation.kind)
                errorKind = violation.kind
                errorMessage = violation.message
            } else if let ttfaLag, ttfaLag > lagBudgetNs {
                status = .invalid
                errorKind = nil
                let what =
                    lastChunkLag == ttfaLag && endLag != ttfaLag
                    ? "the last audio chunk (\(timeline.expectedChunks) of \(timeline.expectedChunks)) left"
                    : "the harness acted on the end of speech"
                errorMessage =
                    "\(what) \(Format.ms(Double(ttfaLag) / 1e6)) late (budget \(Format.ms(Double(lagBudgetNs) / 1e6))): the machine was too busy to replay on schedule"
            } else {
                status = .ok
            }
        }
    }

    /// Why an answered turn cannot be stored as `ok`, if it cannot.
    static func guardViolation(
        timeline: TurnTimeline, speechEnds: Int, chunks: Int, firstAudio: TimedEvent?, response: String?
    ) -> TransportError? {
        if speechEnds != 1 {
            return TransportError(
                .internal,
                "the trial saw \(speechEnds) ends of speech; its events cannot be attributed to one utterance")
        }
        if chunks < timeline.expectedChunks {
            return TransportError(
                .internal,
                "\(chunks) of the recording's \(timeline.expectedChunks) audio chunks were sent; the utterance was not replayed whole"
            )
        }
        if chunks > timeline.plannedChunks {
            return TransportError(
                .internal,
                "\(chunks) audio chunks were sent but \(timeline.plannedChunks) were planned; chunks of another turn were counted"
            )
        }
        guard let firstAudio else {
            return TransportError(.noAudio, "the turn ended without audio")
        }
        if firstAudio.t < timeline.speechEnd {
            return TransportError(
                .protocol,
                "audio arrived \(Format.ms(Double(timeline.speechEnd - firstAudio.t) / 1e6)) before the end of speech — the server answered before the utterance was complete"
            )
        }
        if let owner = firstAudio.turn, owner != timeline.turn {
            return TransportError(
                .protocol, "the first audio came from request \(owner), not from this trial's request \(timeline.turn)")
        }
        if case .audio(_, let from) = firstAudio.event, let from, let response, from != response {
            return TransportError(
                .protocol, "the first audio belongs to response \(from), not to this trial's response \(response)")
        }
        return nil
    }

    /// Runs of two or more arrival times each close to the one before: within an eighth of the
    /// answer's mean gap, and at least 1 ms. "Together" is relative to how the answer is paced,
    /// so a proxy's clumps count whether this machine stamps a clump's events 0.1 ms apart
    /// (a release build, reading them at once) or 1.5 ms apart (a debug build, or a busy core,
    /// between two reads), while evenly paced audio has none.
    static func bursts(_ times: [Int64]) -> Int {
        guard times.count >= 2, let first = times.first, let last = times.last else { return 0 }
        let withinNs = max(1_000_000, (last - first) / Int64(times.count - 1) / 8)
        var count = 0
        var run = 1
        for (previous, next) in zip(times, times.dropFirst()) {
            if next - previous <= withinNs {
                run += 1
                if run == 2 { count += 1 }
            } else {
                run = 1
            }
        }
        return count
    }

    /// Simulates a player that starts at the first audio and plays in real time: it runs dry
    /// whenever the next audio arrives after everything received so far has been played.
    /// - Parameter startingAt: when the player starts (a jitter buffer's playout); by default at
    ///   the first audio.
    static func playback(_ audio: [(t: Int64, bytes: Int)], startingAt: Int64? = nil) -> (count: Int, stallNs: Int64) {
        guard let first = audio.first else { return (0, 0) }
        var playedUntil = startingAt ?? first.t  // wall time at which the buffer runs out
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
