import Foundation
import LinkEmulator
import NIOCore
import NIOPosix
import TestSupport

/// How closely the link emulator plays the delay and the rate it is given, each against a
/// baseline taken in the same run: the same traffic through a relay that adds nothing.
enum LinkAccuracy {
    struct RoundTrip: Sendable, Codable {
        /// Round trips through `rtt=…` and through a relay without delay, interleaved.
        var delayed: Sample
        var baseline: Sample
        /// How late a timer of half the round trip fired on an event loop like the relay's,
        /// measured between the pings: what the machine adds to each of the relay's two waits.
        var timerLateness: Sample
        var figure: Figure
    }

    /// Pings through a `rtt=rttMs` relay and a relay without delay in turn, `pings` of each after
    /// one exchange that opens both connections, and between them a timer probe.
    ///
    /// The added round trip is the difference of medians. It is judged against the configured
    /// delay with the noise of both medians, plus what this machine's wake-ups cost in this run:
    /// a thread woken after a wait of half the round trip comes back later than one kept busy
    /// (the longer it slept, the deeper the idle state it left), and the delayed path has three
    /// such waits the direct one has not — the relay's two timers and the client's own wait for
    /// the answer. The probe measures that cost: a timer of half the round trip on an event loop
    /// like the relay's.
    static func roundTrip(rttMs: Double = 40, pings: Int = 40) async throws -> RoundTrip {
        let echo = try TCPTestServer(serve: TCPTestServer.echo)
        defer { echo.stop() }
        let delayedRelay = try await LinkRelay.start(
            spec: try LinkSpec(parsing: "rtt=\(Int(rttMs))ms"), targetHost: "127.0.0.1", targetPort: echo.port)
        let baseRelay = try await LinkRelay.start(spec: .loopback, targetHost: "127.0.0.1", targetPort: echo.port)
        let probeLoop = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let probe = probeLoop.next()
        let halfNs = Int64(rttMs * 1e6 / 2)
        // Blocking socket work stays off the cooperative pool (two threads here), which an
        // in-process reference server needs.
        let (delayed, base, late) = try await onDedicatedThread { () -> ([Double], [Double], [Double]) in
            let a = try TCPClient(port: delayedRelay.port)
            let b = try TCPClient(port: baseRelay.port)
            defer {
                a.close()
                b.close()
            }
            func ping(_ client: TCPClient, _ byte: UInt8) -> Double? {
                let start = DispatchTime.now().uptimeNanoseconds
                client.write([byte])
                return client.read(1) == [byte] ? milliseconds(since: start) : nil
            }
            _ = ping(a, 255)
            _ = ping(b, 255)
            /// Milliseconds a timer due in half the round trip fired late on the probe's loop.
            func timerLateness() throws -> Double {
                let due = NIODeadline.now() + .nanoseconds(halfNs)
                let fired = try probe.scheduleTask(deadline: due) { NIODeadline.now() }.futureResult.wait()
                return Double(fired.uptimeNanoseconds - due.uptimeNanoseconds) / 1e6
            }
            var delayed: [Double] = []
            var base: [Double] = []
            var late: [Double] = []
            for i in 0..<pings {
                if let t = ping(a, UInt8(i % 250)) { delayed.append(t) }
                if let t = ping(b, UInt8(i % 250)) { base.append(t) }
                late.append(try timerLateness())
            }
            return (delayed, base, late)
        }
        await delayedRelay.stop()
        await baseRelay.stop()
        try? await probeLoop.shutdownGracefully()
        let d = Sample(delayed)
        let b = Sample(base)
        let l = Sample(late)
        let figure = Figure(
            name: "link rtt=\(Int(rttMs))ms: added round trip", unit: "ms", expected: rttMs,
            measured: d.median - b.median,
            tolerance: Figure.tolerance(d, b) + 3 * l.median,
            basis:
                "median of \(d.values.count) pings \(Figure.format(d.median)) ms (min \(Figure.format(d.min)), IQR \(Figure.format(d.iqr))) "
                + "minus the same through a relay without delay \(Figure.format(b.median)) ms (IQR \(Figure.format(b.iqr))), interleaved; "
                + "tolerance: 4 standard errors of that difference plus three wake-ups after a \(Figure.format(rttMs / 2)) ms wait, "
                + "\(Figure.format(l.median)) ms each (IQR \(Figure.format(l.iqr)))")
        return RoundTrip(delayed: d, baseline: b, timerLateness: l, figure: figure)
    }

    struct Rate: Sendable, Codable {
        /// When each read returned (ms since the first byte) and how many bytes had arrived by then.
        var arrivalsMs: [Double]
        var bytes: [Int]
        var figure: Figure
    }

