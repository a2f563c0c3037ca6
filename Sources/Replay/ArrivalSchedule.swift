import Foundation

/// The open load model: new sessions arrive on a schedule of their own, whether or not earlier
/// ones finished (k6's constant- and ramping-arrival-rate), so a slow server cannot slow the
/// offered load down.
///
/// A schedule is a list of stages; each runs for its duration and moves the arrival rate
/// linearly from where the previous stage ended (the first: from `startRate`) to its target.
/// `--rate 50/s --duration 60s` is one stage at a constant 50/s: 3,000 arrivals, at 0, 20 ms,
/// 40 ms, … The n-th arrival (from 0) is due when the integral of the rate reaches n.
package struct ArrivalSchedule: Sendable, Equatable {
    package struct Stage: Sendable, Equatable {
        package var durationNs: Int64
        /// Sessions per second at the end of the stage.
        package var rate: Double

        package init(durationNs: Int64, rate: Double) {
            self.durationNs = durationNs
            self.rate = rate
        }
    }

    package var startRate: Double
    package var stages: [Stage]

    package init(startRate: Double, stages: [Stage]) {
        self.startRate = startRate
        self.stages = stages
    }

    /// How `--rate`, `--duration` and `--stages` combine: a constant rate for a duration, or
    /// stages (ramping from `--rate`, else from 0).
    package static func from(rate: String?, duration: String?, stages: String?) throws(ScheduleError)
        -> ArrivalSchedule?
    {
        let parsedRate = try rate.map { text throws(ScheduleError) in try parseRate(text, flag: "--rate") }
        if let stages {
            if duration != nil {
                throw ScheduleError(
                    "--duration and --stages exclude each other: the stages' durations add up to the run's")
            }
            let list = try parseStages(stages)
            return ArrivalSchedule(startRate: parsedRate ?? 0, stages: list)
        }
        guard let parsedRate else {
            if duration != nil {
                throw ScheduleError("--duration needs --rate (sessions per second), e.g. --rate 50/s --duration 60s")
            }
            return nil
        }
        guard let duration else {
            throw ScheduleError(
                "--rate needs --duration (how long to keep the rate), e.g. --rate \(rate!) --duration 60s")
        }
        let ns = try parseDuration(duration, flag: "--duration")
        return ArrivalSchedule(startRate: parsedRate, stages: [Stage(durationNs: ns, rate: parsedRate)])
    }

    package var durationNs: Int64 { stages.reduce(0) { $0 + $1.durationNs } }

    /// Offsets (ns from the start) at which sessions arrive, in order.
    package func arrivals() -> [Int64] {
        var result: [Int64] = []
        var stageStart: Int64 = 0
        var from = startRate
        var before = 0.0  // arrivals (the integral of the rate) before this stage
        var next = 0.0
        for stage in stages {
            let d = Double(stage.durationNs) / 1e9
            let a = (stage.rate - from) / (2 * d)  // C(t) = from·t + a·t², t in seconds
            let total = from * d + a * d * d
            while next < before + total - 1e-9 {
                let c = next - before
                let t: Double
                if abs(a) < 1e-12 {
                    t = from > 0 ? c / from : 0
                } else {
                    let disc = max(0, from * from + 4 * a * c)
                    t = (-from + disc.squareRoot()) / (2 * a)
                }
                result.append(stageStart + Int64((min(max(t, 0), d) * 1e9).rounded()))
                next += 1
            }
            before += total
            stageStart += stage.durationNs
            from = stage.rate
        }
        return result
    }

    /// Arrivals per second (for the time series' `offered`).
    package var summary: String {
        if stages.count == 1, stages[0].rate == startRate {
            return "\(Self.format(startRate))/s for \(Self.format(Double(stages[0].durationNs) / 1e9)) s"
        }
        return stages.map { "\(Self.format(Double($0.durationNs) / 1e9))s:\(Self.format($0.rate))/s" }.joined(
            separator: ",")
            + (startRate > 0 ? " from \(Self.format(startRate))/s" : "")
    }

    static func format(_ value: Double) -> String {
        value == value.rounded() ? String(Int(value)) : String(format: "%g", value)
    }

    package struct ScheduleError: Error, CustomStringConvertible {
        package var description: String
        init(_ description: String) { self.description = description }
    }

    /// "50/s", "50", "3000/m", "0.5/s".
    package static func parseRate(_ text: String, flag: String) throws(ScheduleError) -> Double {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        var number = Substring(trimmed)
        var per = 1.0
        if let slash = trimmed.firstIndex(of: "/") {
            number = trimmed[..<slash]
            switch trimmed[trimmed.index(after: slash)...] {
            case "s": per = 1
            case "m", "min": per = 60
            case "h": per = 3600
            default:
                throw ScheduleError(
                    "\(flag) \(text): the unit after / must be s, m or h (sessions per second, minute or hour), e.g. 50/s"
                )
            }
        }
        guard let value = Double(number), value.isFinite, value > 0 else {
            throw ScheduleError("\(flag) \(text) is not a positive rate; write sessions per second, e.g. 50/s")
        }
        let rate = value / per
        guard rate <= 10_000 else { throw ScheduleError("\(flag) \(text) is more than 10000 sessions per second") }
        return rate
    }

    /// "60s", "2m", "1h", "500ms", "90" (seconds).
    package static func parseDuration(_ text: String, flag: String) throws(ScheduleError) -> Int64 {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let units: [(String, Double)] = [("ms", 1e-3), ("s", 1), ("m", 60), ("h", 3600)]
        var seconds: Double?
        for (unit, factor) in units where trimmed.hasSuffix(unit) {
            if let value = Double(trimmed.dropLast(unit.count)) { seconds = value * factor }
            break
        }
        if seconds == nil, let value = Double(trimmed) { seconds = value }
        guard let seconds, seconds.isFinite, seconds > 0 else {
            throw ScheduleError("\(flag) \(text) is not a duration; write e.g. 60s, 2m, 1h or 500ms")
        }
        guard seconds <= 7 * 86400 else { throw ScheduleError("\(flag) \(text) is longer than a week") }
        return Int64((seconds * 1e9).rounded())
    }

    /// "30s:10/s,2m:50/s".
    package static func parseStages(_ text: String) throws(ScheduleError) -> [Stage] {
        var stages: [Stage] = []
        for part in text.split(separator: ",") {
            let pieces = part.split(separator: ":", maxSplits: 1).map(String.init)
            guard pieces.count == 2 else {
                throw ScheduleError("--stages: \"\(part)\" is not DURATION:RATE; write e.g. --stages 30s:10/s,2m:50/s")
            }
            let duration = try parseDuration(pieces[0], flag: "--stages")
            // A rate of 0 ends a ramp down.
            let rate =
                pieces[1].hasPrefix("0") && (Double(pieces[1].split(separator: "/").first ?? "") ?? 1) == 0
                ? 0 : try parseRate(pieces[1], flag: "--stages")
            stages.append(Stage(durationNs: duration, rate: rate))
        }
        guard !stages.isEmpty else { throw ScheduleError("--stages is empty; write e.g. --stages 30s:10/s,2m:50/s") }
        return stages
    }
}
