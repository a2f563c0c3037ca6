import Testing

@testable import VoiceTransport

struct FrameVector: Decodable, CustomTestStringConvertible, Sendable {
    struct Message: Decodable, Sendable {
        var type: String
        var text: String?
        var hex: String?
    }
    struct Expected: Decodable, Sendable {
        var deliver: [Message]
        var client_sends_pong_hex: [String]
        var client_close_code: UInt16?
        var acceptable_close_codes: [UInt16]?
        var fail_connection: Bool
    }
    var name: String
    var description: String
    var server_bytes_hex: String
    var chunks: [Int]?
    var expected: Expected

    var testDescription: String { "\(name): \(description)" }
}

/// What a client did with a server byte stream.
struct Observed {
    var delivered: [WebSocketMessage] = []
    var pongs: [[UInt8]] = []
    var closesSent: [UInt16?] = []
    var failed = false
    var closed = false
}

func run(_ pieces: [ArraySlice<UInt8>], maxMessageSize: Int = 16 << 20) -> Observed {
    var machine = WebSocketStateMachine(maxMessageSize: maxMessageSize)
    var observed = Observed()
    for piece in pieces {
        for action in machine.receive(piece) {
            switch action {
            case .deliver(let message): observed.delivered.append(message)
            case .sendPong(let payload): observed.pongs.append(payload)
            case .sendClose(let code, _): observed.closesSent.append(code)
            case .failed: observed.failed = true
            case .closed: observed.closed = true
            case .receivedPing, .receivedPong: break
            }
        }
    }
    return observed
}

@Suite("WebSocket frames: conformance vectors")
struct WebSocketFrameVectorTests {
    static let vectors = ConformanceVectors.load("websocket/frames.json", as: [FrameVector].self)

    @Test("every vector, whole, at its splits and byte by byte", arguments: vectors)
    func vector(_ vector: FrameVector) {
        let bytes = [UInt8](hex: vector.server_bytes_hex)
        let expectedMessages: [WebSocketMessage] = vector.expected.deliver.map {
            $0.type == "text" ? .text($0.text ?? "") : .binary([UInt8](hex: $0.hex ?? ""))
        }
        for feeding in Feeding.allCases {
            let observed = run(feeding.pieces(bytes, splits: vector.chunks))
            #expect(observed.delivered == expectedMessages, "\(feeding)")
            #expect(observed.pongs.map(\.hex) == vector.expected.client_sends_pong_hex, "\(feeding)")
            #expect(observed.closesSent.count == 1, "exactly one Close is sent (\(feeding))")
            if let acceptable = vector.expected.acceptable_close_codes {
                #expect(
                    observed.closesSent.first.flatMap { $0 }.map(acceptable.contains) == true,
                    "close code \(String(describing: observed.closesSent)) (\(feeding))")
            } else {
                #expect(observed.closesSent.first == vector.expected.client_close_code, "\(feeding)")
            }
            #expect(observed.failed == vector.expected.fail_connection, "\(feeding)")
        }
    }
}

/// A server frame (unmasked), for cases the vectors do not cover.
func serverFrame(_ opcode: UInt8, _ payload: [UInt8], fin: Bool = true, rsv: UInt8 = 0) -> [UInt8] {
    var frame: [UInt8] = [(fin ? 0x80 : 0) | rsv << 4 | opcode]
    if payload.count < 126 {
        frame.append(UInt8(payload.count))
    } else if payload.count <= 0xFFFF {
        frame += [126, UInt8(payload.count >> 8), UInt8(payload.count & 0xFF)]
    } else {
        frame.append(127)
        for shift in stride(from: 56, through: 0, by: -8) { frame.append(UInt8((payload.count >> shift) & 0xFF)) }
    }
    return frame + payload
}

func closeFrame(_ code: UInt16?, _ reason: [UInt8] = []) -> [UInt8] {
    serverFrame(0x8, code.map { [UInt8($0 >> 8), UInt8($0 & 0xFF)] + reason } ?? [])
}

