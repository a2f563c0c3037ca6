import SpeechDetection
import VoiceTransport

/// How a turn ended.
package enum TurnOutcome: Sendable, Equatable {
    case ok
    case failed(TransportError)

    /// The stored status word: "ok" or the error kind.
    package var status: String {
        switch self {
        case .ok: "ok"
        case .failed(let error): error.kind.rawValue
        }
    }

    package var error: TransportError? {
        if case .failed(let error) = self { return error }
        return nil
    }
}

/// Everything observed during one turn, in arrival order, with the schedule it ran against.
package struct TurnTimeline: Sendable {
    /// The turn's number on its transport (its request's tag).
    package var turn: Int
    /// Scheduled start of the utterance (the microphone starts recording), monotonic ns.
    package var start: Int64
    /// Scheduled end of speech, monotonic ns: TTFA is measured from here.
    package var speechEnd: Int64
    package var chunkMs: Int
    /// Chunks up to the end of speech: all of them must have been sent.
    package var expectedChunks: Int
    /// Chunks planned in all (with voice activity detection, silence after the end of speech
    /// follows; the turn may end before all of it left).
    package var plannedChunks: Int
    package var events: [TimedEvent]
    package var outcome: TurnOutcome

    package init(
        turn: Int, start: Int64, speechEnd: Int64, chunkMs: Int, expectedChunks: Int, plannedChunks: Int? = nil,
        events: [TimedEvent], outcome: TurnOutcome
    ) {
        self.turn = turn
        self.start = start
        self.speechEnd = speechEnd
        self.chunkMs = chunkMs
        self.expectedChunks = expectedChunks
        self.plannedChunks = plannedChunks ?? expectedChunks
        self.events = events
        self.outcome = outcome
    }

    /// Arrival of the first event carrying this turn's audio.
    package var firstAudio: Int64? {
        events.first { if case .audio = $0.event { return true } else { return false } }?.t
    }

    /// Time to first audio, nanoseconds (nil without audio).
    package var ttfaNs: Int64? { firstAudio.map { $0 - speechEnd } }
}

