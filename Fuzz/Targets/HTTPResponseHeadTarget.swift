import TTFASupport
import VoiceTransport

/// The HTTP response head a WebSocket upgrade reads (status line, headers, the handshake's
/// checks) and the `--header` parser: in any pieces, the same head; never more than the limit.
package enum HTTPResponseHeadTarget: FuzzTarget {
    package static let name = "http-head"
    package static let summary = "HTTPResponseHeadParser + WebSocketHandshake.validate; HeaderParser"

    package static func run(_ input: [UInt8]) {
        let (payload, pieces) = chunked(input)
        let limit = 2048
        var whole = HTTPResponseHeadParser(maxHeadBytes: limit)
        var split = HTTPResponseHeadParser(maxHeadBytes: limit)
        let wholeResult = try? whole.feed(payload)
        var splitResult: HTTPResponseHeadParser.Result? = .needMore
        for piece in pieces {
            guard case .needMore? = splitResult else { break }
            splitResult = try? split.feed(piece)
        }
        if case .complete(let head, _)? = wholeResult {
            if case .complete(let other, _)? = splitResult {
                require(head == other, "a head read in pieces differs from the head read whole")
            }
            _ = try? WebSocketHandshake(key: "dGhlIHNhbXBsZSBub25jZQ==").validate(head)
        }
        _ = try? HeaderParser.parse(String(decoding: payload, as: UTF8.self), environment: ["KEY": "secret"])
    }
}
