import Foundation
import TestSupport
import Testing

@testable import LinkEmulator

@Suite("Link emulator", .serialized)
struct LinkEmulatorTests {
    /// A link holds every byte for its delay and never less: through `rtt=40ms` no ping comes
    /// back sooner than 40 ms, and the first exchange pays the connection's set-up round trip
    /// too. (How close to 40 ms it stays is a timing figure: TimingTests, Benchmarks/Accuracy.)
    @Test func aPingNeverBeatsTheConfiguredRoundTrip() async throws {
        let echo = try TCPTestServer(serve: TCPTestServer.echo)
        defer { echo.stop() }
        let relay = try await LinkRelay.start(
            spec: try LinkSpec(parsing: "rtt=40ms"), targetHost: "127.0.0.1", targetPort: echo.port)
        // Blocking socket work stays off the cooperative pool (two threads here), which the
        // in-process reference server of other tests needs.
        let (first, rtts) = try await onDedicatedThread { () -> (Double, [Double]) in
            let start = DispatchTime.now().uptimeNanoseconds
            let client = try TCPClient(port: relay.port)
            defer { client.close() }
            client.write([1])
            _ = client.read(1)
            let first = milliseconds(since: start)
            var rtts: [Double] = []
            var strangers = 0
            for i in 0..<10 {
                let start = DispatchTime.now().uptimeNanoseconds
                client.write([UInt8(i)])
                guard client.read(1) == [UInt8(i)] else { break }
                rtts.append(milliseconds(since: start))
            }
            return (first, rtts)
        }
        await relay.stop()
        #expect(rtts.count == 10, "every ping came back")
        #expect(rtts.allSatisfy { $0 >= 40 }, "\(rtts)")
        #expect(first >= 80, "set-up round trip + ping: \(first) ms")
    }

    /// Through `down=8mbit` a megabyte cannot arrive sooner than the request's way up plus the
    /// answer's serialization and way down allow (the rate's accuracy: TimingTests,
    /// Benchmarks/Accuracy).
    @Test func aBulkTransferIsNeverFasterThanTheConfiguredRate() async throws {
        let total = 1_000_000
        let bulk = try TCPTestServer { client in
            // Read the client's byte first: closing with unread input would send RST and drop
            // data still in flight.
            var byte: UInt8 = 0
            _ = recv(client, &byte, 1, 0)
            let chunk = [UInt8](repeating: 7, count: 50_000)
            var sent = 0
            while sent < total {
                let n = chunk.withUnsafeBytes { send(client, $0.baseAddress, min($0.count, total - sent), 0) }
                if n <= 0 { return }
                sent += n
            }
            shutdown(client, Int32(SHUT_WR))
            while recv(client, &byte, 1, 0) > 0 {}
        }
        defer { bulk.stop() }
        let spec = try LinkSpec(parsing: "rtt=10ms,down=8mbit,up=100mbit")
        let relay = try await LinkRelay.start(spec: spec, targetHost: "127.0.0.1", targetPort: bulk.port)
        let (received, ms) = try await onDedicatedThread { () -> ([UInt8], Double) in
            let client = try TCPClient(port: relay.port)
            defer { client.close() }  // the server then closes too
            // Timed from before the request: a reader that comes late only adds to it.
            let start = DispatchTime.now().uptimeNanoseconds
            client.write([0])
            let received = client.read(total)
            return (received, milliseconds(since: start))
        }
        await relay.stop()
        print("link down=8mbit: \(received.count) bytes in \(String(format: "%.1f", ms)) ms after the request")
        #expect(received.count == total)
        // Were the whole answer at the relay at once: the way up, then its serialization and the
        // way down as the schedule computes them.
        var schedule = LinkSchedule(direction: spec.down, seed: 1)
        let soonestMs = spec.up.delayMs + Double(schedule.segments(count: total, arrival: 0).last!.release) / 1e6
        #expect(ms >= soonestMs, "\(ms) ms, the link allows no less than \(soonestMs) ms")
    }

    @Test func jitterNeverReordersBytes() async throws {
        let echo = try TCPTestServer(serve: TCPTestServer.echo)
        defer { echo.stop() }
        let relay = try await LinkRelay.start(
            spec: try LinkSpec(parsing: "rtt=10ms,jitter=20ms"), targetHost: "127.0.0.1", targetPort: echo.port)
        let count = 2000
        let bytes = try await onDedicatedThread { () -> [UInt8] in
            let client = try TCPClient(port: relay.port)
            defer { client.close() }
            let writer = Thread {
                for i in 0..<count {
                    client.write(withUnsafeBytes(of: UInt32(i).bigEndian) { Array($0) })
                    if i % 50 == 0 { usleep(1000) }
                }
            }
            writer.start()
            return client.read(count * 4)
        }
        await relay.stop()
        let numbers = stride(from: 0, to: bytes.count, by: 4).map {
            bytes[$0..<$0 + 4].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        }
        print(
            "link jitter=±20ms: \(numbers.count) numbered writes echoed, in order: \(numbers == (0..<UInt32(count)).map { $0 })"
        )
        #expect(numbers == (0..<UInt32(count)).map { $0 })
    }

