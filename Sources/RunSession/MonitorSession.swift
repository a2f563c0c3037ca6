import Foundation
import Logging
import Monitoring
import Reports
import ServiceLifecycle
import Storage
import TTFASupport
import UnixSignals
import VoiceTransport

/// What `ttfa monitor` adds to a run plan: how often, how many rounds, and where the metrics go.
package struct MonitorPlan: Sendable {
    package var schedule: MonitorSchedule
    /// Rounds to run; nil: until SIGINT or SIGTERM.
    package var count: Int?
    /// Where to serve `/metrics`; nil: no server (the rounds are still stored).
    package var listen: MetricsServer.Address?
    /// The TTFA histogram's bucket bounds, seconds.
    package var buckets: [Double] = TTFAMetrics.defaultBuckets
    package var recordingLimit = TTFAMetrics.defaultRecordingLimit
    /// Where to push the metrics (and traces) over OTLP/HTTP; nil: nowhere.
    package var otlp: OTLPExport.Settings?

    package init(schedule: MonitorSchedule, count: Int?, listen: MetricsServer.Address?) {
        self.schedule = schedule
        self.count = count
        self.listen = listen
    }
}

/// Synthetic monitoring: the plan's comparison run again and again, each round a run stored as
/// usual, its trials and verdicts exported as metrics. A round that fails (the endpoint down,
/// the store refusing a run) is recorded and counted, and the next still runs. SIGINT or SIGTERM
/// stops it gracefully: the round in flight abandons its trials in flight and is stored as
/// interrupted, and the metrics server stops last.
package final class MonitorSession: Sendable {
    package let plan: RunPlan
    package let monitor: MonitorPlan
    package let metrics: TTFAMetrics
    let store: any ResultsStore
    /// The I/O loops every round runs on: their threads (and descriptors) live as long as the
    /// monitor, not one set per round.
    let loops: IOLoopGroup
    private let logger = Logger(label: "ttfa.monitor")
    /// How many malloc arenas the monitor's threads share.
    static let mallocArenas: Int32 = 2

    /// - Throws: `MonitorInputError` when the OTLP exporter cannot be set up.
    package init(plan: RunPlan, monitor: MonitorPlan, store: any ResultsStore) throws(MonitorInputError) {
        self.plan = plan
        self.monitor = monitor
        self.store = store
        // Hours of rounds whose threads come and go: two malloc arenas (glibc's default is eight
        // a core), so the heap is not the high-water mark of many (see the soak in the README).
        HeapTrim.limitArenas(to: Self.mallocArenas)
        loops = IOLoopGroup(realtime: plan.realtimeIO)
        let otlp = try monitor.otlp.map { (settings) throws(MonitorInputError) in try OTLPExport(settings) }
        metrics = TTFAMetrics(
            buckets: monitor.buckets, recordingLimit: monitor.recordingLimit, version: TTFAInfo.version,
            commit: TTFAInfo.build?.commit ?? HostFacts.current().gitCommit, otlp: otlp)
    }

    /// What the monitor did.
    package struct Outcome: Sendable {
        package var rounds: [TTFAMetrics.Round.Result] = []
        package var interrupted = false
    }

    /// Runs the rounds (and the metrics server) until `count` rounds are done or a signal
    /// stops it.
    /// - Throws: `RunInputError` when the metrics server cannot listen (nothing was measured).
    package func run() async throws -> Outcome {
        let outcome = LockedBox(Outcome())
        let ready = ReadySignal()
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = []
        if let listen = monitor.listen {
            let app = MetricsServer.application(metrics: metrics, address: listen, logger: logger) { port in
                self.note(
                    "metrics: serving http://\(listen.host.contains(":") ? "[\(listen.host)]" : listen.host):\(port)/metrics"
                )
                ready.fire(.success(()))
            }
            services.append(
                .init(
                    service: FailureReporting(app) { error in
                        ready.fire(
                            .failure(
                                RunInputError(
                                    "--metrics-listen \(listen): cannot listen there (\(error)); choose a free port, or :0 for any"
                                )))
                    }))
        } else {
            ready.fire(.success(()))
        }
        // The exporters stop after the rounds (services stop in reverse order), pushing the last.
        for service in metrics.otlp?.services ?? [] { services.append(.init(service: service)) }
        services.append(
            .init(
                service: Rounds { try await self.rounds(ready: ready, into: outcome) },
                successTerminationBehavior: .gracefullyShutdownGroup,
                failureTerminationBehavior: .gracefullyShutdownGroup
            ))
        let group = ServiceGroup(
            configuration: .init(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        do {
            try await group.run()
        } catch {
            if let failure = ready.failure { throw failure }
            throw (error as? RunInputError) ?? RunInputError("the monitor stopped: \(error)")
        }
        return outcome.withLock { $0 }
    }

    /// The rounds, one after another on the schedule.
    private func rounds(ready: ReadySignal, into outcome: LockedBox<Outcome>) async throws {
        try await ready.wait()
        let start = DispatchTime.now().uptimeNanoseconds
        var previousEnd: Int64 = 0
        var round = 0
        while monitor.count.map({ round < $0 }) ?? true {
            let (startNs, late) = monitor.schedule.startNs(round: round, previousEndNs: previousEnd)
            if late {
                note(
                    "round \(round) took longer than --every (\(monitor.schedule.everyDescription)): round \(round + 1) starts at once"
                )
            }
            let wait = startNs - Int64(DispatchTime.now().uptimeNanoseconds - start)
            if wait > 0 {
                try? await cancelWhenGracefulShutdown { try await Task.sleep(for: .nanoseconds(wait)) }
            }
            if Task.isShuttingDownGracefully { break }
            round += 1
            let result = await self.round(round)
            outcome.withLock { $0.rounds.append(result.result) }
            // Between rounds the monitor keeps only what it needs: the store's caches go, and
            // what the round's threads freed goes back to the system (see HeapTrim).
            await store.releaseMemory()
            HeapTrim.releaseFreePages()
            // The soak benchmark samples the process here: the same point of every round.
            logger.debug("between rounds: store caches released, heap trimmed", metadata: ["round": "\(round)"])
            previousEnd = Int64(DispatchTime.now().uptimeNanoseconds - start)
            if result.interrupted || Task.isShuttingDownGracefully {
                outcome.withLock { $0.interrupted = true }
                return
            }
        }
        if Task.isShuttingDownGracefully {
            outcome.withLock { $0.interrupted = true }
        } else if monitor.listen != nil {
            await awaitLastScrape()
        }
    }

    /// After the last of `--count` rounds: serves the metrics until a scrape has read them (at
    /// most a minute, or until a signal), so a short monitor's last round reaches Prometheus.
    private func awaitLastScrape() async {
        let seen = metrics.scrapeCount
        note("waiting for a scrape of the last round's metrics (at most 60 s; Ctrl-C to stop now)")
        for _ in 0..<600 where metrics.scrapeCount == seen && !Task.isShuttingDownGracefully {
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: .milliseconds(100)) }
        }
    }

    /// One round: a run, its trials into the metrics, a line on stderr (and a JSON line).
    private func round(_ number: Int) async -> (result: TTFAMetrics.Round.Result, interrupted: Bool) {
        let began = Date()
        do {
            let session = RunSession(
                plan: plan, store: store, progress: .quiet, signals: [], warnings: number == 1, loops: loops)
            let outcome = try await session.run()
            var trials: [TrialRecord] = []
            for id in outcome.runIDs { trials += try await store.trials(runID: id) }
            let (series, notes) = metrics.record(trials: trials, endpoint: endpointLabel)
            for note in notes { self.note("note: " + note) }
            if let otlp = metrics.otlp {
                for trial in trials { otlp.trace(trial, endpoint: endpointLabel(trial), parts: Self.spanParts(trial)) }
            }
            let summary = outcome.summaries[outcome.summaries.count - 1]
            let result: TTFAMetrics.Round.Result =
                outcome.interrupted
                ? .interrupted : outcome.healths.allSatisfy(\.passed) && !outcome.storeFailed ? .complete : .failed
            metrics.record(
                TTFAMetrics.Round(
                    result: result, endedAt: Date().timeIntervalSince1970,
                    durationSeconds: Date().timeIntervalSince(began), series: series,
                    thresholds: summary.checks.map { ($0.threshold.expression, $0.passed) }))
            report(number, outcome: outcome, summary: summary)
            return (result, outcome.interrupted)
        } catch {
            let message = (error as? RunInputError)?.message ?? "\(error)"
            metrics.record(
                TTFAMetrics.Round(
                    result: .error, endedAt: Date().timeIntervalSince1970,
                    durationSeconds: Date().timeIntervalSince(began), series: [], thresholds: []))
            note("round \(number): nothing measured: \(message); the next round runs as planned")
            return (.error, false)
        }
    }

    /// Where an ok trial's time to first audio went, as its trace's spans: the parts of
    /// "where the time goes" when the server's record of the trial is there, else the client's
    /// view (request sent, first byte, first audio).
    static func spanParts(_ trial: TrialRecord) -> [(name: String, ms: Double)] {
        if let breakdown = Breakdown(trial: trial, transport: TransportKind(rawValue: trial.transport)) {
            return breakdown.parts.filter { $0.ms > 0 }
        }
        var parts: [(name: String, ms: Double)] = []
        var last = 0.0
        for (name, phase) in [("upload", Phase.upload), ("server", .firstByte), ("first_audio", .firstAudio)] {
            guard let ns = trial.phaseNs(phase) else { continue }
            let ms = Double(ns) / 1e6
            if ms > last {
                parts.append((name, ms - last))
                last = ms
            }
        }
        return parts
    }

    /// The endpoint label of a trial's series: the embedded server's by its path alone (it
    /// listens on a new port every round).
    func endpointLabel(_ trial: TrialRecord) -> String {
        let embedded = TransportKind(rawValue: trial.transport).map { plan.sides[0].urls[$0] == nil } ?? false
        return embedded ? EndpointLabel.embedded(trial.endpoint) : EndpointLabel.of(trial.endpoint)
    }

    /// "round 3 (run 12): websocket p50 352 ms p95 410 ms, 4/4 ok · sse …" on stderr; the run's
    /// JSON summary as one line on stdout with --json.
    private func report(_ number: Int, outcome: RunOutcome, summary: RunSummary) {
        if outcome.interrupted {
            let kept = summary.transports.reduce(summary.warmups) { $0 + $1.trials }
            note(
                "round \(number) (run \(summary.run.id ?? 0)): interrupted; its \(Format.count(kept, "completed trial")) kept"
            )
            return
        }
        if plan.outputs.json {
            print(
                JSONRenderer.value(outcome.report).adding("round", .int(Int64(number))).serialized(), terminator: "\n")
        }
        let parts = summary.transports.map { t in
            let figures = t.ttfa.map { "p50 \(Format.ms($0.p50)) p95 \(Format.ms($0.p95))" } ?? "no ok trial"
            let failures = t.errors.isEmpty ? "" : " (\(Format.kinds(t.errors)))"
            return "\(t.transport) \(figures), \(t.ok)/\(t.trials) ok\(failures)"
        }
        let failed = summary.checks.filter { !$0.passed }.map(\.threshold.expression)
        note(
            "round \(number) (run \(summary.run.id ?? 0)): " + parts.joined(separator: " · ")
                + (failed.isEmpty ? "" : "; threshold failed: \(failed.joined(separator: "; "))"))
    }

    private func note(_ line: String) {
        if !plan.outputs.quiet { Terminal.error("ttfa monitor: \(line)\n") }
    }
}

