import Testing

@testable import VoiceTransport

struct HandshakeVector: Decodable, CustomTestStringConvertible, Sendable {
    struct Request: Decodable, Sendable {
        var key: String
        var requested_protocols: [String]
        enum CodingKeys: String, CodingKey {
            case key = "Sec-WebSocket-Key"
            case requested_protocols
        }
    }
    var name: String
    var client_request: Request
    var server_bytes_hex: String
    var expected: String

    var testDescription: String { name }
}

@Suite("WebSocket opening handshake")
struct WebSocketHandshakeTests {
    static let vectors = ConformanceVectors.load("websocket/handshake.json", as: [HandshakeVector].self)

    @Test("every shared vector, whole and byte by byte", arguments: vectors)
    func vector(_ vector: HandshakeVector) throws {
        let handshake = WebSocketHandshake(
            key: vector.client_request.key, protocols: vector.client_request.requested_protocols)
        for feeding in [Feeding.whole, .byteByByte] {
            var parser = HTTPResponseHeadParser()
            var head: HTTPResponseHead?
            for piece in feeding.pieces([UInt8](hex: vector.server_bytes_hex), splits: nil) {
                if case .complete(let h, _) = try parser.feed(piece) { head = h }
            }
            let parsed = try #require(head, "\(feeding)")
            var rejection: String?
            do { _ = try handshake.validate(parsed) } catch { rejection = "\(error)" }
            let accepted = rejection == nil
            #expect(accepted == (vector.expected == "open"), "\(feeding): \(rejection ?? "accepted")")
        }
    }

    @Test func acceptValueMatchesRFC6455Example() {
        #expect(WebSocketHandshake.acceptValue(for: "dGhlIHNhbXBsZSBub25jZQ==") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
    }

    @Test func requestCarriesTheUpgradeHeadersAndExtraHeaders() {
        let handshake = WebSocketHandshake(key: "abc=")
        let text = String(
            decoding: handshake.request(
                host: "example.com:8080", target: "/v1/realtime?model=m", headers: [("Authorization", "Bearer x")]),
            as: UTF8.self)
        #expect(text.hasPrefix("GET /v1/realtime?model=m HTTP/1.1\r\nHost: example.com:8080\r\n"))
        #expect(text.contains("Upgrade: websocket\r\n") && text.contains("Connection: Upgrade\r\n"))
        #expect(text.contains("Sec-WebSocket-Key: abc=\r\n") && text.contains("Sec-WebSocket-Version: 13\r\n"))
        #expect(text.contains("Authorization: Bearer x\r\n") && text.hasSuffix("\r\n\r\n"))
    }

    @Test func framesAfterTheHeadAreLeftOverForTheFrameParser() throws {
        let key = "dGhlIHNhbXBsZSBub25jZQ=="
        let response =
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: \(WebSocketHandshake.acceptValue(for: key))\r\n\r\n"
        var parser = HTTPResponseHeadParser()
        let result = try parser.feed(Array(response.utf8) + [0x81, 0x01, 0x61])
        guard case .complete(let head, let leftover) = result else {
            Issue.record("incomplete")
            return
        }
        #expect(leftover == [0x81, 0x01, 0x61])
        #expect(try WebSocketHandshake(key: key).validate(head) == nil)
    }

    @Test func refusalsSayWhatWasWrong() throws {
        var parser = HTTPResponseHeadParser()
        guard
            case .complete(let head, let body) = try parser.feed(
                Array("HTTP/1.1 426 Upgrade Required\r\nContent-Type: text/plain\r\n\r\nno ws".utf8))
        else {
            Issue.record("incomplete")
            return
        }
        #expect(body == Array("no ws".utf8))
        #expect(throws: WebSocketHandshake.Rejection.status(426, reasonPhrase: "Upgrade Required")) {
            try WebSocketHandshake(key: "k").validate(head)
        }
        #expect(
            "\(WebSocketHandshake.Rejection.status(426, reasonPhrase: "Upgrade Required"))".contains("instead of 101"))
    }

    @Test func notHTTPIsRejected() {
        var parser = HTTPResponseHeadParser()
        #expect(throws: WebSocketHandshake.Rejection.self) { try parser.feed(Array("SSH-2.0-OpenSSH\r\n\r\n".utf8)) }
    }

    @Test func oversizedHeadIsRejected() {
        var parser = HTTPResponseHeadParser(maxHeadBytes: 100)
        #expect(throws: WebSocketHandshake.Rejection.self) {
            try parser.feed(Array(("HTTP/1.1 101 OK\r\nX: " + String(repeating: "a", count: 200)).utf8))
        }
    }
}