    /// Sends `bytes` down through a `down=mbit` relay and fits a line to the arrivals after the
    /// first read (bytes received against the time of each read): the slope is the rate. Timer
    /// lateness does not accumulate, since the relay releases every segment at a time computed
    /// from the start (`LinkSchedule`), so the rate can be off only by how late the reads at the
    /// two ends came back. The tolerance bounds that from this transfer's own scatter about the
    /// line: 4 standard deviations of a difference of two reads' lateness, over the span.
    static func rate(mbit: Double = 8, bytes: Int = 1_000_000) async throws -> Rate {
        let bulk = try TCPTestServer { client in
            // Read the client's byte first: closing with unread input would send RST and drop
            // data still in flight.
            var byte: UInt8 = 0
            _ = recv(client, &byte, 1, 0)
            let chunk = [UInt8](repeating: 7, count: 50_000)
            var sent = 0
            while sent < bytes {
                let n = chunk.withUnsafeBytes { send(client, $0.baseAddress, min($0.count, bytes - sent), 0) }
                if n <= 0 { return }
                sent += n
            }
            shutdown(client, Int32(SHUT_WR))
            while recv(client, &byte, 1, 0) > 0 {}
        }
        defer { bulk.stop() }
        let relay = try await LinkRelay.start(
            spec: try LinkSpec(parsing: "rtt=10ms,down=\(Int(mbit))mbit,up=100mbit"),
            targetHost: "127.0.0.1", targetPort: bulk.port)
        let (arrivals, counts) = try await onDedicatedThread { () -> ([Double], [Int]) in
            let client = try TCPClient(port: relay.port)
            defer { client.close() }  // the server then closes too
            client.write([0])
            var buffer = [UInt8](repeating: 0, count: 65_536)
            var arrivals: [Double] = []
            var counts: [Int] = []
            var received = 0
            var start: UInt64 = 0
            while received < bytes {
                let n = recv(client.fd, &buffer, buffer.count, 0)
                guard n > 0 else { throw POSIXError(.ECONNRESET) }
                if received == 0 { start = DispatchTime.now().uptimeNanoseconds }
                received += n
                arrivals.append(milliseconds(since: start))
                counts.append(received)
            }
            return (arrivals, counts)
        }
        await relay.stop()
        // The first read holds the first segment, released at once; the line starts there.
        let fit = LineFit(x: Array(arrivals.dropFirst()), y: counts.dropFirst().map(Double.init))
        let mbitPerMs = 8.0 / 1e3  // bytes per ms to Mbit/s
        let figure = Figure(
            name: "link down=\(Int(mbit))mbit: rate", unit: "Mbit/s", expected: mbit, measured: fit.slope * mbitPerMs,
            tolerance: fit.slope * mbitPerMs * Figure.noiseSigmas * 2.0.squareRoot()
                * (fit.residualStandardDeviation / fit.slope) / (arrivals.last! - arrivals[1]),
            basis:
                "slope of \(counts.last ?? 0) bytes over \(arrivals.count) reads in \(Figure.format(arrivals.last ?? 0)) ms; "
                + "scatter about the line \(Figure.format(fit.residualStandardDeviation / (fit.slope == 0 ? 1 : fit.slope))) ms (rms)"
        )
        return Rate(arrivalsMs: arrivals, bytes: counts, figure: figure)
    }
}

/// Least squares line y = slope · x + intercept.
struct LineFit {
    var slope: Double
    var intercept: Double
    /// Root mean square of the residuals (y units, n − 2 degrees of freedom).
    var residualStandardDeviation: Double

    init(x: [Double], y: [Double]) {
        let n = Double(x.count)
        guard x.count > 2 else {
            self.init(slope: .nan, intercept: .nan, residualStandardDeviation: .nan)
            return
        }
        let mx = x.reduce(0, +) / n
        let my = y.reduce(0, +) / n
        let sxx = x.reduce(0) { $0 + ($1 - mx) * ($1 - mx) }
        let sxy = zip(x, y).reduce(0) { $0 + ($1.0 - mx) * ($1.1 - my) }
        let slope = sxy / sxx
        let intercept = my - slope * mx
        let sse = zip(x, y).reduce(0) { $0 + pow($1.1 - (slope * $1.0 + intercept), 2) }
        let s = (sse / (n - 2)).squareRoot()
        self.init(slope: slope, intercept: intercept, residualStandardDeviation: s)
    }

    init(slope: Double, intercept: Double, residualStandardDeviation: Double) {
        self.slope = slope
        self.intercept = intercept
        self.residualStandardDeviation = residualStandardDeviation
    }
}
