import NIOCore
import NIOEmbedded
import NIOWebSocket

/// SwiftNIO's WebSocket frame codec, the independent implementation the property tests hold
/// ttfa's hand-written client against (kept in a file of its own: NIO's type names are ttfa's).
enum NIOWebSocketOracle {
    struct Frame: Equatable {
        var fin: Bool
        var opcode: UInt8
        var maskKey: [UInt8]?
        var payload: [UInt8]
    }

    /// Frames as NIO's server-side decoder reads them from `bytes`.
    static func decode(_ bytes: [UInt8]) throws -> [Frame] {
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(WebSocketFrameDecoder(maxFrameSize: 1 << 20)))
        try channel.writeInbound(ByteBuffer(bytes: bytes))
        var frames: [Frame] = []
        while let frame = try channel.readInbound(as: WebSocketFrame.self) {
            var data = frame.unmaskedData
            frames.append(
                Frame(
                    fin: frame.fin, opcode: UInt8(webSocketOpcode: frame.opcode),
                    maskKey: frame.maskKey.map { [$0[0], $0[1], $0[2], $0[3]] },
                    payload: data.readBytes(length: data.readableBytes) ?? []))
        }
        _ = try channel.finish()
        return frames
    }

    /// `frames` as NIO's encoder writes them: a server's frames, unmasked.
    static func encode(_ frames: [Frame]) throws -> [UInt8] {
        let channel = EmbeddedChannel(handler: WebSocketFrameEncoder())
        var bytes: [UInt8] = []
        for frame in frames {
            try channel.writeOutbound(
                WebSocketFrame(
                    fin: frame.fin, opcode: WebSocketOpcode(encodedWebSocketOpcode: frame.opcode)!,
                    data: ByteBuffer(bytes: frame.payload))
            )
            while var buffer = try channel.readOutbound(as: ByteBuffer.self) {
                bytes += buffer.readBytes(length: buffer.readableBytes) ?? []
            }
        }
        _ = try channel.finish()
        return bytes
    }
}
