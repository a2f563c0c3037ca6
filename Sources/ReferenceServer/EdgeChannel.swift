import Foundation
import HummingbirdCore
import Logging
import NIOCore

/// Wraps the server's HTTP/WebSocket child channel with a handler at the very front of the
/// pipeline that plays what sits in front of a real endpoint — an edge platform or a strict
/// origin server — on the raw bytes, before Hummingbird sees the request:
///
/// - WebSocket upgrade requests asking for an upgrade-time fault are answered (or dropped) here.
/// - An upgrade whose `Connection` header lacks the `upgrade` token (what a half-configured
///   proxy sends) is refused with 426, as strict servers do; RFC 7230 §6.7 requires the token.
/// - An HTTP/1.0 request's answer is sent without chunked encoding (HTTP/1.0 has none): the body
///   is de-chunked on its way out and the connection closed at its end (RFC 7230 §3.3.1).
///
/// Everything else passes through untouched. It sits right behind the TLS handler when there is
/// one (in front of it, it would wait for CRLFCRLF inside an encrypted ClientHello).
struct EdgeChannel<Base: ServerChildChannel>: ServerChildChannel {
    let base: Base
    let log: ServerLog

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Base.Value> {
        channel.eventLoop.makeCompletedFuture {
            // At this point the pipeline holds at most the TLS handler: go behind it.
            try channel.pipeline.syncOperations.addHandler(EdgeHandler(log: log, logger: logger), position: .last)
        }.flatMap {
            base.setup(channel: channel, logger: logger)
        }
    }

    func handle(value: Base.Value, logger: Logger) async {
        await base.handle(value: value, logger: logger)
    }
}

