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
            ("rtt=fast", "expected a duration"), ("warp", "not a preset"), ("loss=1%", "unknown setting"),
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
}
