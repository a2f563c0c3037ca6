import SeededRandom

/// When the bytes that arrive in one direction are delivered at the other end: the arithmetic
/// of the link emulator, pure (tested without sockets).
///
/// A write is cut into segments of at most `segmentBytes`. Each segment leaves once the link is
/// free (bandwidth: the previous segment's serialization is over) plus its own serialization
/// time, then travels the one-way delay, moved by jitter, or held by a stall — but never
/// delivered before the segment ahead of it, so jitter never reorders bytes.
package struct LinkSchedule: Sendable {
    package let direction: LinkSpec.Direction
    package let segmentBytes: Int
    private var linkFreeAt: Int64 = 0
    private var lastRelease: Int64 = 0
    private var generator: SeededGenerator

    package init(direction: LinkSpec.Direction, seed: UInt64, segmentBytes: Int = 8192) {
        self.direction = direction
        self.segmentBytes = segmentBytes
        generator = SeededGenerator(seed: seed)
    }

    /// Release times (monotonic ns) for `count` bytes that arrived at `arrival`, in order.
    /// - Parameter extraNs: added to the first segment (a connection's set-up round trip).
    package mutating func segments(count: Int, arrival: Int64, extraNs: Int64 = 0) -> [(length: Int, release: Int64)] {
        var out: [(length: Int, release: Int64)] = []
        var remaining = count
        var extra = extraNs
        while remaining > 0 {
            let length = min(remaining, segmentBytes)
            remaining -= length
            var sent = arrival
            if let bits = direction.bitsPerSecond {
                let start = max(arrival, linkFreeAt)
                linkFreeAt = start + Int64((Double(length) * 8 / bits * 1e9).rounded())
                sent = linkFreeAt
            }
            var travel = direction.delayMs * 1e6
            if direction.jitterMs > 0 {
                travel += direction.jitterMs * 1e6 * (2 * Double.random(in: 0..<1, using: &generator) - 1)
            }
            if direction.stallProbability > 0, Double.random(in: 0..<1, using: &generator) < direction.stallProbability
            {
                travel += direction.stallMs * 1e6
            }
            let release = max(lastRelease, sent + max(0, Int64(travel.rounded())) + extra)
            extra = 0
            lastRelease = release
            out.append((length, release))
        }
        return out
    }

    /// When a close that arrived at `arrival` is delivered: after everything before it.
    package mutating func close(arrival: Int64) -> Int64 {
        let release = max(lastRelease, arrival + Int64(direction.delayMs * 1e6))
        lastRelease = release
        return release
    }
}