@Suite("WebSocket frames: cases beyond the vectors")
struct WebSocketStateMachineTests {
    func eachFeeding(_ bytes: [UInt8], maxMessageSize: Int = 16 << 20, _ check: (Observed, Feeding) -> Void) {
        for feeding in Feeding.allCases {
            check(run(feeding.pieces(bytes, splits: [1, 2, 3, 5, 8]), maxMessageSize: maxMessageSize), feeding)
        }
    }

    @Test func invalidUTF8AcrossFragmentsFailsWith1007() {
        // "κ" is CE BA; split the sequence across fragments, then break it in the second.
        let bytes = serverFrame(0x1, [0x61, 0xCE], fin: false) + serverFrame(0x0, [0x41], fin: true)
        eachFeeding(bytes) { observed, feeding in
            #expect(observed.closesSent == [1007], "\(feeding)")
            #expect(observed.delivered.isEmpty, "\(feeding)")
        }
    }

    @Test func validUTF8SplitAcrossFragmentsIsDelivered() {
        let bytes =
            serverFrame(0x1, [0x61, 0xCE], fin: false) + serverFrame(0x0, [0xBA, 0x62], fin: true) + closeFrame(1000)
        eachFeeding(bytes) { observed, feeding in
            #expect(observed.delivered == [.text("aκb")], "\(feeding)")
            #expect(observed.closesSent == [1000], "\(feeding)")
        }
    }

    @Test func textEndingMidSequenceFailsWith1007() {
        eachFeeding(serverFrame(0x1, [0x61, 0xE2, 0x82])) { observed, _ in
            #expect(observed.closesSent == [1007])
        }
    }

    @Test func invalidUTF8InCloseReasonFailsWith1007() {
        eachFeeding(closeFrame(1000, [0xFF])) { observed, _ in
            #expect(observed.closesSent == [1007])
            #expect(observed.failed)
        }
    }

    @Test func messageAboveTheLimitFailsWith1009BeforeItsPayloadArrives() {
        let bytes = Array(serverFrame(0x2, [UInt8](repeating: 1, count: 300)).prefix(4))
        eachFeeding(bytes, maxMessageSize: 256) { observed, _ in
            #expect(observed.closesSent == [1009])
        }
    }

    @Test func fragmentsTogetherAboveTheLimitFailWith1009() {
        let bytes =
            serverFrame(0x2, [UInt8](repeating: 1, count: 200), fin: false)
            + serverFrame(0x0, [UInt8](repeating: 2, count: 100))
        eachFeeding(bytes, maxMessageSize: 256) { observed, _ in
            #expect(observed.closesSent == [1009])
            #expect(observed.delivered.isEmpty)
        }
    }

    @Test(arguments: [UInt16(1004), 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535])
    func invalidCloseCodesFailWith1002(code: UInt16) {
        eachFeeding(closeFrame(code)) { observed, _ in
            #expect(observed.closesSent == [1002])
        }
    }

    @Test(arguments: [UInt16(1000), 1001, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 3999, 4000, 4999])
    func validCloseCodesAreEchoed(code: UInt16) {
        eachFeeding(closeFrame(code, Array("bye".utf8))) { observed, _ in
            #expect(observed.closesSent == [code])
            #expect(observed.closed && !observed.failed)
        }
    }

    @Test func emptyCloseIsAnsweredWithEmptyClose() {
        eachFeeding(closeFrame(nil)) { observed, _ in
            #expect(observed.closesSent == [nil])
        }
    }

    @Test func oneByteClosePayloadFailsWith1002() {
        eachFeeding(serverFrame(0x8, [0x03])) { observed, _ in
            #expect(observed.closesSent == [1002])
        }
    }