/// Plays one turn: schedules every chunk and the end of speech on the transport (the
/// transport's I/O thread sends them on time), then consumes events until the answer is
/// complete, fails, or the timeout passes — and, for a request-per-turn transport, until the
/// request's transfer is over, so nothing of it can reach the next turn.
package enum TurnRunner {
    /// How long a transfer may stay open after its answer is complete before it is cut.
    package static let transferGraceNs: Int64 = .seconds(1)

    /// A live microphone's schedule: chunk k holds the audio from k × chunk_ms to
    /// (k+1) × chunk_ms, so it can be handed over at start + (k+1) × chunk_ms; the last,
    /// shorter chunk at the end of the recording — the end of speech.
    package static func microphoneSchedule(_ recording: Recording, turn: Int, chunkMs: Int, start: Int64)
        -> [AudioChunk]
    {
        let chunkNs = Int64(chunkMs) * 1_000_000
        return recording.chunks(chunkMs: chunkMs).enumerated().map { index, pcm in
            AudioChunk(
                turn: turn, index: index, pcm: pcm, due: start + min(Int64(index + 1) * chunkNs, recording.durationNs))
        }
    }

    /// What one turn sends, and when: the chunks, the end of speech TTFA is measured from, and
    /// when the transport acts on it.
    package struct Plan: Sendable {
        package var chunks: [AudioChunk]
        /// The end of speech: the end of the recording (manual turns), or its annotated end of
        /// speech (voice activity detection).
        package var speechEnd: Int64
        /// When the transport acts on it: manual turns commit or upload at the end of the
        /// recording; with detection, the server decides by itself (WebSocket, marked at the
        /// end of speech) or the client uploads once its own detector closed the window (SSE).
        package var endOfSpeechDue: Int64

        /// Chunks due by the end of speech (or the upload): the utterance itself.
        package var requiredChunks: Int { chunks.filter { $0.due <= max(speechEnd, endOfSpeechDue) }.count }
    }

    /// The plan of a turn. With `vad`, the microphone keeps recording silence after the
    /// recording until the detector's window has passed (SSE: until the client's detector,
    /// fed chunk by chunk, found the end; then it stops and uploads).
    package static func plan(
        _ recording: Recording, turn: Int, chunkMs: Int, start: Int64, vad: EnergyVAD.Parameters?, serverDetects: Bool
    ) -> Plan {
        guard let vad else {
            let chunks = microphoneSchedule(recording, turn: turn, chunkMs: chunkMs, start: start)
            return Plan(
                chunks: chunks, speechEnd: start + recording.durationNs, endOfSpeechDue: start + recording.durationNs)
        }
        let durationMs = Int(recording.durationNs / 1_000_000)
        let annotated =
            recording.speechEndMs < durationMs
            ? recording.speechEndMs : (EnergyVAD.lastSpeechEndMs(recording.pcm, threshold: vad.threshold) ?? durationMs)
        let heardMs = max(durationMs, annotated + vad.silenceDurationMs + chunkMs + EnergyVAD.frameMs)
        let silence = [UInt8](repeating: 0, count: max(0, heardMs * 48 - recording.pcm.count))
        let live = Recording(name: recording.name, pcm: recording.pcm + silence)
        var chunks = microphoneSchedule(live, turn: turn, chunkMs: chunkMs, start: start)
        let speechEnd = start + Int64(annotated) * 1_000_000
        if serverDetects { return Plan(chunks: chunks, speechEnd: speechEnd, endOfSpeechDue: speechEnd) }
        var detector = EnergyVAD(parameters: vad)
        for (index, chunk) in chunks.enumerated() {
            let stopped = detector.feed(chunk.pcm).contains {
                if case .speechStopped = $0 { return true } else { return false }
            }
            if stopped && chunk.due >= speechEnd {
                chunks = Array(chunks[...index])
                break
            }
        }
        return Plan(chunks: chunks, speechEnd: speechEnd, endOfSpeechDue: chunks.last?.due ?? speechEnd)
    }

    /// - Parameters:
    ///   - transport: an open transport, or an unopened one when `openInside` (cold).
    ///   - events: the transport's event iterator (kept across warm turns).
    ///   - turn: the turn's number on this transport (new for every turn).
    ///   - start: scheduled start (monotonic ns), a little in the future.
    ///   - timeout: how long after speech end the answer may take to complete.
    ///   - openInside: open the connection at `start`, inside the trial (cold WebSocket).
    ///   - followAfterFailure: after a failure, keep reading the wire until the transfer ends
    ///     or the response or connection does (for `ttfa trace`); otherwise a failed request
    ///     is cut at once.
    ///   - onEvent: sees every event as it is consumed (the trace prints them).
    package static func run(
        transport: any VoiceTransport,
        events: inout TransportEventStream.AsyncIterator,
        turn: Int,
        recording: Recording,
        chunkMs: Int,
        start: Int64,
        timeout: Int64,
        openInside: Bool = false,
        vad: EnergyVAD.Parameters? = nil,
        followAfterFailure: Bool = false,
        onEvent: (TimedEvent) -> Void = { _ in }
    ) async -> TurnTimeline {
        events.beginTurn(turn)
        let plan = Self.plan(
            recording, turn: turn, chunkMs: chunkMs, start: start, vad: vad,
            serverDetects: transport.kind.serverDetectsEndOfSpeech)
        let speechEnd = plan.speechEnd
        let deadline = speechEnd + timeout
        var chunks = plan.chunks
        if transport.inputFormat != .pcm16At24k {
            // The dialect's endpoint takes another format: the utterance, converted once.
            do {
                let converted = try AudioConverter.convert(chunks: chunks.map(\.pcm), to: transport.inputFormat)
                for index in chunks.indices { chunks[index].pcm = converted[index] }
            } catch {
                transport.finishTurn(turn)
                return TurnTimeline(
                    turn: turn, start: start, speechEnd: speechEnd, chunkMs: chunkMs,
                    expectedChunks: plan.requiredChunks,
                    plannedChunks: chunks.count, events: [], outcome: .failed(error))
            }
        }
        for chunk in chunks { transport.sendAudio(chunk) }
        transport.endSpeech(turn: turn, at: plan.endOfSpeechDue, deadline: deadline)

        let seconds = Double(timeout) / 1e9
        let timer = Task {
            try await Task.sleep(for: .nanoseconds(max(0, deadline - MonotonicClock.now())))
            transport.abort(
                TransportError(.timeout, "no complete answer within \(seconds.formatted()) s after the end of speech"),
                turn: turn)
        }
        var grace: Task<Void, any Error>?
        defer {
            timer.cancel()
            grace?.cancel()
            // Silence the microphone still had queued (after the end of speech) stays unsent.
            transport.finishTurn(turn)
        }

        if openInside {
            if MonotonicClock.now() < start {
                try? await Task.sleep(for: .nanoseconds(start - MonotonicClock.now()))
            }
            try? await transport.open()  // a failure also arrives as a `.failure` event
        }

        var timeline = TurnTimeline(
            turn: turn, start: start, speechEnd: speechEnd, chunkMs: chunkMs, expectedChunks: plan.requiredChunks,
            plannedChunks: chunks.count, events: [], outcome: .ok)
        var decided: TurnOutcome?
        var transferOpen = transport.turnIsRequest
        var following = false
        var responseEnded = false
        var sawAudio = false
        var serverErrors: [String] = []
        var transcriptEvents = 0

        func record(_ event: TimedEvent) {
            timeline.events.append(event)
            onEvent(event)
        }
        func fail(_ error: TransportError, at t: Int64) {
            let failure = TimedEvent(t: t, .failure(error), turn: turn)
            record(failure)
            decide(.failed(error))
        }
        func decide(_ outcome: TurnOutcome) {
            guard decided == nil else { return }
            decided = outcome
            switch outcome {
            case .ok where transferOpen:
                // The answer is complete; its request should end now. A server that keeps it
                // open gets a second, then the request is cut (and its connection with it).
                grace = Task {
                    try await Task.sleep(for: .nanoseconds(transferGraceNs))
                    transport.abort(
                        TransportError(.protocol, "the server kept the response open after the answer was complete"),
                        turn: turn)
                }
            case .failed where followAfterFailure:
                // A request is followed until its transfer ends anyway; a connection until the
                // response ends, the connection closes or the deadline passes.
                following = !transport.turnIsRequest && !responseEnded
            case .failed(let error) where transferOpen:
                transport.abort(error, turn: turn)
            default:
                break
            }
        }

        while decided == nil || transferOpen || following || events.hasPending {
            guard let event = await events.next() else {
                if decided == nil {
                    fail(
                        blame(
                            TransportError(.closed, "the connection ended before the answer was complete"),
                            on: serverErrors), at: MonotonicClock.now())
                }
                break
            }
            record(event)
            switch event.event {
            case .audio:
                sawAudio = true
            case .transcript:
                transcriptEvents += 1
            case .serverError(let message, _):
                serverErrors.append(message)
            case .turnEnd where decided == nil:
                if sawAudio {
                    decide(.ok)
                } else {
                    // Decided here, not on the wire: record it as an event like any other failure.
                    fail(
                        TransportError(
                            .noAudio,
                            "the answer completed without any audio (\(transcriptEvents) transcript events\(serverErrors.isEmpty ? "" : "; the server reported: \(serverErrors.joined(separator: "; "))"))"
                        ), at: event.t)
                }
            case .failure(let error):
                following = false
                decide(.failed(blame(error, on: serverErrors)))
            case .transferEnd(_, let error):
                transferOpen = false
                following = false
                if let error {
                    if decided == nil {
                        fail(blame(error, on: serverErrors), at: event.t)
                    } else if decided == .ok {
                        record(
                            TimedEvent(
                                t: event.t,
                                .anomaly("the request failed after its answer was complete: \(error.message)"),
                                turn: turn))
                    }
                }
            case .responseDone, .webSocketClose:
                responseEnded = true
                following = false
            default:
                break
            }
        }
        timeline.outcome = decided ?? .failed(TransportError(.internal, "the turn ended undecided"))
        return timeline
    }

    /// A timeout or closed connection after the server reported an error is the server's error.
    private static func blame(_ error: TransportError, on serverErrors: [String]) -> TransportError {
        guard !serverErrors.isEmpty, error.kind == .timeout || error.kind == .closed else { return error }
        return TransportError(
            .serverError, "the server reported \"\(serverErrors.joined(separator: "; "))\", then: \(error.message)")
    }
}
