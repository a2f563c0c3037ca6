import VoiceTransport

/// How a turn ended.
public enum TurnOutcome: Sendable, Equatable {
    case ok
    case failed(TransportError)

    /// The stored status word: "ok" or the error kind.
    public var status: String {
        switch self {
        case .ok: "ok"
        case .failed(let error): error.kind.rawValue
        }
    }

    public var error: TransportError? {
        if case .failed(let error) = self { return error }
        return nil
    }
}

/// Everything observed during one turn, in arrival order, with the schedule it ran against.
public struct TurnTimeline: Sendable {
    /// Scheduled start of the utterance (chunk 0 is due here), monotonic ns.
    public var start: Int64
    /// Scheduled end of speech, monotonic ns: TTFA is measured from here.
    public var speechEnd: Int64
    public var chunkMs: Int
    public var events: [TimedEvent]
    public var outcome: TurnOutcome

    /// Arrival of the first event carrying non-empty audio.
    public var firstAudio: Int64? {
        events.first { if case .audio = $0.event { return true } else { return false } }?.t
    }

    /// Time to first audio, nanoseconds (nil without audio).
    public var ttfaNs: Int64? { firstAudio.map { $0 - speechEnd } }
}

/// Plays one turn: schedules every chunk and the end of speech on the transport (the
/// transport's I/O thread sends them on time), then consumes events until the answer is
/// complete, fails, or the timeout passes.
public enum TurnRunner {
    /// - Parameters:
    ///   - transport: an open transport, or an unopened one when `openInside` (cold).
    ///   - events: the transport's event iterator (kept across warm turns).
    ///   - start: scheduled start (monotonic ns), a little in the future.
    ///   - timeout: how long after speech end the answer may take to complete.
    ///   - openInside: open the connection at `start`, inside the trial (cold WebSocket).
    ///   - onEvent: sees every event as it is consumed (the trace prints them).
    public static func run(
        transport: any VoiceTransport,
        events: inout TransportEventStream.AsyncIterator,
        recording: Recording,
        chunkMs: Int,
        start: Int64,
        timeout: Int64,
        openInside: Bool = false,
        onEvent: (TimedEvent) -> Void = { _ in }
    ) async -> TurnTimeline {
        let chunkNs = Int64(chunkMs) * 1_000_000
        let speechEnd = start + recording.durationNs
        let deadline = speechEnd + timeout
        for (index, pcm) in recording.chunks(chunkMs: chunkMs).enumerated() {
            transport.sendAudio(AudioChunk(index: index, pcm: pcm, due: start + Int64(index) * chunkNs))
        }
        transport.endSpeech(at: speechEnd, deadline: deadline)

        let seconds = Double(timeout) / 1e9
        let timer = Task {
            try await Task.sleep(for: .nanoseconds(max(0, deadline - MonotonicClock.now())))
            transport.abort(TransportError(.timeout, "no complete answer within \(seconds.formatted()) s after the end of speech"))
        }
        defer { timer.cancel() }

        if openInside {
            if MonotonicClock.now() < start {
                try? await Task.sleep(for: .nanoseconds(start - MonotonicClock.now()))
            }
            try? await transport.open()  // a failure also arrives as a `.failure` event
        }

        var timeline = TurnTimeline(start: start, speechEnd: speechEnd, chunkMs: chunkMs, events: [], outcome: .ok)
        var sawAudio = false
        var serverErrors: [String] = []
        var transcriptEvents = 0
        var ended = false
        while let event = await events.next() {
            timeline.events.append(event)
            onEvent(event)
            switch event.event {
            case .audio:
                sawAudio = true
            case .transcript:
                transcriptEvents += 1
            case .serverError(let message, _):
                serverErrors.append(message)
            case .turnEnd:
                if !sawAudio {
                    // Decided here, not on the wire: record it as an event like any other failure.
                    let error = TransportError(.noAudio, "the answer completed without any audio (\(transcriptEvents) transcript events\(serverErrors.isEmpty ? "" : "; the server reported: \(serverErrors.joined(separator: "; "))"))")
                    let failure = TimedEvent(t: event.t, .failure(error))
                    timeline.events.append(failure)
                    onEvent(failure)
                    timeline.outcome = .failed(error)
                }
                ended = true
            case .failure(let error):
                timeline.outcome = .failed(blame(error, on: serverErrors))
                ended = true
            default:
                break
            }
            if ended { break }
        }
        if !ended {
            let error = blame(TransportError(.closed, "the connection ended before the answer was complete"), on: serverErrors)
            let failure = TimedEvent(t: MonotonicClock.now(), .failure(error))
            timeline.events.append(failure)
            onEvent(failure)
            timeline.outcome = .failed(error)
        }
        // An SSE transfer reports libcurl's timers right after the stream ends; keep them with this turn.
        if transport.kind == .sse, timeline.outcome == .ok {
            await collectTransferTail(&events, into: &timeline, onEvent: onEvent)
        }
        return timeline
    }

    /// A timeout or closed connection after the server reported an error is the server's error.
    private static func blame(_ error: TransportError, on serverErrors: [String]) -> TransportError {
        guard !serverErrors.isEmpty, error.kind == .timeout || error.kind == .closed else { return error }
        return TransportError(.serverError, "the server reported \"\(serverErrors.joined(separator: "; "))\", then: \(error.message)")
    }

    private static func collectTransferTail(_ events: inout TransportEventStream.AsyncIterator, into timeline: inout TurnTimeline, onEvent: (TimedEvent) -> Void) async {
        while let event = await events.next() {
            timeline.events.append(event)
            onEvent(event)
            switch event.event {
            case .curlTimes:
                return
            case .failure(let error):
                timeline.outcome = .failed(error)
                return
            default:
                continue
            }
        }
    }
}
