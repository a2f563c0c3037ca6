import Foundation
import HummingbirdCore
import Logging
import NIOCore

/// Wraps the server's HTTP/WebSocket child channel with a handler at the very front of the
/// pipeline that plays an edge platform or proxy: for a WebSocket upgrade request asking for
/// an upgrade-time fault it answers (or drops the connection) itself, before Hummingbird sees
/// the request. Everything else passes through untouched.
struct UpgradeFaultChannel<Base: ServerChildChannel>: ServerChildChannel {
    let base: Base

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Base.Value> {
        channel.eventLoop.makeCompletedFuture {
            try channel.pipeline.syncOperations.addHandler(UpgradeFaultHandler(logger: logger), position: .first)
        }.flatMap {
            base.setup(channel: channel, logger: logger)
        }
    }

    func handle(value: Base.Value, logger: Logger) async {
        await base.handle(value: value, logger: logger)
    }
}

/// Looks at the first request head on a connection (raw bytes, before HTTP decoding).
final class UpgradeFaultHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let logger: Logger
    private var buffered: ByteBuffer?
    private var decided = false

    init(logger: Logger) {
        self.logger = logger
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var incoming = unwrapInboundIn(data)
        guard !decided else {
            context.fireChannelRead(wrapInboundOut(incoming))
            return
        }
        if buffered == nil { buffered = incoming } else { buffered!.writeBuffer(&incoming) }
        let view = buffered!.readableBytesView
        guard let end = view.firstRange(of: Array("\r\n\r\n".utf8)) else {
            if view.count > 64 << 10 { passThrough(context: context) }
            return
        }
        let head = String(decoding: view[view.startIndex..<end.lowerBound], as: UTF8.self)
        decide(head: head, context: context)
    }

    private func decide(head: String, context: ChannelHandlerContext) {
        let lines = head.split(separator: "\r\n")
        let isUpgrade = lines.dropFirst().contains { line in
            let lower = line.lowercased()
            return lower.hasPrefix("upgrade:") && lower.contains("websocket")
        }
        let requestLine = lines.first.map(String.init) ?? ""
        let target = requestLine.split(separator: " ").dropFirst().first.map(String.init) ?? "/"
        guard isUpgrade else { return passThrough(context: context) }
        let options: RequestOptions
        do {
            options = try RequestOptions(target: target)
        } catch {
            return answer(context: context, status: "400 Bad Request", contentType: "application/json",
                          body: Wire.json(["error": Wire.errorObject(message: error.message, type: "invalid_request_error", code: "invalid_value")]))
        }
        guard let fault = options.fault, fault.isUpgradeFault else { return passThrough(context: context) }
        logger.debug("upgrade fault", metadata: ["fault": "\(fault.rawValue)"])
        switch fault {
        case .rejectUpgrade:
            answer(context: context, status: "200 OK", contentType: "text/plain; charset=utf-8",
                   body: "This endpoint does not support WebSocket connections.\n")
        case .closeBeforeUpgrade:
            decided = true
            buffered = nil
            context.close(promise: nil)
        case .http500:
            answer(context: context, status: "500 Internal Server Error", contentType: "application/json",
                   body: Wire.json(["error": Wire.errorObject(message: "The server had an error while processing your request. Sorry about that!", type: "server_error", code: nil)]))
        case .http429:
            answer(context: context, status: "429 Too Many Requests", contentType: "application/json",
                   body: Wire.json(["error": Wire.errorObject(message: "Rate limit reached for requests. Please try again in 1s.", type: "requests", code: "rate_limit_exceeded")]),
                   extraHeaders: "Retry-After: 1\r\n")
        default:
            passThrough(context: context)
        }
    }

    private func answer(context: ChannelHandlerContext, status: String, contentType: String, body: String, extraHeaders: String = "") {
        decided = true
        buffered = nil
        let bodyBytes = Array(body.utf8)
        let response = "HTTP/1.1 \(status)\r\nContent-Type: \(contentType)\r\nContent-Length: \(bodyBytes.count)\r\n\(extraHeaders)Connection: close\r\n\r\n"
        var buffer = context.channel.allocator.buffer(capacity: response.utf8.count + bodyBytes.count)
        buffer.writeString(response)
        buffer.writeBytes(bodyBytes)
        let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
        context.writeAndFlush(wrapOutboundOut(buffer)).whenComplete { _ in
            loopBound.value.close(promise: nil)
        }
    }

    private func passThrough(context: ChannelHandlerContext) {
        decided = true
        if let buffered {
            self.buffered = nil
            context.fireChannelRead(wrapInboundOut(buffered))
        }
        context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
    }
}
