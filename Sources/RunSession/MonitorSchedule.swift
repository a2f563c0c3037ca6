import SeededRandom

/// When a monitor's rounds start: the first at once, round k (from 0) at k × `every` after it,
/// each but the first later by a jitter drawn from [0, `jitter` × `every`) — so monitors started
/// together do not probe an endpoint in step — and never before the previous round ended: rounds
/// never overlap, and a round that outlasts `every` is followed at once.
package struct MonitorSchedule: Sendable, Equatable {
    package var everyNs: Int64
    /// Share of `every`, 0 ..< 1.
    package var jitter: Double
    package var seed: UInt64

    package init(everyNs: Int64, jitter: Double = 0.1, seed: UInt64 = 1) {
        self.everyNs = everyNs
        self.jitter = jitter
        self.seed = seed
    }

    /// `5m`, `30s`, `1.5s`: the interval as it would be written.
    package var everyDescription: String {
        if everyNs % 3_600_000_000_000 == 0 { return "\(everyNs / 3_600_000_000_000)h" }
        if everyNs % 60_000_000_000 == 0 { return "\(everyNs / 60_000_000_000)m" }
        if everyNs % 1_000_000_000 == 0 { return "\(everyNs / 1_000_000_000)s" }
        return "\(Double(everyNs) / 1e6)ms"
    }

    /// Round `round`'s planned start, nanoseconds after the monitor's start.
    package func plannedStartNs(round: Int) -> Int64 {
        guard round > 0 else { return 0 }
        var generator = SeededGenerator(seed: seed &+ UInt64(round))
        let spread = Double(everyNs) * jitter
        let offset = spread > 0 ? Double.random(in: 0..<spread, using: &generator) : 0
        return Int64(round) * everyNs + Int64(offset)
    }

    /// When round `round` starts given when the previous one ended (both after the monitor's
    /// start), and whether it starts late because that round overran.
    package func startNs(round: Int, previousEndNs: Int64) -> (startNs: Int64, late: Bool) {
        let planned = plannedStartNs(round: round)
        return planned >= previousEndNs ? (planned, false) : (previousEndNs, true)
    }
}
