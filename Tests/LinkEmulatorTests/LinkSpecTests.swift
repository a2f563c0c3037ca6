import Foundation
import Testing

@testable import LinkEmulator

@Suite("Link specs and the schedule they give")
struct LinkSpecTests {
    @Test func specsParseAndBadOnesSayWhatIsWrong() throws {
        let spec = try LinkSpec(parsing: "rtt=80ms,jitter=10ms,down=20mbit,up=5mbit,stall=1%:200ms,buffer=4k")
        #expect(spec.up.delayMs == 40 && spec.down.delayMs == 40 && spec.up.jitterMs == 10)
        #expect(spec.down.bitsPerSecond == 20e6 && spec.up.bitsPerSecond == 5e6)
        #expect(spec.up.stallProbability == 0.01 && spec.down.stallMs == 200 && spec.bufferBytes == 4096)
        let changed = try LinkSpec(parsing: "4g,buffer=4k")
        #expect(changed.rttMs == 170 && changed.bufferBytes == 4096)
        #expect(
            try LinkSpec(parsing: "broadband").description == "rtt 40 ms, down 50 Mbit/s, up 10 Mbit/s, jitter ±2 ms")
        for (bad, says) in [
            ("rtt=fast", "expected a duration"), ("warp", "not a preset"), ("lossy=1%", "unknown setting"),
            ("loss=2", "expected a share of packets"), ("loss=100%", "below 100%"),
            ("flush=100ms", "needs buffer"), ("down=20", "expected a rate"),
        ] {
            #expect { try LinkSpec(parsing: bad) } throws: {
                ($0 as? LinkSpec.ParseError)?.message.contains(says) == true
            }
        }
    }

    @Test func theScheduleSerializesAtTheRateAndKeepsOrder() {
        var schedule = LinkSchedule(direction: .init(delayMs: 10, jitterMs: 0, bitsPerSecond: 8e6), seed: 1)
        let first = schedule.segments(count: 10_000, arrival: 0)
        #expect(first.map(\.length) == [8192, 1808])
        #expect(first[0].release == 8_192_000 + 10_000_000, "8192 bytes at 8 Mbit/s take 8.192 ms, then 10 ms of delay")
        let second = schedule.segments(count: 1000, arrival: 0)
        #expect(second[0].release == 10_000_000 + 11_000_000, "queued behind the first write: serialized after it")
        var jittery = LinkSchedule(direction: .init(delayMs: 5, jitterMs: 5), seed: 3)
        let releases = (0..<500).flatMap { jittery.segments(count: 10, arrival: Int64($0) * 100_000).map(\.release) }
        #expect(releases == releases.sorted(), "never reordered")
    }

    @Test func lossIsAShareOfPacketsAndEachProtocolPaysForItItsOwnWay() throws {
        let spec = try LinkSpec(parsing: "broadband,loss=2%")
        #expect(spec.up.lossProbability == 0.02 && spec.down.lossProbability == 0.02)
        #expect(spec.description.contains("loss 2%"))
        #expect(spec.lossRecoveryMs == 80, "a tail-loss probe after 2 × the 40 ms round trip")
        #expect(try LinkSpec(parsing: "loss=1%").lossRecoveryMs == 10, "at least 10 ms")
        #expect(
            LinkSpec.broadband.jsonObject.description.contains("loss") == false, "lossless runs store what they did")

        // UDP: a lost datagram is gone; the others arrive in order, on time.
        var udp = LinkSchedule(direction: .init(delayMs: 20, lossProbability: 0.1), seed: 7)
        let releases = (0..<10_000).map { udp.datagram(bytes: 200, arrival: Int64($0) * 1_000_000) }
        let lost = releases.filter { $0 == nil }.count
        #expect((800...1200).contains(lost), "10% of 10,000 datagrams, seeded: \(lost)")
        for (index, release) in releases.enumerated() {
            if let release { #expect(release == Int64(index) * 1_000_000 + 20_000_000) }
        }
        var lossless = LinkSchedule(direction: .init(delayMs: 20), seed: 7)
        #expect((0..<1000).allSatisfy { lossless.datagram(bytes: 200, arrival: Int64($0)) != nil })

        // TCP: nothing is lost; a segment with a lost packet arrives a recovery later and holds
        // back the bytes behind it.
        var tcp = LinkSchedule(
            direction: .init(delayMs: 20, lossProbability: 0.1), seed: 7, lossRecoveryNs: 80_000_000)
        let segments = (0..<2000).flatMap { tcp.segments(count: 1000, arrival: Int64($0) * 1_000_000) }
        #expect(segments.count == 2000 && segments.map(\.release) == segments.map(\.release).sorted())
        let late = zip(0..., segments).filter { $1.release > Int64($0) * 1_000_000 + 20_000_000 }.count
        #expect(late > 200, "a tenth of the segments is recovered late, and some hold the next ones back: \(late)")
        let worst = zip(0..., segments).map { $1.release - Int64($0) * 1_000_000 - 20_000_000 }.max() ?? 0
        #expect(worst <= 80_000_000, "never later than one recovery (no segment waits for two): \(worst)")
    }
}
