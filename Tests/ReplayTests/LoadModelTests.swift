import Foundation
import Replay
import Storage
import TestSupport
import Testing
import VoiceTransport

@Suite("Load models: arrival schedules, capacity checks, the per-second monitor")
struct LoadModelTests {
    @Test func aConstantRateOffersRateTimesDurationSessionsEvenlySpaced() throws {
        let schedule = try #require(try ArrivalSchedule.from(rate: "50/s", duration: "60s", stages: nil))
        let arrivals = schedule.arrivals()
        #expect(arrivals.count == 3000)
        #expect(arrivals.first == 0)
        #expect(arrivals[1] == 20_000_000 && arrivals[2] == 40_000_000)
        #expect(try #require(arrivals.last) < 60_000_000_000)
        // Per second of the schedule: 50 arrivals, every second.
        let perSecond = Dictionary(grouping: arrivals) { $0 / 1_000_000_000 }.mapValues(\.count)
        #expect(perSecond.count == 60 && perSecond.values.allSatisfy { $0 == 50 })
        #expect(try ArrivalSchedule.from(rate: "3000/m", duration: "1m", stages: nil)?.arrivals().count == 3000)
    }

    @Test func stagesRampLinearlyFromTheLastTarget() throws {
        // 0 → 10/s over 10 s: 50 arrivals, ever closer together; then 10/s flat for 5 s: 50 more.
        let schedule = try #require(try ArrivalSchedule.from(rate: nil, duration: nil, stages: "10s:10/s,5s:10/s"))
        let arrivals = schedule.arrivals()
        #expect(arrivals.count == 100)
        #expect(zip(arrivals, arrivals.dropFirst()).allSatisfy { $0 <= $1 })
        let firstHalf = arrivals.filter { $0 < 5_000_000_000 }.count
        #expect(firstHalf == 13)  // ∫0..5 of t dt = 12.5 → arrivals 0…12
        #expect(arrivals.filter { $0 >= 10_000_000_000 }.count == 50)
        #expect(schedule.durationNs == 15_000_000_000)
        // Ramps start from --rate when it is given.
        #expect(try ArrivalSchedule.from(rate: "10/s", duration: nil, stages: "2s:10/s")?.arrivals().count == 20)
    }

    @Test func badSchedulesSayWhatToWrite() {
        func message(_ rate: String?, _ duration: String?, _ stages: String?) -> String {
            do {
                _ = try ArrivalSchedule.from(rate: rate, duration: duration, stages: stages)
                return ""
            } catch {
                return error.description
            }
        }
        #expect(message("50/s", nil, nil).contains("--rate needs --duration"))
        #expect(message(nil, "60s", nil).contains("--duration needs --rate"))
        #expect(message("fast", "60s", nil).contains("--rate fast is not a positive rate"))
        #expect(message("50/d", "60s", nil).contains("must be s, m or h"))
        #expect(message("50/s", "soon", nil).contains("--duration soon is not a duration"))
        #expect(message(nil, nil, "30s-10/s").contains("is not DURATION:RATE"))
        #expect(message("1/s", "60s", "30s:10/s").contains("exclude each other"))
    }

    @Test func tooFewFileDescriptorsOrPortsStopTheRunBeforeItStartsWithWhatToDo() throws {
        let need = LoadCapacity.need(sessions: 5000, transports: 2, embeddedServer: true, linkEmulator: false)
        #expect(need.descriptors == 5000 * 2 * 2 + 128)
        do {
            try LoadCapacity.check(
                need, what: "--concurrency 5000", openFiles: (1024, 4096), ports: 28232, raise: { _ in 4096 })
            Issue.record("a run needing 20128 descriptors passed a hard limit of 4096")
        } catch {
            #expect(error.kind == .input)
            #expect(error.message.contains("--concurrency 5000 needs about 20128 open files"))
            #expect(error.message.contains("at most 4096 (ulimit -Hn)"))
            #expect(error.message.contains("--group"))
        }
        // Below the hard limit, the soft limit is raised.
        var raisedTo = 0
        try LoadCapacity.check(
            need, what: "--concurrency 5000", openFiles: (1024, 65536), ports: 28232,
            raise: {
                raisedTo = $0
                return $0
            })
        #expect(raisedTo == need.descriptors)
        // Ports: a relay doubles the outgoing connections.
        let relayed = LoadCapacity.need(sessions: 10_000, transports: 2, embeddedServer: true, linkEmulator: true)
        do {
            try LoadCapacity.check(
                relayed, what: "--concurrency 10000", openFiles: (1_000_000, 1_000_000), ports: 28232, raise: { $0 })
            Issue.record("40000 outgoing connections passed 28232 ephemeral ports")
        } catch {
            #expect(error.message.contains("needs 40000 simultaneous outgoing connections"))
            #expect(error.message.contains("ip_local_port_range"))
        }
    }

