import Histogram
import Storage
import Synchronization
import VoiceTransport

/// The run's load, second by second and per transport: what was offered, started (and how
/// late), in flight and finished, and TTFA percentiles from HDR histograms — so live progress
/// and the stored time series cost the same whether the run has ten trials or a million, and
/// no sample list grows with the run. (Every trial is still stored on its own.)
package final class LoadMonitor: Sendable {
    /// Live figures of one transport.
    package struct Live: Sendable {
        package var transport: String
        /// Sessions in flight now.
        package var active: Int
        package var started: Int
        package var completed: Int
        package var errors: Int
        package var invalid: Int
        package var late: Int
        /// TTFA percentiles of the measured ok trials so far, milliseconds.
        package var p50: Double?
        package var p99: Double?
        /// The same over the last complete second (nil when none finished in it).
        package var lastSecondP50: Double?
        package var lastSecondP99: Double?
        /// Trials that finished in the last complete second.
        package var lastSecondCompleted: Int
    }

    /// Histograms count microseconds from 1 µs to 10 minutes at three significant digits.
    static func histogram() -> Histogram<UInt64> {
        Histogram(lowestDiscernibleValue: 1, highestTrackableValue: 600_000_000, numberOfSignificantValueDigits: .three)
    }

    private struct Second {
        var offered = 0
        var started = 0
        var late = 0
        var completed = 0
        var ok = 0
        var errors = 0
        var invalid = 0
        var maxLag: Int64?
        var ttfa: Histogram<UInt64>?
    }

    private struct TransportState {
        var seconds: [Int: Second] = [:]
        var all = LoadMonitor.histogram()
        var active = 0
        var started = 0
        var completed = 0
        var errors = 0
        var invalid = 0
        var late = 0
        var last: (second: Int, p50: Double?, p99: Double?, completed: Int)?
    }

    /// Monotonic ns of second 0.
    package let origin: Int64
    private let lateAfterNs: Int64
    private let transports: [String]
    private let state: Mutex<(perTransport: [String: TransportState], flushedBefore: Int)>

    /// - Parameters:
    ///   - transports: display names, in configuration order.
    ///   - lateAfterNs: a session that starts more than this after its scheduled arrival is late.
    package init(transports: [String], origin: Int64, lateAfterNs: Int64) {
        self.transports = transports
        self.origin = origin
        self.lateAfterNs = lateAfterNs
        state = Mutex((Dictionary(uniqueKeysWithValues: transports.map { ($0, TransportState()) }), 0))
    }

    private func second(_ t: Int64) -> Int { t <= origin ? 0 : Int((t - origin) / 1_000_000_000) }

    /// The second an event at `t` is counted in: its own, or — when that second's row was
    /// already stored (the event reached the lock after the ticker's flush, on a busy machine)
    /// — the first one not stored yet, so the stored rows add up to every event.
    private func bucket(_ t: Int64, flushedBefore: Int) -> Int { max(second(t), flushedBefore) }

    /// Sessions the schedule offers at `t` (open model: every arrival, known up front).
    package func offer(_ transport: String, at t: Int64) {
        state.withLock { s in s.perTransport[transport]?.seconds[second(t), default: Second()].offered += 1 }
    }

    /// A session started at `t`, `lateNs` after it was due (closed model: 0, and it counts as
    /// offered too).
    package func started(_ transport: String, at t: Int64, lateNs: Int64?, closed: Bool) {
        let isLate = (lateNs ?? 0) > lateAfterNs
        state.withLock { s in
            let index = bucket(t, flushedBefore: s.flushedBefore)
            s.perTransport[transport]?.active += 1
            s.perTransport[transport]?.started += 1
            if isLate { s.perTransport[transport]?.late += 1 }
            s.perTransport[transport]?.seconds[index, default: Second()].started += 1
            if isLate { s.perTransport[transport]?.seconds[index, default: Second()].late += 1 }
            if closed { s.perTransport[transport]?.seconds[index, default: Second()].offered += 1 }
        }
    }

    /// A session's trial finished at `t` (stored, or abandoned: `trial` nil).
    package func finished(_ transport: String, at t: Int64, trial: TrialRecord?) {
        state.withLock { s in
            guard var ts = s.perTransport[transport] else { return }
            ts.active -= 1
            if let trial {
                let index = bucket(t, flushedBefore: s.flushedBefore)
                var bucket = ts.seconds[index] ?? Second()
                ts.completed += 1
                bucket.completed += 1
                if let lag = trial.maxSendLagNs { bucket.maxLag = max(bucket.maxLag ?? 0, lag) }
                if trial.status == .invalid {
                    ts.invalid += 1
                    bucket.invalid += 1
                } else if trial.isFailure {
                    ts.errors += 1
                    bucket.errors += 1
                } else if trial.status == .ok {
                    bucket.ok += 1
                }
                if trial.isMeasuredOK, let ttfa = trial.ttfaNs {
                    let micros = UInt64(max(1, min(ttfa / 1000, 600_000_000)))
                    _ = ts.all.record(micros)
                    if bucket.ttfa == nil { bucket.ttfa = LoadMonitor.histogram() }
                    _ = bucket.ttfa!.record(micros)
                }
                ts.seconds[index] = bucket
            }
            s.perTransport[transport] = ts
        }
    }

    /// The rows of every second before `now`'s (all of them with `final`) not returned yet,
    /// with the number of sessions in flight as `active`.
    package func flush(runID: Int64, now: Int64, final: Bool = false) -> [SeriesRecord] {
        state.withLock { s in
            let current = second(now)
            var last = s.flushedBefore
            for ts in s.perTransport.values { last = max(last, (ts.seconds.keys.max() ?? -1) + 1) }
            let upTo = final ? max(last, current) : current
            guard upTo > s.flushedBefore else { return [] }
            var rows: [SeriesRecord] = []
            for name in transports {
                guard var ts = s.perTransport[name] else { continue }
                for index in s.flushedBefore..<upTo {
                    let bucket = ts.seconds.removeValue(forKey: index) ?? Second()
                    let p50 = bucket.ttfa.map { Int64($0.valueAtPercentile(50)) * 1000 }
                    let p99 = bucket.ttfa.map { Int64($0.valueAtPercentile(99)) * 1000 }
                    rows.append(
                        SeriesRecord(
                            runID: runID, transport: name, second: index, offered: bucket.offered,
                            started: bucket.started,
                            late: bucket.late, active: ts.active, completed: bucket.completed, ok: bucket.ok,
                            errors: bucket.errors, invalid: bucket.invalid, ttfaP50Ns: p50, ttfaP99Ns: p99,
                            maxSendLagNs: bucket.maxLag))
                    ts.last = (index, p50.map { Double($0) / 1e6 }, p99.map { Double($0) / 1e6 }, bucket.completed)
                }
                s.perTransport[name] = ts
            }
            s.flushedBefore = upTo
            return rows
        }
    }

    /// Live figures per transport, recomputed at most every 250 ms (percentiles walk the
    /// histograms; a run finishing hundreds of trials a second asks for them on each).
    package func live() -> [Live] {
        let now = MonotonicClock.now()
        if let cached = cache.withLock({ c in c.map { now - $0.at < 250_000_000 ? $0.value : nil } ?? nil }) {
            return cached
        }
        let value = computeLive()
        cache.withLock { $0 = (now, value) }
        return value
    }

    private let cache = Mutex<(at: Int64, value: [Live])?>(nil)

    private func computeLive() -> [Live] {
        state.withLock { s in
            transports.map { name in
                let ts = s.perTransport[name] ?? TransportState()
                let any = ts.all.totalCount > 0
                return Live(
                    transport: name, active: ts.active, started: ts.started, completed: ts.completed, errors: ts.errors,
                    invalid: ts.invalid, late: ts.late,
                    p50: any ? Double(ts.all.valueAtPercentile(50)) / 1000 : nil,
                    p99: any ? Double(ts.all.valueAtPercentile(99)) / 1000 : nil,
                    lastSecondP50: ts.last?.p50, lastSecondP99: ts.last?.p99,
                    lastSecondCompleted: ts.last?.completed ?? 0)
            }
        }
    }
}
