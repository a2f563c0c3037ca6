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
            #expect(
                transport["looks_buffered"] as? Bool == true,
                "\(transport["transport"] ?? ""): \(transport["audio_bursts_p50"] ?? "")")
            print(
                "buffering diagnosis: \(transport["transport"] ?? "") audio bursts p50 \(transport["audio_bursts_p50"] ?? "") through buffer=64k,flush=200ms"
            )
        }
    }
}
