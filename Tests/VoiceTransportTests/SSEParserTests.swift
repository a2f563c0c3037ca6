import Testing

@testable import VoiceTransport

struct SSEVector: Decodable, CustomTestStringConvertible, Sendable {
    struct Expected: Decodable, Sendable {
        var type: String
        var data: String
        var id: String
        var retry: Int?
    }
    struct State: Decodable, Sendable {
        var last_event_id: String
        var reconnection_time_ms: Int?
    }
    var name: String
    var input_hex: String
    var chunks: [Int]?
    var expected: [Expected]
    var expected_state: State?

    var testDescription: String { name }
}

/// Runs `pieces` through a fresh parser, then ends the stream.
private func parse(_ pieces: [ArraySlice<UInt8>]) throws -> (events: [SSEEvent], parser: SSEParser) {
    var parser = SSEParser()
    var events: [SSEEvent] = []
    for piece in pieces { events += try parser.feed(piece) }
    events += parser.finish()
    return (events, parser)
}

private func events(_ text: String, feeding: Feeding = .whole, splits: [Int]? = nil) throws -> [SSEEvent] {
    try parse(feeding.pieces(Array(text.utf8), splits: splits)).events
}

@Suite("SSE parser: conformance vectors")
struct SSEVectorTests {
    static let vectors = ConformanceVectors.load("sse/vectors.json", as: [SSEVector].self)

    @Test("every vector, whole, at its splits and byte by byte", arguments: vectors)
    func vector(_ vector: SSEVector) throws {
        let bytes = [UInt8](hex: vector.input_hex)
        for feeding in Feeding.allCases {
            let (events, parser) = try parse(feeding.pieces(bytes, splits: vector.chunks))
            let got = events.map {
                SSEVector.Expected(type: $0.type, data: $0.data, id: $0.lastEventID, retry: $0.retry)
            }
            #expect(got.map(\.type) == vector.expected.map(\.type), "\(feeding)")
            #expect(got.map(\.data) == vector.expected.map(\.data), "\(feeding)")
            #expect(got.map(\.id) == vector.expected.map(\.id), "\(feeding)")
            #expect(got.map(\.retry) == vector.expected.map(\.retry), "\(feeding)")
            if let state = vector.expected_state {
                #expect(parser.lastEventID == state.last_event_id, "\(feeding)")
                #expect(parser.reconnectionTime == state.reconnection_time_ms, "\(feeding)")
            }
        }
    }
}

@Suite("SSE parser: cases beyond the vectors")
struct SSEParserTests {
    @Test func crlfSplitBetweenCRAndLFIsOneLineEnding() throws {
        let text = "data: a\r\n\r\ndata: b\r\n\r\n"
        for split in 1..<text.utf8.count {
            let got = try events(text, feeding: .atSplits, splits: [split])
            #expect(got.map(\.data) == ["a", "b"], "split at \(split)")
        }
    }

    @Test func crAloneEndsLinesAndBlankCRLineDispatches() throws {
        #expect(try events("data: a\r\rdata: b\r\r").map(\.data) == ["a", "b"])
        #expect(try events("data: a\r\n\ndata: b\n\r\n").map(\.data) == ["a", "b"])
    }

    @Test func blockWithoutBlankLineAtEndOfStreamIsDiscarded() throws {
        #expect(try events("data: a\n\ndata: b\n").map(\.data) == ["a"])
        #expect(try events("data: a\n\ndata: b").map(\.data) == ["a"])
    }

    @Test func onlyOneLeadingSpaceIsStripped() throws {
        #expect(try events("data:  two\n\n").map(\.data) == [" two"])
        #expect(try events("data:\tx\n\n").map(\.data) == ["\tx"])
    }

    @Test func fieldWithoutColonHasEmptyValue() throws {
        #expect(try events("data\ndata\n\n").map(\.data) == ["\n"])
        #expect(try events("event\ndata: x\n\n").map(\.type) == ["message"])
    }