    @Test func pingIsAnsweredBeforeTheFragmentedMessageCompletes() {
        let first = serverFrame(0x1, Array("ab".utf8), fin: false) + serverFrame(0x9, [1, 2, 3])
        var machine = WebSocketStateMachine()
        let actions = machine.receive(first)
        #expect(actions.contains(.sendPong([1, 2, 3])))
        let rest = machine.receive(serverFrame(0x0, Array("c".utf8)))
        #expect(rest == [.deliver(.text("abc"))])
    }

    @Test func nothingAfterAFailureIsProcessed() {
        let bytes =
            serverFrame(0x1, Array("x".utf8), rsv: 4) + serverFrame(0x9, [9]) + serverFrame(0x1, Array("y".utf8))
        eachFeeding(bytes) { observed, _ in
            #expect(observed.pongs.isEmpty && observed.delivered.isEmpty && observed.closesSent == [1002])
        }
    }

    @Test func clientInitiatedCloseCompletesOnTheServersReply() {
        var machine = WebSocketStateMachine()
        #expect(machine.close(code: 1000) == [.sendClose(code: 1000, reason: "")])
        #expect(machine.state == .closeSent)
        #expect(machine.close() == [])
        let actions = machine.receive(closeFrame(1000))
        #expect(actions == [.closed(code: 1000, reason: "", by: .client)])
        #expect(machine.state == .closed)
    }

    @Test func largeBinaryMessageWith64BitLength() {
        let payload = (0..<70_000).map { UInt8($0 & 0xFF) }
        eachFeeding(serverFrame(0x2, payload) + closeFrame(1000)) { observed, _ in
            #expect(observed.delivered == [.binary(payload)])
        }
    }

    @Test func encoderMasksWithTheKeyAndRoundTrips() {
        let key: [UInt8] = [0x37, 0xFA, 0x21, 0x3D]
        let frame = WebSocketFrameEncoder.encode(.text, payload: Array("Hello".utf8), maskKey: key)
        // RFC 6455 §5.7 example: a masked "Hello".
        #expect(frame == [UInt8](hex: "818537fa213d7f9f4d5158"))
        for length in [0, 125, 126, 65535, 65536] {
            let payload = [UInt8](repeating: 0x5A, count: length)
            let encoded = WebSocketFrameEncoder.encode(.binary, payload: payload, maskKey: key)
            let headerLength = length < 126 ? 2 : length <= 0xFFFF ? 4 : 10
            #expect(encoded.count == headerLength + 4 + length)
            #expect(encoded[1] & 0x80 != 0, "client frames are masked")
            let unmasked = encoded[(headerLength + 4)...].enumerated().map { $0.element ^ key[$0.offset & 3] }
            #expect(unmasked == payload)
        }
    }

    @Test func closePayloadReasonIsTruncatedOnACharacterBoundary() {
        let payload = WebSocketFrameEncoder.closePayload(code: 1000, reason: String(repeating: "é", count: 100))
        #expect(payload.count <= 125)
        var validator = UTF8Validator()
        #expect(validator.validate(payload[2...]) && validator.isComplete)
    }
}

@Suite("UTF-8 validator")
struct UTF8ValidatorTests {
    @Test func agreesWithTheStandardLibraryOnRandomBytes() {
        var generator = SystemRandomNumberGenerator()
        let interesting: [UInt8] = [
            0x00, 0x41, 0x7F, 0x80, 0xBF, 0xC0, 0xC1, 0xC2, 0xDF, 0xE0, 0xED, 0xEF, 0xF0, 0xF4, 0xF5, 0xFF, 0xA0, 0x9F,
            0x90, 0x8F,
        ]
        for _ in 0..<20_000 {
            let length = Int.random(in: 0...6, using: &generator)
            let bytes = (0..<length).map { _ in interesting.randomElement(using: &generator)! }
            var validator = UTF8Validator()
            let ours = validator.validate(bytes) && validator.isComplete
            let standard = String(validating: bytes, as: UTF8.self) != nil
            #expect(ours == standard, "\(bytes.hex)")
        }
    }
}
