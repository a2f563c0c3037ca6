import Foundation
import NIOCore
import NIOPosix
import Synchronization

/// The link emulator for UDP: the network a WebRTC call's media crosses. One relay stands in
/// for one of the peer's addresses (an ICE candidate): what is sent to the relay leaves for the
/// peer from a socket of its own per sender, delayed, limited and dropped as `LinkSchedule`
/// says for datagrams; what the peer sends back reaches the sender the same way. To the peer,
/// each sender looks like an address behind a NAT (ICE learns it as peer-reflexive).
///
/// ```swift
/// let links = DatagramLinks(spec: .broadband)
/// let relay = try links.relay(toHost: "192.0.2.7", port: 50_000)
/// // offer 127.0.0.1:\(relay.port) (or relay.host) instead of 192.0.2.7:50000
/// relay.close()
/// await links.shutdown()
/// ```
package final class DatagramLinks: Sendable {
    package let spec: LinkSpec
    private let group: MultiThreadedEventLoopGroup
    private let counter = ConnectionCounter()
    /// Whether the loop still runs: relays closed after `shutdown()` have nothing left to do.
    let running = Mutex(true)

    /// Relays run on one event loop thread of their own (`shutdown()` ends it).
    package init(spec: LinkSpec) {
        self.spec = spec
        group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    }

    /// A relay to `host:port` (an IPv4 address), listening on that address when it is this
    /// machine's own, else on 127.0.0.1. Blocks until it listens; call it off the event loop.
    package func relay(toHost host: String, port: Int) throws -> DatagramLinkRelay {
        let target = try SocketAddress(ipAddress: host, port: port)
        let loop = group.next()
        let seed = spec.seed &+ counter.next() &* 1_000_003
        let state = RelayState(spec: spec, seed: seed, target: target, loop: loop)
        let listen = { (address: String) throws -> any Channel in
            try DatagramBootstrap(group: loop)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(FrontHandler(state: state, front: channel))
                    }
                }
                .bind(host: address, port: 0).wait()
        }
        let front: any Channel
        if let own = try? listen(host) {
            front = own
        } else {
            front = try listen("127.0.0.1")
        }
        return DatagramLinkRelay(front: front, state: state, links: self)
    }

    /// Ends the event loop (after the relays were closed).
    /// Ends the loop; a second call does nothing.
    package func shutdown() async {
        guard
            running.withLock({ wasRunning in
                defer { wasRunning = false }
                return wasRunning
            })
        else { return }
        try? await group.shutdownGracefully()
    }
}

/// One relay: the local address to send to instead of the peer's.
package final class DatagramLinkRelay: Sendable {
    package let host: String
    package let port: Int
    private let front: any Channel
    private let state: RelayState
    private let links: DatagramLinks

    init(front: any Channel, state: RelayState, links: DatagramLinks) {
        self.front = front
        self.state = state
        self.links = links
        host = front.localAddress?.ipAddress ?? "127.0.0.1"
        port = front.localAddress?.port ?? 0
    }

    /// Datagrams this relay dropped (the link's loss), both ways.
    package var dropped: Int { state.dropped.load(ordering: .relaxed) }
    /// Datagrams this relay delivered, both ways.
    package var delivered: Int { state.delivered.load(ordering: .relaxed) }

    /// Stops relaying: the sockets close, datagrams still on the link are lost.
    package func close() {
        let state = state
        let front = front
        links.running.withLock { running in
            guard running else { return }
            state.loop.execute {
                for path in state.paths.values { path.close() }
                state.paths.removeAll()
                front.close(promise: nil)
            }
        }
    }
}

/// What a relay shares between its sockets: confined to its event loop (but `dropped` and
/// `delivered`, which are atomic).
final class RelayState: @unchecked Sendable {
    let spec: LinkSpec
    let seed: UInt64
    let target: SocketAddress
    let loop: any EventLoop
    /// One path per sender (its address as text).
    var paths: [String: SenderPath] = [:]
    let dropped = Atomic<Int>(0)
    let delivered = Atomic<Int>(0)

    init(spec: LinkSpec, seed: UInt64, target: SocketAddress, loop: any EventLoop) {
        self.spec = spec
        self.seed = seed
        self.target = target
        self.loop = loop
    }
}

/// One sender's path through a relay: its own socket towards the peer, and a queue each way.
final class SenderPath {
    let up: DatagramQueue
    let down: DatagramQueue
    var back: (any Channel)?

    init(up: DatagramQueue, down: DatagramQueue) {
        self.up = up
        self.down = down
    }