/// The rounds, as a service of the monitor's group.
private struct Rounds: Service {
    let body: @Sendable () async throws -> Void
    func run() async throws { try await body() }
}

/// A service whose failure is also reported to `onFailure` (the metrics server's bind error).
private struct FailureReporting<Wrapped: Service>: Service {
    let wrapped: Wrapped
    let onFailure: @Sendable (any Error) -> Void

    init(_ wrapped: Wrapped, onFailure: @escaping @Sendable (any Error) -> Void) {
        self.wrapped = wrapped
        self.onFailure = onFailure
    }

    func run() async throws {
        do {
            try await wrapped.run()
        } catch {
            onFailure(error)
            throw error
        }
    }
}

/// Fires once: the metrics server is listening (or could not), so the rounds may start.
private final class ReadySignal: Sendable {
    private let state = LockedBox<
        (result: Result<Void, RunInputError>?, waiters: [CheckedContinuation<Void, any Error>])
    >(
        (nil, []))

    func fire(_ result: Result<Void, RunInputError>) {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, any Error>] in
            guard state.result == nil else { return [] }
            state.result = result
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume(with: result.mapError { $0 as any Error }) }
    }

    /// Why the rounds could not start, if they could not.
    var failure: RunInputError? {
        state.withLock { state in
            if case .failure(let error) = state.result { return error }
            return nil
        }
    }

    func wait() async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            let result = state.withLock { state -> Result<Void, RunInputError>? in
                if state.result == nil { state.waiters.append(continuation) }
                return state.result
            }
            if let result { continuation.resume(with: result.mapError { $0 as any Error }) }
        }
    }
}
