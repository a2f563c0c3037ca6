import Foundation
import SeededRandom

/// When the bytes that arrive in one direction are delivered at the other end: the arithmetic
/// of the link emulator, pure (tested without sockets).
///
/// A write is cut into segments of at most `segmentBytes`. Each segment leaves once the link is
/// free (bandwidth: the previous segment's serialization is over) plus its own serialization
/// time, then travels the one-way delay, moved by jitter, held by a stall, or — when one of its
/// TCP packets is lost — by the retransmission's `lossRecoveryNs`; but it is never delivered
/// before the segment ahead of it, so jitter never reorders bytes.
///
/// Datagrams (`datagram(bytes:arrival:)`) are scheduled the same way, one at a time, and a lost
/// one is dropped.
package struct LinkSchedule: Sendable {
    package let direction: LinkSpec.Direction
    package let segmentBytes: Int
    /// How much later a segment with a lost TCP packet arrives (`LinkSpec.lossRecoveryMs`).
    package let lossRecoveryNs: Int64
    private var linkFreeAt: Int64 = 0
    private var lastRelease: Int64 = 0
    private var generator: SeededGenerator

    package init(direction: LinkSpec.Direction, seed: UInt64, segmentBytes: Int = 8192, lossRecoveryNs: Int64 = 0) {
        self.direction = direction
        self.segmentBytes = segmentBytes
        self.lossRecoveryNs = lossRecoveryNs
        generator = SeededGenerator(seed: seed)
    }

    /// When a datagram of `bytes` that arrived at `arrival` is delivered, or nil when the link
    /// loses it (it still took its time on the link).
    package mutating func datagram(bytes: Int, arrival: Int64) -> Int64? {
        let sent = serialize(bytes, arrival: arrival)
        if direction.lossProbability > 0, Double.random(in: 0..<1, using: &generator) < direction.lossProbability {
            return nil
        }
        let release = max(lastRelease, sent + travelNs())
        lastRelease = release
        return release
    }

    /// When `length` bytes that arrived at `arrival` have left: once the link is free, after
    /// their serialization time.
    private mutating func serialize(_ length: Int, arrival: Int64) -> Int64 {
        guard let bits = direction.bitsPerSecond else { return arrival }
        let start = max(arrival, linkFreeAt)
        linkFreeAt = start + Int64((Double(length) * 8 / bits * 1e9).rounded())
        return linkFreeAt
    }

    /// The one-way delay, moved by jitter and stalls.
    private mutating func travelNs() -> Int64 {
        var travel = direction.delayMs * 1e6
        if direction.jitterMs > 0 {
            travel += direction.jitterMs * 1e6 * (2 * Double.random(in: 0..<1, using: &generator) - 1)
        }
        if direction.stallProbability > 0, Double.random(in: 0..<1, using: &generator) < direction.stallProbability {
            travel += direction.stallMs * 1e6
        }
        return max(0, Int64(travel.rounded()))
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
            let sent = serialize(length, arrival: arrival)
            var travel = travelNs()
            if direction.lossProbability > 0 {
                // Any of the segment's packets lost holds the segment until it is recovered.
                let packets = (length + LinkSpec.tcpPacketBytes - 1) / LinkSpec.tcpPacketBytes
                let delivered = pow(1 - direction.lossProbability, Double(packets))
                if Double.random(in: 0..<1, using: &generator) >= delivered { travel += lossRecoveryNs }
            }
            let release = max(lastRelease, sent + travel + extra)
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