    @Test func theMonitorCountsEachSecondAndItsPercentilesFromHistograms() throws {
        let origin: Int64 = 1_000_000_000_000
        let monitor = LoadMonitor(transports: ["websocket"], origin: origin, lateAfterNs: 5_000_000)
        func trial(_ ttfaMs: Int64, status: TrialStatus = .ok) -> TrialRecord {
            sampleTrial(runID: 1, seq: 1, transport: "websocket", ttfaMs: status == .ok ? ttfaMs : nil, status: status)
        }
        for index in 0..<100 {
            monitor.offer("websocket", at: origin + Int64(index) * 10_000_000)
            monitor.started(
                "websocket", at: origin + Int64(index) * 10_000_000, lateNs: index == 7 ? 9_000_000 : 0, closed: false)
        }
        for ms in 1...99 { monitor.finished("websocket", at: origin + 1_500_000_000, trial: trial(Int64(ms))) }
        monitor.finished("websocket", at: origin + 1_600_000_000, trial: trial(0, status: .failed(.timeout)))
        let rows = monitor.flush(runID: 9, now: origin + 2_100_000_000)
        #expect(rows.count == 2)
        #expect(
            rows[0].second == 0 && rows[0].offered == 100 && rows[0].started == 100 && rows[0].late == 1
                && rows[0].completed == 0)
        #expect(rows[1].completed == 100 && rows[1].ok == 99 && rows[1].errors == 1 && rows[1].active == 0)
        let p50 = try #require(rows[1].ttfaP50Ns)
        let p99 = try #require(rows[1].ttfaP99Ns)
        #expect(abs(Double(p50) / 1e6 - 50) < 0.1 && abs(Double(p99) / 1e6 - 98) < 1.1)
        #expect(monitor.flush(runID: 9, now: origin + 2_200_000_000).isEmpty)  // nothing twice
        let live = try #require(monitor.live().first)
        #expect(live.started == 100 && live.completed == 100 && live.late == 1 && live.errors == 1)
    }

    /// An event that reaches the monitor after its second's row was stored (a busy machine:
    /// the ticker flushed first) counts in the next row not stored yet: the stored rows add up to
    /// every session started and every trial completed (CI saw 21 of 30 completions stored).
    @Test func anEventReportedAfterItsSecondWasStoredIsCountedInTheNext() {
        let origin: Int64 = 1_000_000_000_000
        let monitor = LoadMonitor(transports: ["websocket"], origin: origin, lateAfterNs: 5_000_000)
        monitor.started("websocket", at: origin + 900_000_000, lateNs: 0, closed: true)
        let first = monitor.flush(runID: 1, now: origin + 1_005_000_000)
        // Completed and started "in second 0", reported only now.
        monitor.finished(
            "websocket", at: origin + 990_000_000,
            trial: sampleTrial(runID: 1, seq: 1, transport: "websocket", ttfaMs: 5))
        monitor.started("websocket", at: origin + 995_000_000, lateNs: 0, closed: true)
        let rest = monitor.flush(runID: 1, now: origin + 2_005_000_000, final: true)
        let rows = first + rest
        #expect(rows.map(\.second) == [0, 1])
        #expect(rows.reduce(0) { $0 + $1.started } == 2 && rows.reduce(0) { $0 + $1.completed } == 1)
        #expect(rest.first?.completed == 1 && rest.first?.started == 1)
    }

    @Test func theClosedModelsSessionsStartOnTheirSchedule() {
        func configuration(sessions: Int, rampUp: Int64?) -> BenchmarkConfiguration {
            BenchmarkConfiguration(
                transports: [
                    TransportSettings(
                        kind: .websocket, endpoint: try! Endpoint("ws://127.0.0.1:9/v1/realtime", for: .websocket))
                ],
                recordings: [Recording(name: "r", pcm: [UInt8](repeating: 0, count: 4800))],
                trials: 100, warmup: 0, concurrency: sessions, rampUp: rampUp)
        }
        // Four sessions spread over 240 ms: 0, 60, 120, 180 ms.
        let spread = configuration(sessions: 4, rampUp: 240_000_000)
        #expect((0..<4).map(spread.sessionStart) == [0, 60_000_000, 120_000_000, 180_000_000])
        // Without --ramp-up: one millisecond apart.
        let apart = configuration(sessions: 4, rampUp: nil)
        #expect((0..<4).map(apart.sessionStart) == [0, 1_000_000, 2_000_000, 3_000_000])
    }
}