    @Test func theBufferingStageHoldsResponsesUntilItFlushes() async throws {
        // The server writes 100 bytes every 20 ms for one second; a 64 KiB buffer flushed 200 ms
        // after the first byte it holds delivers none of them sooner than that, and then in
        // clumps with gaps between them (a steady 20 ms dribble would have none over 50 ms).
        let dribble = try TCPTestServer { client in
            for _ in 0..<50 {
                _ = [UInt8](repeating: 1, count: 100).withUnsafeBytes { send(client, $0.baseAddress, $0.count, 0) }
                usleep(20_000)
            }
        }
        defer { dribble.stop() }
        let relay = try await LinkRelay.start(
            spec: try LinkSpec(parsing: "buffer=64k,flush=200ms"), targetHost: "127.0.0.1", targetPort: dribble.port)
        let (received, arrivals) = try await onDedicatedThread { () -> (Int, [Double]) in
            // Before the connection exists: the server's first write cannot come earlier.
            let start = DispatchTime.now().uptimeNanoseconds
            let client = try TCPClient(port: relay.port)
            defer { client.close() }
            client.write([0])
            var arrivals: [Double] = []
            var received = 0
            var buffer = [UInt8](repeating: 0, count: 65_536)
            while received < 5000 {
                let n = recv(client.fd, &buffer, buffer.count, 0)
                if n <= 0 { break }
                received += n
                arrivals.append(milliseconds(since: start))
            }
            return (received, arrivals)
        }
        await relay.stop()
        var bursts = 1
        for (a, b) in zip(arrivals, arrivals.dropFirst()) where b - a > 50 { bursts += 1 }
        print("link buffer=64k,flush=200ms: 50 writes of 100 bytes, 20 ms apart, arrived in \(bursts) bursts")
        #expect(received == 5000)
        #expect((arrivals.first ?? 0) >= 200, "first bytes \(arrivals.first ?? 0) ms after connecting")
        #expect(bursts >= 2, "\(bursts) bursts at \(arrivals.map { Int($0) })")
    }

}

@Suite("Buffering diagnosis through ttfa run", .serialized)
struct BufferingDiagnosisTests {
    @Test func pacedAudioThroughABufferingLinkIsDiagnosed() async throws {
        let scratch = try Scratch()
        let paced = scratch.directory.appendingPathComponent("paced.yaml").path
        try "name: paced\nfirst_audio_ms: 0\nanswer: {audio_ms: 1200, delta_ms: 100, real_time_factor: 1.5}\n".write(
            toFile: paced, atomically: true, encoding: .utf8)
        func run(_ link: String) async throws -> [[String: Any]] {
            let result = try await ttfa([
                "run", "--profile", paced, "--link", link, "--trials", "2", "--warmup", "0", "--audio", scratch.audio,
                "--db", scratch.database, "--json", "--quiet", "--lag-budget-ms", "1000",
            ])
            #expect(result.status == 0, "\(result.stderr)")
            let summary = try #require(
                try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
            return try #require(summary["transports"] as? [[String: Any]])
        }
        // (That a clean link is not taken for a buffering one depends on the machine delivering
        // paced audio on time: TimingTests.)
        for transport in try await run("buffer=64k,flush=200ms") {
            // The buffering stage is a proxy on the HTTP path: WebRTC's media does not cross it,
            // and its packets are never diagnosed as a proxy's clumps.
            #expect(
                transport["looks_buffered"] as? Bool == (transport["transport"] as? String != "webrtc"),
                "\(transport["transport"] ?? ""): \(transport["audio_bursts_p50"] ?? "")")
            print(
                "buffering diagnosis: \(transport["transport"] ?? "") audio bursts p50 \(transport["audio_bursts_p50"] ?? "") through buffer=64k,flush=200ms"
            )
        }
    }
}

/// The link for UDP: what a WebRTC call's media crosses.
@Suite("Link emulator for datagrams", .serialized)
struct DatagramLinkTests {
    /// A UDP socket on 127.0.0.1 with a receive timeout.
    final class UDPSocket: @unchecked Sendable {
        let fd: Int32
        let port: Int

