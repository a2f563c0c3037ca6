import Testing

@testable import VoiceTransport

/// Which packets of a WebRTC call's audio track are a turn's answer: judged from the packets
/// and the data channel's events, whichever arrives first — no sockets, no GStreamer.
@Suite struct WebRTCInterpreterTests {
    /// A scripted call: the interpreter sees the events in the order given.
    struct Call {
        var interpreter = WebRTCInterpreter(options: RealtimeOptions(), jitterBufferNs: 40_000_000)
        var sequence: UInt16 = 0
        var timestamp: UInt32 = 0
        var out: [TimedEvent] = []

        init(turn: Int = 1) {
            interpreter.beginTurn(turn)
            _ = interpreter.interpretTimed(
                TimedEvent(t: 0, .dataChannelMessage(#"{"type":"session.created","session":{}}"#)))
        }

        mutating func packet(at t: Int64, loud: Bool) {
            sequence &+= 1
            timestamp &+= 960
            out += interpreter.interpretTimed(
                TimedEvent(
                    t: t, .rtp(RTPArrival(t: t, sequence: sequence, timestamp: timestamp, samples: 960, loud: loud))))
        }

        mutating func message(_ text: String, at t: Int64) {
            out += interpreter.interpretTimed(TimedEvent(t: t, .dataChannelMessage(text)))
        }

        mutating func speechEnd(at t: Int64, turn: Int = 1) {
            out += interpreter.interpretTimed(
                TimedEvent(t: t, .speechEnd(scheduled: t, lagNs: 0, blockedNs: 0), turn: turn))
        }

        mutating func created(_ id: String, turn: Int = 1, at t: Int64) {
            message(
                #"{"type":"response.created","response":{"id":"\#(id)","metadata":{"ttfa_turn":"\#(turn)"}}}"#, at: t)
        }

        mutating func buffer(_ what: String, _ id: String, at t: Int64) {
            message(#"{"type":"output_audio_buffer.\#(what)","response_id":"\#(id)"}"#, at: t)
        }

        var audio: [(t: Int64, response: String?)] {
            out.compactMap { if case .audio(_, let r) = $0.event { ($0.t, r) } else { nil } }
        }
        var anomalies: [String] { out.compactMap { if case .anomaly(let a) = $0.event { a } else { nil } } }
        var playout: Int64? { out.lazy.compactMap { if case .playout(let at) = $0.event { at } else { nil } }.first }
    }

    @Test func audioAfterItsStartedEventCountsFromItsOwnArrival() {
        var call = Call()
        for t in stride(from: Int64(0), to: 100, by: 20) { call.packet(at: t * 1_000_000, loud: false) }
        call.speechEnd(at: 100_000_000)
        call.created("resp_A", at: 101_000_000)
        call.buffer("started", "resp_A", at: 400_000_000)
        call.packet(at: 401_000_000, loud: true)
        call.packet(at: 421_000_000, loud: true)
        #expect(call.audio.map(\.t) == [401_000_000, 421_000_000])
        #expect(call.audio.allSatisfy { $0.response == "resp_A" })
        #expect(call.anomalies.isEmpty)
    }

    @Test func audioBeforeItsStartedEventIsHeldAndKeepsItsArrivalTime() {
        // Media and data channel are not ordered: the first packet overtakes `started`.
        var call = Call()
        call.speechEnd(at: 100_000_000)
        call.created("resp_A", at: 101_000_000)
        call.packet(at: 300_000_000, loud: false)
        call.packet(at: 320_000_000, loud: true)
        #expect(call.audio.isEmpty, "not counted before the data channel says whose audio it is")
        call.buffer("started", "resp_A", at: 325_000_000)
        #expect(call.audio.map(\.t) == [320_000_000], "counted at its own arrival, not at started's")
        call.packet(at: 340_000_000, loud: true)
        #expect(call.audio.count == 2)
    }

    @Test func audioOfAnotherResponseIsNeverThisTurns() {
        var call = Call()
        call.speechEnd(at: 100_000_000)
        call.packet(at: 150_000_000, loud: true)
        call.buffer("started", "resp_OTHER", at: 151_000_000)
        call.created("resp_A", at: 160_000_000)
        call.packet(at: 170_000_000, loud: true)
        call.buffer("stopped", "resp_OTHER", at: 200_000_000)
        call.packet(at: 220_000_000, loud: false)
        call.packet(at: 300_000_000, loud: true)
        call.buffer("started", "resp_A", at: 301_000_000)
        #expect(call.audio.map(\.t) == [300_000_000], "only the spurt after the other answer stopped")
        #expect(!call.anomalies.isEmpty)
    }

    @Test func audioWithNoResponseCreatedIsNeverCounted() {
        var call = Call()
        call.speechEnd(at: 100_000_000)
        call.packet(at: 150_000_000, loud: true)
        call.buffer("started", "resp_X", at: 151_000_000)
        call.packet(at: 170_000_000, loud: true)
        #expect(call.audio.isEmpty)
        #expect(!call.anomalies.isEmpty)
    }

    @Test func audioThatBeganBeforeTheEndOfSpeechIsNotTheAnswer() {
        // A previous answer's tail (or audio before the commit) runs on past the end of speech.
        var call = Call()
        call.packet(at: 10_000_000, loud: false)
        call.packet(at: 30_000_000, loud: true)
        call.packet(at: 50_000_000, loud: true)
        call.packet(at: 70_000_000, loud: true)
        call.speechEnd(at: 80_000_000)
        call.created("resp_A", at: 81_000_000)
        call.packet(at: 90_000_000, loud: true)
        call.buffer("started", "resp_A", at: 95_000_000)
        call.packet(at: 110_000_000, loud: true)
        #expect(call.audio.isEmpty, "the spurt in progress at the end of speech is never the answer")
        call.packet(at: 130_000_000, loud: false)
        call.packet(at: 150_000_000, loud: true)
        #expect(call.audio.map(\.t) == [150_000_000])
        #expect(call.anomalies.count >= 1)
    }

    @Test func theCodecsTailAfterTheLastAnswerIsNoAnomaly() {
        var call = Call()
        call.speechEnd(at: 100_000_000)
        call.created("resp_A", at: 101_000_000)
        call.buffer("started", "resp_A", at: 300_000_000)
        call.packet(at: 301_000_000, loud: true)
        call.buffer("stopped", "resp_A", at: 320_000_000)
        call.interpreter.beginTurn(2)
        call.packet(at: 321_000_000, loud: true)  // the answer's last milliseconds, delayed by the codec
        call.packet(at: 341_000_000, loud: true)  // the codec ringing out
        call.packet(at: 361_000_000, loud: false)
        #expect(call.anomalies.isEmpty)
        #expect(call.audio.count == 1)
    }

    @Test func aPauseInTheTrackEndsATalkSpurt() {
        // The track stopped mid-answer (no packets at all); the next answer starts a new spurt.
        var call = Call()
        call.packet(at: 10_000_000, loud: true)
        call.interpreter.beginTurn(2)
        call.speechEnd(at: 500_000_000, turn: 2)
        call.created("resp_B", turn: 2, at: 501_000_000)
        call.buffer("started", "resp_B", at: 700_000_000)
        call.packet(at: 701_000_000, loud: true)
        #expect(call.audio.map(\.t) == [701_000_000])
    }

    @Test func nothingCountsAfterTheAnswerStopped() {
        var call = Call()
        call.speechEnd(at: 100_000_000)
        call.created("resp_A", at: 101_000_000)
        call.buffer("started", "resp_A", at: 300_000_000)
        call.packet(at: 301_000_000, loud: true)
        call.buffer("stopped", "resp_A", at: 400_000_000)
        call.packet(at: 401_000_000, loud: true)
        #expect(call.audio.count == 1)
    }

    @Test func playoutIsArrivalShiftedByTheLargestDelayPlusTheJitterBuffer() {
        var call = Call()
        // Packets 20 ms apart in media time; the second arrives 15 ms late.
        call.packet(at: 1_000_000_000, loud: false)
        call.packet(at: 1_035_000_000, loud: false)
        call.speechEnd(at: 1_040_000_000)
        call.created("resp_A", at: 1_041_000_000)
        call.buffer("started", "resp_A", at: 1_045_000_000)
        call.packet(at: 1_050_000_000, loud: true)
        // Media time of packet 3 is 40 ms after packet 1; the worst delay seen is packet 2's 15 ms.
        let expected: Int64 = 1_000_000_000 + 40_000_000 + 15_000_000 + 40_000_000
        #expect(call.playout.map { $0 - expected } == 0)
    }
}
