import ArgumentParser
import Foundation
import Monitoring
import Replay
import RunSession
import TTFASupport

/// `ttfa monitor`: synthetic monitoring — the comparison `ttfa run` would make, every `--every`,
/// each round stored as a run, the results served to Prometheus.
struct MonitorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "monitor",
        abstract: "Run the comparison every few minutes, store every round, serve the results to Prometheus.",
        discussion: """
            Each round is a `ttfa run` with the same options (and run file): stored in the results \
            database as a run of its own, its trials, percentiles and thresholds exported on \
            /metrics with --metrics-listen. A round that fails — the endpoint down, trials timing \
            out — is counted (ttfa_rounds_total{result="failed"}, ttfa_endpoint_up 0) and the next \
            still runs. Rounds never overlap: one that outlasts --every is followed at once.

            Examples:
              Every 5 minutes against your endpoints, metrics for Prometheus on port 9464:
                ttfa monitor --every 5m --metrics-listen 127.0.0.1:9464 --config ttfa.yaml
              Six rounds 5 s apart against the embedded server:
                ttfa monitor --every 5s --count 6 --quick --metrics-listen :0

            Exit codes: 0 after --count rounds or when stopped by SIGINT or SIGTERM (the round in \
            flight is stored as interrupted), whatever the rounds measured — failures are metrics; \
            2 bad input or the metrics address cannot be used (nothing was measured); 130 a second \
            signal quit at once.
            """
    )

    @OptionGroup var options: RunOptions

    @OptionGroup(title: "Monitoring") var monitoring: MonitorOptions

    func run() async throws {
        let plan: RunPlan
        let monitor: MonitorPlan
        do {
            let request = try options.request()
            for (flag, given) in [
                ("--markdown", request.outputs.markdown != nil), ("--junit", request.outputs.junit != nil),
                ("--report", request.outputs.html != nil),
            ] where given {
                throw CommandFailure(
                    message:
                        "\(flag) is not for ttfa monitor: each round is a run in the database; write one round's report with `ttfa report RUN_ID`",
                    exitCode: ExitCodes.usage)
            }
            if request.candidate != nil {
                throw CommandFailure(
                    message:
                        "the --candidate-… options compare two configurations once (ttfa run); ttfa monitor measures one configuration, round after round",
                    exitCode: ExitCodes.usage)
            }
            plan = try RunPlan.make(request)
            monitor = try monitoring.plan(seed: options.seed, label: options.label)
        } catch let error as RunInputError {
            throw CommandFailure(message: error.message, exitCode: ExitCodes.usage)
        } catch let error as MonitorInputError {
            throw CommandFailure(message: error.message, exitCode: ExitCodes.usage)
        }
        do {
            let outcome = try await options.database.withStore(create: true) { store in
                try await MonitorSession(plan: plan, monitor: monitor, store: store).run()
            }
            if !options.quiet {
                let counts = TTFAMetricsRoundCounts(outcome.rounds)
                Terminal.error(
                    "ttfa monitor: \(outcome.interrupted ? "stopped" : "done") after \(Format.count(outcome.rounds.count, "round"))\(counts)\n"
                )
            }
        } catch let error as RunInputError {
            throw CommandFailure(message: error.message, exitCode: ExitCodes.usage)
        } catch let error as MonitorInputError {
            throw CommandFailure(message: error.message, exitCode: ExitCodes.usage)
        }
    }
}

/// " (5 complete, 1 failed)".
private func TTFAMetricsRoundCounts(_ rounds: [TTFAMetrics.Round.Result]) -> String {
    let parts = TTFAMetrics.Round.Result.allCases.compactMap { result -> String? in
        let n = rounds.filter { $0 == result }.count
        return n == 0 ? nil : "\(n) \(result.rawValue)"
    }
    return parts.isEmpty ? "" : " (\(parts.joined(separator: ", ")))"
}