        init() throws {
            let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
            self.fd = fd
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            var timeout = timeval(tv_sec: 2, tv_usec: 0)
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            let bound = withUnsafeMutablePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                    bind(fd, pointer, length) == 0 && getsockname(fd, pointer, &length) == 0
                }
            }
            guard bound else { throw POSIXError(.EADDRNOTAVAIL) }
            port = Int(UInt16(bigEndian: address.sin_port))
        }

        func send(_ bytes: [UInt8], to port: Int) {
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            address.sin_port = in_port_t(UInt16(port).bigEndian)
            _ = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    sendto(fd, bytes, bytes.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
        }

        /// A datagram and the port it came from, or nil after the timeout.
        func receive() -> (bytes: [UInt8], from: Int)? {
            var buffer = [UInt8](repeating: 0, count: 2048)
            var address = sockaddr_in()
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            let count = withUnsafeMutablePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    recvfrom(fd, &buffer, buffer.count, 0, $0, &length)
                }
            }
            guard count >= 0 else { return nil }
            return (Array(buffer.prefix(count)), Int(UInt16(bigEndian: address.sin_port)))
        }

        func close() { Glibc.close(fd) }
    }

    /// Echoes every datagram back to its sender and remembers where they came from.
    final class UDPEcho: @unchecked Sendable {
        let socket: UDPSocket
        private let lock = NSLock()
        private var sources: [Int] = []
        private var stopped = false

        init() throws {
            socket = try UDPSocket()
            let thread = Thread { [self] in
                while !lock.withLock({ stopped }) {
                    guard let (bytes, from) = socket.receive() else { continue }
                    lock.withLock { sources.append(from) }
                    socket.send(bytes, to: from)
                }
                socket.close()
            }
            thread.start()
        }

        var senders: Set<Int> { lock.withLock { Set(sources) } }
        var received: Int { lock.withLock { sources.count } }

        func stop() {
            lock.withLock { stopped = true }
        }
    }

    /// Through `rtt=40ms` no datagram comes back sooner than 40 ms; each sender reaches the
    /// peer from an address of its own (what ICE learns as peer-reflexive), and answers find
    /// their way back to the right sender.
    @Test func aDatagramNeverBeatsTheRoundTripAndEachSenderHasItsOwnPath() async throws {
        let echo = try UDPEcho()
        defer { echo.stop() }
        let links = DatagramLinks(spec: try LinkSpec(parsing: "rtt=40ms"))
        // Opening a relay blocks until it listens: off the cooperative pool.
        let relay = try await onDedicatedThread { try links.relay(toHost: "127.0.0.1", port: echo.socket.port) }
        #expect(relay.host == "127.0.0.1" && relay.port != echo.socket.port)
        let (rtts, ports, strangers) = try await onDedicatedThread { () throws -> ([Double], [Int], Int) in
            let a = try UDPSocket()
            let b = try UDPSocket()
            defer {
                a.close()
                b.close()
            }
            var rtts: [Double] = []
            var strangers = 0
            for i in 0..<10 {
                for client in [a, b] {
                    let start = DispatchTime.now().uptimeNanoseconds
                    client.send([UInt8(i), UInt8(client.port & 0xff)], to: relay.port)
                    guard let reply = client.receive(), reply.bytes == [UInt8(i), UInt8(client.port & 0xff)] else {
                        continue
                    }
                    if reply.from != relay.port { strangers += 1 }
                    rtts.append(milliseconds(since: start))
                }
            }
            return (rtts, [a.port, b.port], strangers)
        }
        relay.close()
        await links.shutdown()
        #expect(rtts.count == 20, "every datagram came back to its own sender")
        #expect(strangers == 0, "answers come from the address the sender sent to")
        #expect(rtts.allSatisfy { $0 >= 40 }, "\(rtts)")
        #expect(echo.senders.count == 2 && echo.senders.isDisjoint(with: ports), "two paths, neither the sender's own")
        #expect(relay.delivered == 40 && relay.dropped == 0)
    }

    /// `loss=30%`: about that share of datagrams never arrives, each one counted.
    @Test func lossDropsDatagramsAndCountsThem() async throws {
        let echo = try UDPEcho()
        defer { echo.stop() }
        let links = DatagramLinks(spec: try LinkSpec(parsing: "loss=30%"))
        let relay = try await onDedicatedThread { try links.relay(toHost: "127.0.0.1", port: echo.socket.port) }
        let back = try await onDedicatedThread { () throws -> Int in
            let client = try UDPSocket()
            defer { client.close() }
            for i in 0..<300 {
                client.send([UInt8(i & 0xff)], to: relay.port)
                usleep(500)
            }
            var back = 0
            while client.receive() != nil { back += 1 }  // until 2 s pass without one
            return back
        }
        relay.close()
        await links.shutdown()
        // Up, 300 sent: echo.received arrived; down, echo.received sent: back arrived.
        #expect(relay.dropped == 300 - back, "every datagram that did not come back was dropped once")
        #expect(relay.delivered == echo.received + back)
        #expect(echo.received < 300 && back < echo.received, "lost both ways")
        let share = Double(300 - back) / 300
        #expect(share > 0.35 && share < 0.65, "30% each way loses about half of the round trips: \(share)")
    }

    /// Stopping twice returns: a run stopped by its store stops its relays on the way out after
    /// the service group already had (the second stop used to wait for ever on the loop the
    /// first one ended).
    @Test func stoppingARelayTwiceReturns() async throws {
        let relay = try await LinkRelay.start(spec: .broadband, targetHost: "127.0.0.1", targetPort: 9)
        await relay.stop()
        let second = Task { await relay.stop() }
        let links = DatagramLinks(spec: .broadband)
        await links.shutdown()
        await links.shutdown()
        await second.value
    }
}