/// Looks at the first request head on a connection (raw bytes, before HTTP decoding).
final class EdgeHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let log: ServerLog
    private let logger: Logger
    private var buffered: ByteBuffer?
    private var decided = false
    /// Set for an HTTP/1.0 request: rewrites the answer's framing.
    private var http10: HTTP10Framing?

    init(log: ServerLog, logger: Logger) {
        self.log = log
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

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        guard http10 != nil else {
            context.write(data, promise: promise)
            return
        }
        let buffer = unwrapOutboundIn(data)
        let (output, finished) = http10!.rewrite(Array(buffer.readableBytesView))
        if output.isEmpty {
            promise?.succeed(())
        } else {
            context.write(wrapOutboundOut(context.channel.allocator.buffer(bytes: output)), promise: promise)
        }
        if finished {
            // The body of a close-delimited answer ends when the connection does.
            let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
            context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(capacity: 0))).whenComplete { _ in
                loopBound.value.close(promise: nil)
            }
        }
    }

    private func decide(head: String, context: ChannelHandlerContext) {
        let lines = head.split(separator: "\r\n")
        let requestLine = lines.first.map(String.init) ?? ""
        let target = requestLine.split(separator: " ").dropFirst().first.map(String.init) ?? "/"
        func header(_ name: String) -> String? {
            lines.dropFirst().first { $0.lowercased().hasPrefix(name + ":") }.map {
                String($0.dropFirst(name.count + 1)).trimmingCharacters(in: .whitespaces).lowercased()
            }
        }
        guard header("upgrade")?.contains("websocket") == true else {
            if requestLine.hasSuffix("HTTP/1.0") {
                http10 = HTTP10Framing()
                decided = true
                if let buffered {
                    self.buffered = nil
                    context.fireChannelRead(wrapInboundOut(buffered))
                }
                return
            }
            return passThrough(context: context)
        }
        let connectionTokens = (header("connection") ?? "").split(separator: ",").map {
            $0.trimmingCharacters(in: .whitespaces)
        }
        guard connectionTokens.contains("upgrade") else {
            return answer(
                context: context, status: "426 Upgrade Required", contentType: "application/json",
                body: Wire.json([
                    "error": Wire.errorObject(
                        message:
                            "WebSocket upgrade refused: the Connection header is \"\(header("connection") ?? "missing")\", it must contain \"Upgrade\" (RFC 7230 §6.7). A proxy in front of this server may be dropping hop-by-hop headers (nginx needs proxy_set_header Connection \"upgrade\").",
                        type: "invalid_request_error", code: "upgrade_required")
                ]),
                extraHeaders: "Upgrade: websocket\r\n")
        }
        let options: RequestOptions
        do {
            options = try RequestOptions(target: target)
        } catch {
            return answer(
                context: context, status: "400 Bad Request", contentType: "application/json",
                body: Wire.json([
                    "error": Wire.errorObject(
                        message: error.message, type: "invalid_request_error", code: "invalid_value")
                ]))
        }
        guard let fault = options.fault, fault.isUpgradeFault,
            options.fault(forRequest: log.nextSequence(for: "UPGRADE " + target)) != nil
        else { return passThrough(context: context) }
        logger.debug("upgrade fault", metadata: ["fault": "\(fault.rawValue)"])
        switch fault {
        case .rejectUpgrade:
            answer(
                context: context, status: "200 OK", contentType: "text/plain; charset=utf-8",
                body: "This endpoint does not support WebSocket connections.\n")
        case .closeBeforeUpgrade:
            decided = true
            buffered = nil
            context.close(promise: nil)
        case .http500:
            answer(
                context: context, status: "500 Internal Server Error", contentType: "application/json",
                body: Wire.json([
                    "error": Wire.errorObject(
                        message: "The server had an error while processing your request. Sorry about that!",
                        type: "server_error", code: nil)
                ]))
        case .http429:
            answer(
                context: context, status: "429 Too Many Requests", contentType: "application/json",
                body: Wire.json([
                    "error": Wire.errorObject(
                        message: "Rate limit reached for requests. Please try again in 1s.", type: "requests",
                        code: "rate_limit_exceeded")
                ]),
                extraHeaders: "Retry-After: 1\r\n")
        default:
            passThrough(context: context)
        }
    }

    private func answer(
        context: ChannelHandlerContext, status: String, contentType: String, body: String, extraHeaders: String = ""
    ) {
        decided = true
        buffered = nil
        let bodyBytes = Array(body.utf8)
        let response =
            "HTTP/1.1 \(status)\r\nContent-Type: \(contentType)\r\nContent-Length: \(bodyBytes.count)\r\n\(extraHeaders)Connection: close\r\n\r\n"
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

/// Rewrites an HTTP/1.1 answer for an HTTP/1.0 client, as bytes stream out: a chunked answer
/// loses its `Transfer-Encoding` header and its chunk framing, gains `Connection: close`, and
/// ends with the connection. An answer with a `Content-Length` passes unchanged.
///
/// Pure: bytes in, bytes out (tested byte by byte).
struct HTTP10Framing {
    private enum State {
        /// Collecting the response head.
        case head([UInt8])
        /// Not chunked: bytes pass unchanged.
        case passThrough
        /// A chunk-size line (hex digits, optional extensions) up to CRLF.
        case size([UInt8])
        /// Chunk data still to copy.
        case data(Int)
        /// The CRLF after a chunk's data.
        case dataEnd(Int)
        /// Trailer lines after the last chunk, up to an empty line.
        case trailer([UInt8])
        case finished
    }

    private var state = State.head([])

    /// Feeds outgoing bytes; returns what goes on the wire and whether the body just ended
    /// (the connection should close once it is written).
    mutating func rewrite(_ bytes: [UInt8]) -> (output: [UInt8], finished: Bool) {
        var output: [UInt8] = []
        var index = 0
        var justFinished = false
        while index < bytes.count {
            switch state {
            case .head(var head):
                head.append(bytes[index])
                index += 1
                if head.count >= 4 && head.suffix(4).elementsEqual([13, 10, 13, 10]) {
                    let (rewritten, chunked) = Self.rewriteHead(head)
                    output += rewritten
                    state = chunked ? .size([]) : .passThrough
                } else {
                    state = .head(head)
                }
            case .passThrough, .finished:
                output += bytes[index...]
                index = bytes.count
            case .size(var line):
                line.append(bytes[index])
                index += 1
                if line.count >= 2 && line.suffix(2).elementsEqual([13, 10]) {
                    let text = String(decoding: line.dropLast(2), as: UTF8.self)
                    let digits =
                        text.split(separator: ";", maxSplits: 1).first.map { $0.trimmingCharacters(in: .whitespaces) }
                        ?? ""
                    let size = Int(digits, radix: 16) ?? 0
                    state = size == 0 ? .trailer([]) : .data(size)
                } else {
                    state = .size(line)
                }
            case .data(let remaining):
                let n = min(remaining, bytes.count - index)
                output += bytes[index..<index + n]
                index += n
                state = n == remaining ? .dataEnd(2) : .data(remaining - n)
            case .dataEnd(let remaining):
                index += 1
                state = remaining == 1 ? .size([]) : .dataEnd(remaining - 1)
            case .trailer(var line):
                line.append(bytes[index])
                index += 1
                if line.count >= 2 && line.suffix(2).elementsEqual([13, 10]) {
                    if line.count == 2 {
                        state = .finished
                        justFinished = true
                    } else {
                        state = .trailer([])
                    }
                } else {
                    state = .trailer(line)
                }
            }
        }
        return (output, justFinished)
    }

    /// The head without chunked framing; whether the body was chunked.
    static func rewriteHead(_ head: [UInt8]) -> ([UInt8], Bool) {
        let lines = String(decoding: head, as: UTF8.self).components(separatedBy: "\r\n").filter { !$0.isEmpty }
        let chunked = lines.dropFirst().contains { line in
            let lower = line.lowercased()
            return lower.hasPrefix("transfer-encoding:") && lower.contains("chunked")
        }
        guard chunked else { return (head, false) }
        var kept = lines.filter { line in
            let lower = line.lowercased()
            return !lower.hasPrefix("transfer-encoding:") && !lower.hasPrefix("connection:")
        }
        kept.append("Connection: close")
        return (Array((kept.joined(separator: "\r\n") + "\r\n\r\n").utf8), true)
    }
}
