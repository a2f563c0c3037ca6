import PropertyBased
import Testing

@testable import VoiceTransport

/// Properties of the hand-written parsers, over generated inputs rather than chosen examples:
/// how a stream is cut into reads never changes what is parsed, and what the client frames is
/// what an independent WebSocket implementation (SwiftNIO's) reads, and back.
/// One of `values`, uniformly.
func oneOf<T: Sendable>(_ values: [T]) -> Generator<T, Shrink.None<T?>> {
    Gen<T?>.element(of: values).map { $0! }
}

@Suite("Parser properties")
struct ParserPropertyTests {
    // MARK: SSE

    /// One generated event: its type, its data lines and maybe an id.
    struct GeneratedEvent: Sendable, CustomStringConvertible {
        var type: String
        var lines: [String]
        var id: String?
        var description: String { "event \(type) \(lines) id \(id ?? "-")" }
    }

    /// Text that may hold colons, spaces, quotes, JSON punctuation and non-ASCII, but no line end.
    static let fieldText = oneOf(Array("abcXYZ019 :{}\"\\,-_.é€😀")).string(of: 0...24)
    static let events = oneOf(["message", "response.output_audio.delta", "done", "x-custom"]).array(of: 1...6)

    /// A stream as a server writes it: comments, event, data and id lines, blank lines between
    /// events, every line ended with `terminator`.
    static func serialize(_ events: [GeneratedEvent], terminator: String, comments: Bool) -> String {
        var text = ""
        for event in events {
            if comments { text += ": keep-alive" + terminator }
            if event.type != "message" { text += "event: \(event.type)" + terminator }
            for line in event.lines { text += "data: \(line)" + terminator }
            if let id = event.id { text += "id: \(id)" + terminator }
            text += terminator
        }
        return text
    }

    /// What a conforming parser dispatches for `events` (the last event id carries over).
    static func expected(_ events: [GeneratedEvent]) -> [SSEEvent] {
        var lastID = ""
        return events.map { event in
            if let id = event.id { lastID = id }
            return SSEEvent(type: event.type, data: event.lines.joined(separator: "\n"), lastEventID: lastID)
        }
    }

    /// `bytes` cut at `cuts` (any positions; sorted and clamped here).
    static func pieces(_ bytes: [UInt8], at cuts: [Int]) -> [ArraySlice<UInt8>] {
        let points = ([0] + cuts.map { min(max($0, 0), bytes.count) } + [bytes.count]).sorted()
        return zip(points, points.dropFirst()).map { bytes[$0..<$1] }
    }

    /// Any split of a valid stream into reads gives the same events as the whole stream, and
    /// those are the events written — with LF, CRLF or CR line ends, with or without comments.
    @Test func anySplitOfAnSSEStreamGivesTheSameEvents() async throws {
        let generatedEvents = PropertyBased.zip(
            Self.events, Self.fieldText.array(of: 1...4).array(of: 6),
            Gen.letterOrNumber.string(of: 1...8).optional(valueRate: 0.4).array(of: 6)
        ).map { types, lines, ids in
            types.enumerated().map { i, type in GeneratedEvent(type: type, lines: lines[i], id: ids[i]) }
        }
        await propertyCheck(
            count: 300, input: generatedEvents, oneOf(["\n", "\r\n", "\r"]), Gen.bool,
            Gen.int(in: 0...4000).array(of: 0...12)
        ) { events, terminator, comments, cuts in
            let bytes = Array(Self.serialize(events, terminator: terminator, comments: comments).utf8)
            var whole = SSEParser()
            let expected = Self.expected(events)
            let all = try whole.feed(bytes) + whole.finish()
            #expect(all == expected)
            var split = SSEParser()
            var parsed: [SSEEvent] = []
            for piece in Self.pieces(bytes, at: cuts) { parsed += try split.feed(piece) }
            parsed += split.finish()
            #expect(parsed == expected, "cut at \(cuts.sorted())")
        }
    }

    // MARK: WebSocket

    /// A frame the client encodes (masked, any key, any length across the 7-bit, 16-bit and
    /// 64-bit length forms) is, as SwiftNIO reads it, the same opcode, FIN bit and payload.
    @Test func aFrameTheClientEncodesIsWhatNIOReads() async throws {
        let lengths = oneOf([0, 1, 7, 8, 9, 125, 126, 127, 65535, 65536, 70000])
        await propertyCheck(
            count: 200, input: oneOf([WebSocketOpcode.text, .binary, .continuation, .ping, .pong]),
            Gen.bool, Gen.uint8().array(of: 4), lengths, Gen.uint8()
        ) { opcode, fin, key, length, fill in
            let control = opcode == .ping || opcode == .pong
            let payload = (0..<(control ? min(length, 125) : length)).map {
                UInt8(truncatingIfNeeded: $0 &* 31 &+ Int(fill))
            }
            let bytes = WebSocketFrameEncoder.encode(opcode, payload: payload, fin: fin || control, maskKey: key)
            let frames = try NIOWebSocketOracle.decode(bytes)
            #expect(
                frames == [.init(fin: fin || control, opcode: opcode.rawValue, maskKey: key, payload: payload)],
                "\(frames.map { ($0.fin, $0.opcode, $0.maskKey, $0.payload.count) })")
        }
    }

    /// A message a server sends in any number of fragments, with pings between them, framed by
    /// SwiftNIO and read by the client in any cuts, is delivered once and whole, and every ping
    /// gets its pong.
    @Test func aFragmentedMessageInAnyCutsIsDeliveredWhole() async throws {
        await propertyCheck(
            count: 200, input: Self.fieldText, Gen.bool, Gen.int(in: 1...5), Gen.int(in: 0...2),
            Gen.int(in: 0...600).array(of: 0...10)
        ) { text, binary, fragments, pings, cuts in
            let payload = Array(text.utf8)
            // Fragment boundaries inside the payload (a UTF-8 character may be split: the
            // message, not the frame, must be valid UTF-8).
            let bounds = (0...fragments).map { payload.count * $0 / fragments }
            var frames: [NIOWebSocketOracle.Frame] = []
            for index in 0..<fragments {
                let opcode: WebSocketOpcode = index == 0 ? (binary ? .binary : .text) : .continuation
                frames.append(
                    .init(
                        fin: index == fragments - 1, opcode: opcode.rawValue,
                        payload: Array(payload[bounds[index]..<bounds[index + 1]])))
                if index < pings {
                    frames.append(.init(fin: true, opcode: WebSocketOpcode.ping.rawValue, payload: [UInt8(index)]))
                }
            }
            let bytes = try NIOWebSocketOracle.encode(frames)
            let observed = run(ParserPropertyTests.pieces(bytes, at: cuts))
            #expect(observed.delivered == [binary ? .binary(payload) : .text(text)])
            #expect(observed.pongs == (0..<min(pings, fragments)).map { [UInt8($0)] })
            #expect(!observed.failed && !observed.closed)
        }
    }
}
