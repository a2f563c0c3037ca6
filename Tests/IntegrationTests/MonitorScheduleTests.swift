import RunSession
import Testing

@Suite("Monitor schedule")
struct MonitorScheduleTests {
    let every: Int64 = 300_000_000_000  // 5 min

    @Test("the first round at once, round k at k × every plus a jitter below 10% of it, the same for a seed")
    func plannedStarts() {
        let schedule = MonitorSchedule(everyNs: every, jitter: 0.1, seed: 7)
        #expect(schedule.plannedStartNs(round: 0) == 0)
        var offsets: Set<Int64> = []
        for round in 1...200 {
            let offset = schedule.plannedStartNs(round: round) - Int64(round) * every
            #expect(offset >= 0 && offset < every / 10)
            offsets.insert(offset)
        }
        #expect(offsets.count > 190, "jittered, not one fixed offset")
        #expect(
            MonitorSchedule(everyNs: every, jitter: 0.1, seed: 7).plannedStartNs(round: 5)
                == schedule.plannedStartNs(round: 5))
        #expect(MonitorSchedule(everyNs: every, jitter: 0, seed: 7).plannedStartNs(round: 3) == 3 * every)
    }

    @Test("rounds never overlap: one that overran is followed at once, and says so")
    func neverOverlapping() {
        let schedule = MonitorSchedule(everyNs: every, jitter: 0, seed: 1)
        #expect(schedule.startNs(round: 1, previousEndNs: 60_000_000_000) == (every, false))
        #expect(schedule.startNs(round: 1, previousEndNs: every + 5) == (every + 5, true))
        #expect(schedule.everyDescription == "5m")
        #expect(MonitorSchedule(everyNs: 1_500_000_000).everyDescription == "1500.0ms")
        #expect(MonitorSchedule(everyNs: 7_200_000_000_000).everyDescription == "2h")
    }
}