/// `ttfa monitor`'s own options.
struct MonitorOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Time from one round's start to the next (30s, 5m, 1h).", valueName: "duration"))
    var every = "5m"

    @Option(help: "Rounds to run, then exit (default: until SIGINT or SIGTERM).")
    var count: Int?

    @Option(
        help: ArgumentHelp(
            "Each round after the first starts later by a random share of --every up to this (0% to 50%), so monitors started together do not probe in step.",
            valueName: "share"))
    var jitter = "10%"

    @Option(
        name: .customLong("metrics-listen"),
        help: ArgumentHelp(
            "Serve the metrics on http://HOST:PORT/metrics for Prometheus (OpenMetrics when asked for). :0 picks a free port (printed on stderr).",
            valueName: "host:port"))
    var metricsListen: String?

    @Option(
        name: .customLong("metrics-buckets"),
        help: ArgumentHelp(
            "Upper bounds of the TTFA histogram's buckets, ascending (default 10ms to 10s, finer from 200ms to 2s).",
            valueName: "durations"))
    var metricsBuckets: String?

    @Option(
        name: .customLong("metrics-recordings"),
        help:
            "Distinct recordings labelled by name in the metrics; later ones are labelled recording=\"other\" (every trial is still stored under its own)."
    )
    var metricsRecordings = TTFAMetrics.defaultRecordingLimit

    @Option(
        name: .customLong("otlp-endpoint"),
        help: ArgumentHelp(
            "Also push the metrics over OTLP/HTTP to this collector (http://127.0.0.1:4318: to /v1/metrics, /v1/traces). Credentials go in OTEL_EXPORTER_OTLP_HEADERS, never on the command line.",
            valueName: "url"))
    var otlpEndpoint: String?

    @Flag(
        name: .customLong("otlp-traces"),
        help: "With --otlp-endpoint: one trace per ok trial, its spans where the time to first audio went.")
    var otlpTraces = false

    @Option(
        name: .customLong("otlp-interval"),
        help: ArgumentHelp("With --otlp-endpoint: how often the metrics are pushed.", valueName: "duration"))
    var otlpInterval = "15s"

    /// The options as a plan.
    /// - Throws: `MonitorInputError` naming the flag and the value.
    func plan(seed: UInt64, label: String?) throws(MonitorInputError) -> MonitorPlan {
        let everyNs: Int64
        do throws(ArrivalSchedule.ScheduleError) {
            everyNs = try ArrivalSchedule.parseDuration(every, flag: "--every")
        } catch {
            throw MonitorInputError(error.description)
        }
        guard everyNs >= 1_000_000_000 else {
            throw MonitorInputError("--every \(every) is shorter than a second; rounds take longer than that")
        }
        if let count, count < 1 {
            throw MonitorInputError(
                "--count \(count): give a number of rounds of 1 or more, or leave it out to run until stopped")
        }
        let share = jitter.hasSuffix("%") ? Double(jitter.dropLast()).map { $0 / 100 } : Double(jitter)
        guard let share, share >= 0, share <= 0.5 else {
            throw MonitorInputError("--jitter \(jitter): give a share of --every from 0% to 50%, e.g. 10%")
        }
        guard metricsRecordings >= 1 else {
            throw MonitorInputError("--metrics-recordings \(metricsRecordings): give 1 or more")
        }
        let listen = try metricsListen.map { (text) throws(MonitorInputError) in
            try MetricsServer.Address(parsing: text)
        }
        var plan = MonitorPlan(
            schedule: MonitorSchedule(everyNs: everyNs, jitter: share, seed: seed), count: count, listen: listen)
        plan.recordingLimit = metricsRecordings
        if let metricsBuckets {
            var bounds: [Double] = []
            for part in metricsBuckets.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) {
                do throws(ArrivalSchedule.ScheduleError) {
                    bounds.append(Double(try ArrivalSchedule.parseDuration(part, flag: "--metrics-buckets")) / 1e9)
                } catch {
                    throw MonitorInputError(error.description)
                }
            }
            guard !bounds.isEmpty, bounds == bounds.sorted(), Set(bounds).count == bounds.count else {
                throw MonitorInputError(
                    "--metrics-buckets \(metricsBuckets): give distinct durations in ascending order, e.g. 100ms,250ms,500ms,1s,2s"
                )
            }
            plan.buckets = bounds
        }
        if let otlpEndpoint {
            let intervalNs: Int64
            do throws(ArrivalSchedule.ScheduleError) {
                intervalNs = try ArrivalSchedule.parseDuration(otlpInterval, flag: "--otlp-interval")
            } catch {
                throw MonitorInputError(error.description)
            }
            var settings = OTLPExport.Settings(
                endpoint: otlpEndpoint, traces: otlpTraces,
                resource: [
                    "host.name": HostFacts.current().hostname, "service.version": TTFAInfo.version,
                    "ttfa.run.label": label ?? "",
                ], buckets: plan.buckets)
            settings.interval = .nanoseconds(intervalNs)
            plan.otlp = settings
        } else if otlpTraces {
            throw MonitorInputError("--otlp-traces needs --otlp-endpoint: where to send the traces")
        }
        return plan
    }
}
