import Foundation
import NIOCore
import NIOPosix
import Synchronization

/// A user-space TCP relay that plays a `LinkSpec` between its clients and one target: what
/// kernel `netem` would do, without root. TLS passes through untouched, so its round trips pay
/// the link's delay as on a real network.
///
/// Every connection's bytes are delivered in order at the times `LinkSchedule` computes, on one
/// event loop thread whose timers are `timerfd`s (nanosecond resolution on Linux). The kernel
/// completes each TCP handshake itself, so a connection's set-up round trip is added to the
/// first bytes the client sends instead.
///
/// ```swift
/// let relay = try await LinkRelay.start(spec: .broadband, targetHost: "api.example.com", targetPort: 443)
/// // connect to 127.0.0.1:\(relay.port) instead of api.example.com:443
/// await relay.stop()
/// ```
package final class LinkRelay: Sendable {
    package let spec: LinkSpec
    package let targetHost: String
    package let targetPort: Int
    package let host: String
    package let port: Int
    private let group: MultiThreadedEventLoopGroup
    private let channel: any Channel
    /// Whether `stop()` has run: a second stop must not touch the loop it ended (a channel's
    /// close scheduled on a loop that is gone never completes, and its caller would wait for
    /// ever — the way a run stopped by its store used to hang after saying so).
    private let stopped = Mutex(false)

    private init(
        spec: LinkSpec, targetHost: String, targetPort: Int, host: String, port: Int,
        group: MultiThreadedEventLoopGroup, channel: any Channel
    ) {
        self.spec = spec
        self.targetHost = targetHost
        self.targetPort = targetPort
        self.host = host
        self.port = port
        self.group = group
        self.channel = channel
    }

    /// Listens on `host:port` (0: a free port) and relays every connection to the target.
    package static func start(
        spec: LinkSpec, host: String = "127.0.0.1", port: Int = 0, targetHost: String, targetPort: Int
    ) async throws -> LinkRelay {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let counter = ConnectionCounter()
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { inbound in
                let seed = spec.seed &+ counter.next()
                return inbound.eventLoop.makeCompletedFuture {
                    try inbound.pipeline.syncOperations.addHandler(
                        InboundHandler(spec: spec, seed: seed, targetHost: targetHost, targetPort: targetPort))
                }
            }
        do {
            let channel = try await bootstrap.bind(host: host, port: port).get()
            let bound = channel.localAddress?.port ?? port
            return LinkRelay(
                spec: spec, targetHost: targetHost, targetPort: targetPort, host: host, port: bound, group: group,
                channel: channel)
        } catch {
            try? await group.shutdownGracefully()
            throw error
        }
    }

    /// Stops listening, drops the connections and ends the event loop.
    package func stop() async {
        guard
            stopped.withLock({ wasStopped in
                defer { wasStopped = true }
                return !wasStopped
            })
        else { return }
        try? await channel.close()
        try? await group.shutdownGracefully()
    }
}

final class ConnectionCounter: Sendable {
    private let value = Mutex<UInt64>(0)
    func next() -> UInt64 {
        value.withLock {
            $0 += 1
            return $0
        }
    }
}

/// One direction of one connection: bytes wait here until the schedule releases them.
/// Confined to the connection's event loop.
final class DirectionQueue {
    let eventLoop: any EventLoop
    var schedule: LinkSchedule
    /// Where released bytes go; until it is known, they wait.
    var target: (any Channel)?
    /// Added to the first segment (a connection's set-up round trip).
    var firstExtraNs: Int64
    private var pending = CircularBuffer<(release: Int64, payload: ByteBuffer?)>()
    private var timer: Scheduled<Void>?
    private var closed = false

    init(eventLoop: any EventLoop, schedule: LinkSchedule, firstExtraNs: Int64 = 0) {
        self.eventLoop = eventLoop
        self.schedule = schedule
        self.firstExtraNs = firstExtraNs
    }

    static func now() -> Int64 { Int64(NIODeadline.now().uptimeNanoseconds) }

    func enqueue(_ buffer: ByteBuffer, at arrival: Int64 = now()) {
        guard !closed else { return }
        var buffer = buffer
        let extra = firstExtraNs
        firstExtraNs = 0
        for segment in schedule.segments(count: buffer.readableBytes, arrival: arrival, extraNs: extra) {
            pending.append((segment.release, buffer.readSlice(length: segment.length)))
        }
        arm()
    }

    /// Closes the far side once everything before the close has been delivered.
    func enqueueClose(at arrival: Int64 = now()) {
        guard !closed else { return }
        closed = true
        pending.append((schedule.close(arrival: arrival), nil))
        arm()
    }

    func arm() {
        guard timer == nil, let head = pending.first else { return }
        let this = NIOLoopBound(self, eventLoop: eventLoop)
        timer = eventLoop.scheduleTask(deadline: .uptimeNanoseconds(UInt64(max(0, head.release)))) {
            this.value.timer = nil
            this.value.drain()
        }
    }