    @Test func eventTypeResetsAfterEachDispatch() throws {
        let got = try events("event: a\ndata: 1\n\ndata: 2\n\nevent: b\n\ndata: 3\n\n")
        #expect(got.map(\.type) == ["a", "message", "message"])
    }

    @Test func lastEventIDPersistsAndUpdatesEvenWithoutDispatch() throws {
        let (got, parser) = try parse([Array("id: 7\ndata: x\n\nid: 8\n\ndata: y\n\n".utf8)[...]])
        #expect(got.map(\.lastEventID) == ["7", "8"])
        #expect(parser.lastEventID == "8")
    }

    @Test func idContainingNULIsIgnored() throws {
        let bytes: [UInt8] = Array("id: 1\ndata: a\n\nid: 2".utf8) + [0] + Array("\ndata: b\n\n".utf8)
        let got = try parse([bytes[...]]).events
        #expect(got.map(\.lastEventID) == ["1", "1"])
    }

    @Test func retryNeedsDigitsOnlyAndSurvivesHugeValues() throws {
        #expect(try events("retry: 12a\ndata: x\n\n").first?.retry == nil)
        #expect(try events("retry: -5\ndata: x\n\n").first?.retry == nil)
        #expect(try events("retry: 1 \ndata: x\n\n").first?.retry == nil)
        #expect(try events("retry: 99999999999999999999999999\ndata: x\n\n").first?.retry == Int.max)
        #expect(try events("retry:0\ndata: x\n\n").first?.retry == 0)
    }

    @Test func commentsAndUnknownFieldsAreIgnoredEvenMidBlock() throws {
        let got = try events(": keep-alive\ndata: a\n: more\nfoo: bar\ndata: b\n\n")
        #expect(got.map(\.data) == ["a\nb"])
    }

    @Test func bomSplitAcrossReadsIsStrippedOnce() throws {
        let bytes: [UInt8] = [0xEF, 0xBB, 0xBF] + Array("data: x\n\n".utf8)
        for split in 1..<4 {
            let got = try parse(Feeding.atSplits.pieces(bytes, splits: [split])).events
            #expect(got.map(\.data) == ["x"], "split at \(split)")
        }
    }

    @Test func partialBOMIsData() throws {
        let bytes: [UInt8] = [0xEF, 0xBB] + Array("data: x\n\ndata: y\n\n".utf8)
        let got = try parse([bytes[...]]).events
        #expect(got.map(\.data) == ["y"])  // the first field name is "\u{FFFD}data", ignored
    }

    @Test func invalidUTF8BecomesReplacementCharactersAndSplitSequencesSurvive() throws {
        let bytes: [UInt8] = Array("data: ".utf8) + [0xE2, 0x80, 0xA6, 0xFF] + Array("\n\n".utf8)
        for feeding in Feeding.allCases {
            let got = try parse(feeding.pieces(bytes, splits: [7, 8])).events
            #expect(got.map(\.data) == ["…\u{FFFD}"], "\(feeding)")
        }
    }

    @Test func openAIChatChunksStreamAsMessages() throws {
        let text = "data: {\"choices\":[]}\n\ndata: [DONE]\n\n"
        #expect(try events(text, feeding: .byteByByte).map(\.data) == ["{\"choices\":[]}", "[DONE]"])
    }

    @Test func lineLongerThanTheLimitIsRejected() {
        var parser = SSEParser(maxLineBytes: 16)
        #expect(throws: SSEParser.ParseError.lineTooLong(limit: 16)) {
            _ = try parser.feed(Array("data: 0123456789abcdef\n\n".utf8))
        }
    }

    @Test func manyEventsInOneRead() throws {
        let text = (0..<100).map { "data: \($0)\n\n" }.joined()
        #expect(try events(text).map(\.data) == (0..<100).map(String.init))
    }
}
