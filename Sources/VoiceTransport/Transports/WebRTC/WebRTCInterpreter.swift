import WebRTCMedia

/// OpenAI Realtime over WebRTC, read from its two carriers: the events on the `oai-events`
/// data channel (read by the Realtime dialect: the response this turn created, its transcript,
/// its end) and the packets of the remote audio track. A pure state machine: events in,
/// dialect events out.
///
/// Which packets are this turn's answer. The track never stops (silence between answers), and
/// media and data channel are not ordered with respect to each other, so a packet is judged
/// by the talk spurt it belongs to (a run of non-silent packets) and by the data channel's
/// `output_audio_buffer.started`/`stopped`, whichever arrives first:
/// - a spurt that began before this turn's end of speech is never its answer (a previous
///   answer's tail, or audio before the commit): an anomaly;
/// - a spurt that begins after the end of speech is held until the data channel names whose
///   audio is playing: `output_audio_buffer.started` of the response this turn's
///   `response.create` created turns the held packets into this turn's audio, stamped with
///   their own arrival times; `started` of any other response (or of one with no
///   `response.created`) sets them aside as anomalies;
/// - while another response is playing (started, not yet stopped) no packet is held;
/// - after this turn's response `stopped`, nothing more counts.
///
/// With the first packet counted it also reports when a receiver with a jitter buffer of
/// `jitterBufferNs` would play it: the packet's media time plus the largest delay (arrival −
/// media time) of the track's packets in the last second (50 packets), plus the buffer.
package struct WebRTCInterpreter: EventInterpreter {
    private var realtime: RealtimeDialect
    package let jitterBufferNs: Int64

    // The track, across turns.
    private var lastLoud = false
    private var lastArrival: Int64?
    /// Loud packets in the current talk spurt.
    private var spurtLength = 0
    /// Responses whose audio started playing and has not stopped.
    private var playing: Set<String> = []
    private var highestTimestamp: Int64?
    /// (arrival − media time) of the last second's packets: a receiver's buffer adapts to the
    /// largest of them (as a browser's does), not to the track's whole history.
    private var delays: [Int64] = []
    private var delayNext = 0
    static let delayWindow = 50

    // The turn.
    private var speechEnded = false
    private var spurtBeforeEnd = false
    private var spurtReported = false
    private var bound: String?
    private var accepted = false
    private var playoutReported = false
    private var finished = false
    private var held: [(packet: RTPArrival, playout: Int64)] = []

    package init(options: RealtimeOptions, jitterBufferNs: Int64) {
        realtime = RealtimeDialect(options: options)
        self.jitterBufferNs = jitterBufferNs
    }

    package mutating func beginTurn(_ turn: Int) {
        realtime.beginTurn(turn)
        speechEnded = false
        spurtBeforeEnd = lastLoud
        // A spurt running on from the last turn counts its packets afresh: the codec's tail
        // after the last answer is one packet, not an anomaly of this turn.
        spurtLength = 0
        spurtReported = false
        bound = nil
        accepted = false
        playoutReported = false
        finished = false
        held = []
    }

    package mutating func cleanupMessages() -> [String] { realtime.cleanupMessages() }

    package mutating func interpret(_ event: TransportEvent) -> [TransportEvent] {
        interpretTimed(TimedEvent(t: 0, event)).map(\.event)
    }

    package mutating func interpretTimed(_ event: TimedEvent) -> [TimedEvent] {
        switch event.event {
        case .speechEnd:
            speechEnded = true
            return realtime.interpret(event.event).map { TimedEvent(t: event.t, $0, turn: event.turn) }
        case .rtp(let packet):
            return rtp(packet, turn: event.turn)
        case .dataChannelMessage(let text):
            return message(text, at: event.t, turn: event.turn)
        default:
            return realtime.interpret(event.event).map { TimedEvent(t: event.t, $0, turn: event.turn) }
        }
    }

    // MARK: the track

    private mutating func rtp(_ packet: RTPArrival, turn: Int?) -> [TimedEvent] {
        let playout = schedule(packet)
        // A pause in the track (no packet for 100 ms) ends a talk spurt as silence does.
        if let lastArrival, packet.t - lastArrival > 100_000_000 { lastLoud = false }
        lastArrival = packet.t
        defer { lastLoud = packet.loud }
        guard packet.loud else {
            spurtLength = 0
            return []
        }
        if !lastLoud {
            spurtBeforeEnd = !speechEnded
            spurtReported = false
        }
        spurtLength += 1
        if spurtBeforeEnd || !speechEnded {
            // Up to two packets are the codec's tail after an answer (Opus's look-ahead carries
            // the answer's last milliseconds into the next packet, then rings out): set aside,
            // not worth an anomaly.
            if spurtLength <= 2 { return [] }
            return reportSpurt(
                packet.t, turn: turn,
                speechEnded
                    ? "audio that began before the end of speech went on after it (a previous answer's tail)"
                    : "audio on the track before the end of speech")
        }
        if finished { return [] }
        if accepted, let bound {
            var out = [TimedEvent(t: packet.t, .audio(bytes: packet.samples, response: bound), turn: turn)]
            if !playoutReported {
                playoutReported = true
                out.append(TimedEvent(t: packet.t, .playout(at: playout), turn: turn))
            }
            return out
        }
        if !playing.isEmpty {
            return reportSpurt(
                packet.t, turn: turn, "audio while response \(playing.sorted().joined(separator: ", ")) was playing")
        }
        held.append((packet, playout))
        return []
    }

    /// One anomaly per talk spurt set aside.
    private mutating func reportSpurt(_ t: Int64, turn: Int?, _ what: String) -> [TimedEvent] {
        if spurtReported { return [] }
        spurtReported = true
        return [TimedEvent(t: t, .anomaly(what), turn: turn)]
    }

    /// When a fixed-delay receiver plays `packet`: its media time shifted by the largest
    /// delay seen on the track, plus the jitter buffer.
    private mutating func schedule(_ packet: RTPArrival) -> Int64 {
        var extended = Int64(packet.timestamp)
        if let highest = highestTimestamp {
            // Unwrap the 32-bit clock: the value nearest the highest seen.
            let cycle = Int64(1) << 32
            extended += (highest - extended + cycle / 2) / cycle * cycle
            if extended - highest > cycle / 2 { extended -= cycle }
        }
        highestTimestamp = max(highestTimestamp ?? extended, extended)
        let mediaNs = extended * 1_000_000_000 / 48_000
        if delays.count < Self.delayWindow {
            delays.append(packet.t - mediaNs)
        } else {
            delays[delayNext] = packet.t - mediaNs
            delayNext = (delayNext + 1) % Self.delayWindow
        }
        return mediaNs + (delays.max() ?? 0) + jitterBufferNs
    }

    // MARK: the data channel

    private mutating func message(_ text: String, at t: Int64, turn: Int?) -> [TimedEvent] {
        var out: [TimedEvent] = []
        for derived in realtime.interpret(.webSocketMessage(.text(text))) {
            switch derived {
            case .responseStarted(let id):
                bound = bound ?? id
                out.append(TimedEvent(t: t, derived, turn: turn))
            case .audio:
                out.append(
                    TimedEvent(
                        t: t, .anomaly("an audio delta on the data channel (WebRTC audio is the track)"), turn: turn))
            default:
                out.append(TimedEvent(t: t, derived, turn: turn))
            }
        }
        guard text.contains("output_audio_buffer."), let object = jsonObject(text),
            let type = object["type"] as? String
        else { return out }
        let response = object["response_id"] as? String
        switch type {
        case "output_audio_buffer.started":
            guard let response else { return out }
            playing.insert(response)
            if response == bound, !accepted {
                accepted = true
                let first = held.first
                out += held.map {
                    TimedEvent(t: $0.packet.t, .audio(bytes: $0.packet.samples, response: response), turn: turn)
                }
                if let first {
                    playoutReported = true
                    out.append(TimedEvent(t: first.packet.t, .playout(at: first.playout), turn: turn))
                }
                held = []
            } else if response != bound {
                if !held.isEmpty {
                    out.append(
                        TimedEvent(
                            t: t,
                            .anomaly(
                                "\(held.count) audio packets belonged to response \(response), which this turn did not create"
                            ),
                            turn: turn))
                }
                held = []
            }
        case "output_audio_buffer.stopped", "output_audio_buffer.cleared":
            if let response { playing.remove(response) } else { playing.removeAll() }
            if response == nil || response == bound { finished = accepted || finished }
        default:
            break
        }
        return out
    }
}