    /// Writes everything due. Called by the timer, and when the target becomes known.
    func drain() {
        guard let target else { return }
        let now = Self.now()
        var wrote = false
        while let head = pending.first, head.release <= now {
            pending.removeFirst()
            guard let payload = head.payload else {
                if wrote { target.flush() }
                target.close(promise: nil)
                pending.removeAll()
                return
            }
            target.write(payload, promise: nil)
            wrote = true
        }
        if wrote { target.flush() }
        arm()
    }

    func cancel() {
        timer?.cancel()
        timer = nil
        pending.removeAll()
        closed = true
    }
}

/// The response path's buffering stage: holds bytes until `threshold` have gathered or
/// `flushNs` has passed since the first of them, as a buffering proxy does.
final class BufferStage {
    let threshold: Int
    let flushNs: Int64?
    let next: DirectionQueue
    private var held: ByteBuffer?
    private var timer: Scheduled<Void>?

    init(threshold: Int, flushNs: Int64?, next: DirectionQueue) {
        self.threshold = threshold
        self.flushNs = flushNs
        self.next = next
    }

    func receive(_ buffer: ByteBuffer) {
        var buffer = buffer
        if held == nil {
            held = buffer
            if let flushNs {
                let this = NIOLoopBound(self, eventLoop: next.eventLoop)
                timer = next.eventLoop.scheduleTask(in: .nanoseconds(flushNs)) {
                    this.value.timer = nil
                    this.value.release()
                }
            }
        } else {
            held!.writeBuffer(&buffer)
        }
        if held!.readableBytes >= threshold { release() }
    }

    func release() {
        timer?.cancel()
        timer = nil
        guard let held else { return }
        self.held = nil
        next.enqueue(held)
    }
}

/// The relay's side of a client's connection: opens the connection to the target and feeds
/// both directions.
final class InboundHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    let spec: LinkSpec
    let seed: UInt64
    let targetHost: String
    let targetPort: Int
    private var up: DirectionQueue?
    private var down: DirectionQueue?
    private var buffer: BufferStage?
    private var outbound: (any Channel)?

    init(spec: LinkSpec, seed: UInt64, targetHost: String, targetPort: Int) {
        self.spec = spec
        self.seed = seed
        self.targetHost = targetHost
        self.targetPort = targetPort
    }

    func channelActive(context: ChannelHandlerContext) {
        let inbound = context.channel
        let rttNs = Int64(spec.rttMs * 1e6)
        let recovery = Int64(spec.lossRecoveryMs * 1e6)
        let up = DirectionQueue(
            eventLoop: context.eventLoop,
            schedule: LinkSchedule(direction: spec.up, seed: seed, lossRecoveryNs: recovery), firstExtraNs: rttNs)
        let down = DirectionQueue(
            eventLoop: context.eventLoop,
            schedule: LinkSchedule(direction: spec.down, seed: seed &* 31 &+ 7, lossRecoveryNs: recovery))
        down.target = inbound
        self.up = up
        self.down = down
        let sink: (ByteBuffer) -> Void
        if let bytes = spec.bufferBytes {
            let stage = BufferStage(threshold: bytes, flushNs: spec.flushMs.map { Int64($0 * 1e6) }, next: down)
            buffer = stage
            sink = { stage.receive($0) }
        } else {
            sink = { down.enqueue($0) }
        }
        let loopBound = NIOLoopBound((up: up, down: down, stage: buffer, sink: sink), eventLoop: context.eventLoop)
        let connect = ClientBootstrap(group: context.eventLoop)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .connectTimeout(.seconds(10))
            .channelInitializer { outbound in
                outbound.eventLoop.makeCompletedFuture {
                    try outbound.pipeline.syncOperations.addHandler(
                        OutboundHandler(
                            onRead: { loopBound.value.sink($0) },
                            onClose: {
                                loopBound.value.stage?.release()
                                loopBound.value.down.enqueueClose()
                            }))
                }
            }
            .connect(host: targetHost, port: targetPort)
        let this = NIOLoopBound(self, eventLoop: context.eventLoop)
        connect.whenComplete { result in
            switch result {
            case .success(let channel):
                this.value.outbound = channel
                this.value.up?.target = channel
                this.value.up?.drain()
            case .failure:
                inbound.close(promise: nil)
            }
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        up?.enqueue(unwrapInboundIn(data))
    }

    func channelInactive(context: ChannelHandlerContext) {
        up?.enqueueClose()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}

/// The relay's side of the connection to the target.
final class OutboundHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    let onRead: (ByteBuffer) -> Void
    let onClose: () -> Void

    init(onRead: @escaping (ByteBuffer) -> Void, onClose: @escaping () -> Void) {
        self.onRead = onRead
        self.onClose = onClose
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        onRead(unwrapInboundIn(data))
    }

    func channelInactive(context: ChannelHandlerContext) {
        onClose()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
