import CPosix

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Monotonic time in integer nanoseconds (`CLOCK_MONOTONIC`), the one clock every ttfa timestamp uses.
///
/// Values are only meaningful relative to each other: stored results keep them relative to a
/// trial's start. libcurl's own timers use the same clock on Linux, so curl-reported phase
/// durations can be added to our stamps.
package enum MonotonicClock {
    /// Now, in nanoseconds.
    @inline(__always)
    package static func now() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Int64(ts.tv_sec) &* 1_000_000_000 &+ Int64(ts.tv_nsec)
    }
}

/// Unit helpers so call sites read `.milliseconds(250)` instead of `250_000_000`.
extension Int64 {
    package static func milliseconds(_ ms: Int64) -> Int64 { ms * 1_000_000 }
    package static func seconds(_ s: Double) -> Int64 { Int64((s * 1_000_000_000).rounded()) }
    /// This value (nanoseconds) in milliseconds.
    package var asMilliseconds: Double { Double(self) / 1_000_000 }
}

/// Lowers the kernel's timer slack for the calling thread to 1 µs, so timed waits on replay and
/// I/O threads wake on time instead of up to 50 µs late.
func tightenTimerSlack() {
    _ = ttfa_set_timer_slack(1_000)
}