    func close() {
        up.cancel()
        down.cancel()
        back?.close(promise: nil)
        back = nil
    }
}

/// Datagrams waiting for the time the schedule releases them, in order. Confined to its loop.
final class DatagramQueue {
    let eventLoop: any EventLoop
    var schedule: LinkSchedule
    let state: RelayState
    /// Where released datagrams go; until it is known, they wait.
    var target: (channel: any Channel, address: SocketAddress)?
    private var pending = CircularBuffer<(release: Int64, payload: ByteBuffer)>()
    private var timer: Scheduled<Void>?
    private(set) var isCancelled = false

    init(eventLoop: any EventLoop, schedule: LinkSchedule, state: RelayState) {
        self.eventLoop = eventLoop
        self.schedule = schedule
        self.state = state
    }

    func enqueue(_ payload: ByteBuffer) {
        guard !isCancelled else { return }
        let arrival = DirectionQueue.now()
        guard let release = schedule.datagram(bytes: payload.readableBytes, arrival: arrival) else {
            state.dropped.add(1, ordering: .relaxed)
            return
        }
        pending.append((release, payload))
        arm()
    }

    func arm() {
        guard timer == nil, !isCancelled, let head = pending.first else { return }
        let this = NIOLoopBound(self, eventLoop: eventLoop)
        timer = eventLoop.scheduleTask(deadline: .uptimeNanoseconds(UInt64(max(0, head.release)))) {
            this.value.timer = nil
            this.value.drain()
        }
    }

    /// Sends everything due. Called by the timer, and when the target becomes known.
    func drain() {
        guard let target, !isCancelled else { return }
        let now = DirectionQueue.now()
        var wrote = false
        while let head = pending.first, head.release <= now {
            pending.removeFirst()
            target.channel.write(AddressedEnvelope(remoteAddress: target.address, data: head.payload), promise: nil)
            state.delivered.add(1, ordering: .relaxed)
            wrote = true
        }
        if wrote { target.channel.flush() }
        arm()
    }

    func cancel() {
        isCancelled = true
        timer?.cancel()
        timer = nil
        pending.removeAll()
    }
}

/// The relay's listening socket: a datagram from a new sender opens its path.
final class FrontHandler: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>

    let state: RelayState
    let front: any Channel

    init(state: RelayState, front: any Channel) {
        self.state = state
        self.front = front
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = unwrapInboundIn(data)
        let sender = envelope.remoteAddress
        let key = "\(sender)"
        if let path = state.paths[key] {
            path.up.enqueue(envelope.data)
            return
        }
        let index = UInt64(state.paths.count)
        let recovery = Int64(state.spec.lossRecoveryMs * 1e6)
        let up = DatagramQueue(
            eventLoop: context.eventLoop,
            schedule: LinkSchedule(
                direction: state.spec.up, seed: state.seed &+ index &* 2, segmentBytes: .max, lossRecoveryNs: recovery),
            state: state)
        let down = DatagramQueue(
            eventLoop: context.eventLoop,
            schedule: LinkSchedule(
                direction: state.spec.down, seed: state.seed &+ index &* 2 &+ 1, segmentBytes: .max,
                lossRecoveryNs: recovery),
            state: state)
        down.target = (front, sender)
        let path = SenderPath(up: up, down: down)
        state.paths[key] = path
        up.enqueue(envelope.data)
        // The sender's own socket towards the peer, on the same loop.
        let local = state.target.ipAddress?.hasPrefix("127.") == true ? "127.0.0.1" : "0.0.0.0"
        let bound = NIOLoopBound(path, eventLoop: context.eventLoop)
        let target = state.target
        DatagramBootstrap(group: context.eventLoop)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(BackHandler(down: bound))
                }
            }
            .bind(host: local, port: 0)
            .whenComplete { result in
                switch result {
                case .success(let channel):
                    guard !bound.value.up.isCancelled else {
                        channel.close(promise: nil)
                        return
                    }
                    bound.value.back = channel
                    bound.value.up.target = (channel, target)
                    bound.value.up.drain()
                case .failure:
                    bound.value.close()
                }
            }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // A datagram the kernel could not deliver (ICMP unreachable): UDP goes on.
    }
}

/// A sender's socket towards the peer: what the peer answers goes back down the link.
final class BackHandler: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>

    let down: NIOLoopBound<SenderPath>

    init(down: NIOLoopBound<SenderPath>) {
        self.down = down
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        down.value.down.enqueue(unwrapInboundIn(data).data)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {}
}
