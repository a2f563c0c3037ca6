import VoiceTransport

/// The WebSocket client's frame reader (RFC 6455): any bytes from the server, in any pieces,
/// give the same actions as the same bytes at once; a message is never larger than the limit.
package enum WebSocketFramesTarget: FuzzTarget {
    package static let name = "websocket"
    package static let summary = "WebSocketStateMachine.receive: frames, fragments, control frames, close"

    package static func run(_ input: [UInt8]) {
        let (payload, pieces) = chunked(input)
        let limit = 4096
        var whole = WebSocketStateMachine(maxMessageSize: limit)
        var split = WebSocketStateMachine(maxMessageSize: limit)
        let wholeActions = whole.receive(payload)
        var splitActions: [WebSocketStateMachine.Action] = []
        for piece in pieces { splitActions += split.receive(piece) }
        require(wholeActions == splitActions, "split frames gave other actions than the whole")
        for action in wholeActions {
            if case .deliver(let message) = action {
                switch message {
                case .text(let text): require(text.utf8.count <= limit, "a text message over the limit")
                case .binary(let bytes): require(bytes.count <= limit, "a binary message over the limit")
                }
            }
        }
        _ = whole.close()
    }
}
