import Foundation
import Logging
import ReferenceServer
import Replay
import Reports
import ServiceLifecycle
import Statistics
import Storage
import TTFASupport
import UnixSignals
import VoiceTransport

/// Runs a plan: the embedded reference servers and the link relays it needs, the run rows, the
/// trials — as services of one `ServiceGroup`, so SIGINT or SIGTERM shuts the run down
/// gracefully (the trials in flight abandoned, completed ones kept, the runs marked
/// interrupted) and everything it started is stopped on every path.
///
/// `run`, `trace`-style and `monitor`-style commands build a plan and hand it here; the
/// command line only parses.
package final class RunSession: Sendable {
    package let plan: RunPlan
    let store: any ResultsStore
    let progressMode: ProgressPrinter.Mode
    /// The run's I/O loops, real-time as the plan asks; every transport gets them.
    let loops: IOLoopGroup
    /// The signals that interrupt the run; none when it runs inside a group that has them (a
    /// monitor's round, interrupted by the monitor's own graceful shutdown).
    let signals: [UnixSignal]
    /// Whether to print the plan's warnings (a monitor prints them for its first round only).
    let warnings: Bool
    private let logger = Logger(label: "ttfa.session")

    /// - Parameter loops: the I/O loops to run on (their threads live as long as the group):
    ///   a monitor's rounds share one group; nil makes one for this run.
    package init(
        plan: RunPlan, store: any ResultsStore, progress: ProgressPrinter.Mode,
        signals: [UnixSignal] = [.sigterm, .sigint], warnings: Bool = true, loops: IOLoopGroup? = nil
    ) {
        self.plan = plan
        self.store = store
        progressMode = plan.outputs.quiet ? .quiet : progress
        self.loops = loops ?? IOLoopGroup(realtime: plan.realtimeIO)
        self.signals = signals
        self.warnings = warnings
    }

    /// Measures the plan and returns what was measured (stored before this returns).
    /// - Throws: `RunInputError` when the embedded server or a link relay cannot start (nothing
    ///   was measured), or the store refuses the run row.
    package func run() async throws -> RunOutcome {
        let servers = try await EmbeddedServers.start(for: plan)
        defer { servers.removeCA() }
        var sides: [SideRun]
        var relays = LinkRelays()
        do {
            sides = try plan.sides.enumerated().map { index, side in
                let server = servers.server(at: index)
                return SideRun(
                    side: side, server: server,
                    settings: try plan.settings(for: side, server: server, embeddedCA: servers.caFile, loops: loops))
            }
            if let link = plan.link {
                let (started, via) = try await LinkRelays.start(
                    link, for: sides.flatMap { $0.settings.map(\.endpoint) },
                    datagrams: plan.kinds.contains(where: \.mediaOverUDP))
                relays = started
                var next = 0
                for side in sides.indices {
                    for index in sides[side].settings.indices {
                        sides[side].settings[index].connectVia = via[next]
                        sides[side].settings[index].mediaLink = started.mediaLink
                        next += 1
                    }
                }
            }
        } catch {
            await servers.stop()
            throw error
        }
        if warnings { warn(servers: servers) }
        let outcome: RunOutcome
        do {
            outcome = try await measure(sides: sides, servers: servers, relays: relays)
        } catch {
            await relays.stop()
            await servers.stop()
            throw error
        }
        return outcome
    }

    /// One side of the run with what it measures.
    struct SideRun: Sendable {
        var side: RunPlan.Side
        var server: RunningReferenceServer?
        var settings: [TransportSettings]
        var runID: Int64 = 0
    }

    /// What the run would quietly get wrong otherwise: models near their shutdown, a dialect
    /// file at a path the embedded server answers itself, certificates not checked.
    func warn(servers: EmbeddedServers) {
        guard !plan.outputs.quiet else { return }
        for kind in plan.kinds where plan.sides[0].urls[kind] != nil {
            let model =
                plan.models[kind]
                ?? (kind.modelQueryParameter != nil ? ModelLifecycle.model(inURL: plan.sides[0].urls[kind]!) : nil)
                ?? (try? TransportSettings(
                    kind: kind, endpoint: Endpoint(plan.sides[0].urls[kind]!, for: kind),
                    dialectFile: plan.dialectFiles[kind]
                ).dialect().model)
            if let model, let warning = ModelLifecycle.warning(for: model, flag: "--model \(kind)=") {
                Terminal.error("ttfa: warning: \(warning)\n")
            }
        }
        for file in Set(plan.dialectFiles.values.map(\.source)).compactMap({ source in
            plan.dialectFiles.values.first { $0.source == source }
        })
        where !file.name.hasPrefix("openai-") && ReferenceServer.builtInPaths.contains(file.path) && servers.running {
            Terminal.error(
                "ttfa: warning: \(file.source): its path \(file.path) is a built-in endpoint of the embedded server, which answers there with the built-in dialect; give the file another path\n"
            )
        }
        if !plan.verifyTLS {
            Terminal.error(
                "ttfa: warning: --insecure: TLS certificates are not verified (stored with the run as verify_tls false); use --cacert FILE to trust a private CA instead\n"
            )
        }
    }

    /// The stored configuration of a side (or of the whole run, for the runner).
    func configuration(_ side: SideRun, transports: [TransportSettings]) -> BenchmarkConfiguration {
        BenchmarkConfiguration(
            transports: transports, recordings: plan.recordings, trials: plan.trials, warmup: plan.warmup,
            chunkMs: plan.chunkMs,
            concurrency: plan.concurrency, timeout: plan.timeoutNs, lagBudget: plan.lagBudgetNs, seed: plan.seed,
            label: side.side.variant.map { "\(plan.label ?? "A/B") (\($0))" } ?? plan.label, context: plan.context,
            maxInvalidShare: plan.maxInvalidShare,
            referenceServer: side.server.map { _ in EmbeddedServers.stored(side.side.profiles) },
            link: plan.link.map { JSONValue(any: $0.jsonObject) }, vad: plan.turnDetection, arrivals: plan.arrivals,
            maxSessions: plan.maxSessions,
            io: .object([
                ("loops", .int(Int64(loops.loopCount))), ("realtime_requested", .bool(loops.realtimeRequested)),
            ]),
            rampUp: plan.rampUpNs)
    }

    private func measure(sides: [SideRun], servers: EmbeddedServers, relays: LinkRelays) async throws -> RunOutcome {
        var sides = sides
        let combined = configuration(sides[0], transports: sides.flatMap(\.settings))
        let facts = HostFacts.current()
        for index in sides.indices {
            let own = configuration(sides[index], transports: sides[index].settings)
            do {
                let databaseVersion = (try? await store.databaseVersion()) ?? "unknown"
                sides[index].runID = try await store.createRun(
                    RunRecord(
                        id: nil, status: .running, startedAt: Timestamp.now(), endedAt: nil, label: own.label,
                        hostname: facts.hostname, os: facts.os, cpuModel: facts.cpuModel, cpuCount: facts.cpuCount,
                        swiftVersion: TTFAInfo.swiftVersion, curlVersion: LibraryVersions.curl,
                        opensslVersion: LibraryVersions.openSSL, databaseVersion: databaseVersion,
                        ttfaVersion: TTFAInfo.version, gitCommit: facts.gitCommit, commandLine: plan.commandLine,
                        configJSON: own.json(redactor: plan.redactor).serialized(), seed: Int64(bitPattern: plan.seed),
                        groupName: plan.group)
                ).id!
            } catch {
                throw RunInputError("\(store.path): cannot store the run (\(error)); pass --db with a writable file")
            }
        }
        let runIDs = sides.map(\.runID)
        let printer = ProgressPrinter(
            mode: progressMode, total: combined.totalTrials, loops: loops,
            perSecond: combined.arrivals != nil || combined.concurrency >= 20)
        printer.note(firstLine(sides: sides, combined: combined))

        let runner = BenchmarkRunner(
            configuration: combined, store: store,
            targets: sides.flatMap { side in
                side.settings.map { _ in BenchmarkRunner.Target(runID: side.runID, serverLog: side.server?.log) }
            })
        let result = LockedBox<String?>(nil)
        let trials = TrialsService(
            body: {
                let ticker = Task {
                    while !Task.isCancelled {
                        try await Task.sleep(for: .seconds(1))
                        printer.redraw()
                    }
                }
                do {
                    _ = try await runner.run(
                        onTrial: { progress in printer.trialFinished(progress) },
                        onSecond: { live, second in printer.second(live, at: second) })
                } catch {
                    result.withLock { $0 = "\(error)" }
                }
                ticker.cancel()
                printer.finish()
            },
            onShutdown: {
                printer.note(
                    "interrupted: stopping after abandoning the trial in flight (press Ctrl-C again to quit at once)")
                runner.interrupt()
            })
        let group = ServiceGroup(
            configuration: .init(
                services: [
                    .init(service: UntilShutdown { await servers.stop() }),
                    .init(service: UntilShutdown { await relays.stop() }),
                    .init(
                        service: trials, successTerminationBehavior: .gracefullyShutdownGroup,
                        failureTerminationBehavior: .gracefullyShutdownGroup),
                ],
                gracefulShutdownSignals: signals, logger: logger))
        try await group.run()

        let storeFailure = result.withLock { $0 }
        let status: RunStatus = runner.wasInterrupted || storeFailure != nil ? .interrupted : .complete
        var marked = true
        for id in runIDs {
            do { try await store.finishRun(id: id, status: status, endedAt: Timestamp.now()) } catch { marked = false }
        }
        if let storeFailure {
            Terminal.error(await Self.storeFailureMessage(storeFailure, store: store, runIDs: runIDs, marked: marked))
        }
        return try await RunOutcome(
            plan: plan, store: store, runIDs: runIDs, interrupted: runner.wasInterrupted,
            storeFailed: storeFailure != nil)
    }

    /// What a run stopped by its store says: why, and what the store kept — counted in the
    /// store when it answers again, else said as what to check.
    static func storeFailureMessage(_ failure: String, store: any ResultsStore, runIDs: [Int64], marked: Bool) async
        -> String
    {
        let runs = runIDs.map { "run \($0)" }.joined(separator: ", ")
        var kept = 0
        var counted = true
        for id in runIDs {
            do { kept += try await store.trials(runID: id).count } catch { counted = false }
        }
        let trials =
            counted
            ? "the \(kept) trial\(kept == 1 ? "" : "s") stored before it \(kept == 1 ? "is" : "are") kept"
            : "the trials stored before it are kept"
        let run = marked ? "\(runs) marked interrupted" : "\(runs) still marked running (the store refused the update)"
        let check = counted && marked ? "" : "; check the store with `ttfa db check` once it is back"
        let what = "\(trials) (\(run))\(check)"
        return "ttfa: could not store a trial in \(store.path): \(failure); the run stops here: \(what)\n"
    }

    /// "ttfa run 1: 36 trials (…) against the embedded reference server (…) through the
    /// broadband link (…), storing in results/ttfa.sqlite; about 4 min".
    func firstLine(sides: [SideRun], combined: BenchmarkConfiguration) -> String {
        let runIDs = sides.map(\.runID)
        let network = plan.link.map { " through the \($0.name) link (\($0.description))" } ?? ""
        let places = sides.map { side -> String in
            let prefix = side.side.variant.map { "\($0) (run \(side.runID)): " } ?? ""
            let embedded = side.server.map { server in
                "the embedded reference server (\(server.baseURL); profiles: "
                    + EndpointProfiles.slots.compactMap { slot in
                        EmbeddedServers.transport(of: slot).map { "\($0) \(side.side.profiles[slot: slot]!.name)" }
                    }.joined(separator: ", ") + ")"
            }
            let own = side.settings.filter { side.side.urls[$0.kind] != nil }.map(\.endpoint.redacted)
            return prefix + ([embedded].compactMap { $0 } + own).joined(separator: " and ")
        }
        let runs =
            runIDs.count == 1
            ? "ttfa run \(runIDs[0])"
            : "ttfa A/B runs \(runIDs.map(String.init).joined(separator: " and ")), trials interleaved"
        let what =
            combined.arrivals.map {
                "\(combined.totalTrials) sessions of one trial (open model: \($0.summary) per transport, at most \(combined.maxSessions) in flight)"
            }
            ?? "\(combined.totalTrials) trials (\(plan.trials) measured + \(plan.warmup) warm-up per transport and recording\(plan.concurrency > 1 ? ", \(plan.concurrency) sessions at once" : ""))"
        return
            "\(runs): \(what) against \(places.joined(separator: "; "))\(network), storing in \(store.path)\(plan.group.map { " (group \($0))" } ?? "")"
            + "; " + expectedLength(combined, sides: sides)
    }

    /// "about 4 min; ttfa --quick gives a first number in under a minute": the run's length from
    /// the profiles' expected answers (an endpoint's own are guessed at 2 s, and it says so).
    func expectedLength(_ configuration: BenchmarkConfiguration, sides: [SideRun]) -> String {
        var guessed = false
        let rtt = plan.link?.rttMs ?? 0
        let seconds = configuration.estimatedSeconds { settings, recording in
            guard let side = sides.first(where: { $0.side.variant == settings.variant }), side.server != nil,
                side.side.urls[settings.kind] == nil,
                let profile = side.side.profiles[slot: settings.kind.profileSlot]
            else {
                guessed = true
                return 2000
            }
            return profile.expectedAnswerMs(audioSeconds: Double(recording.durationNs) / 1e9) + rtt
        }
        let length = seconds < 90 ? "about \(Int(seconds.rounded())) s" : "about \(Int((seconds / 60).rounded())) min"
        var note = length + (guessed ? " (your endpoints' answers guessed at 2 s each)" : "")
        if !plan.quick && seconds > 60 && configuration.arrivals == nil {
            note += "; ttfa --quick gives a first number in under a minute"
        }
        return note
    }
}

/// A service that waits for the group's graceful shutdown, then stops what it stands for.
package struct UntilShutdown: Service {
    let stop: @Sendable () async -> Void

    package init(_ stop: @escaping @Sendable () async -> Void) {
        self.stop = stop
    }

    package func run() async throws {
        try? await gracefulShutdown()
        await stop()
    }
}

/// The trials: measured until done or until the group shuts down (SIGINT, SIGTERM), which
/// abandons the trials in flight. A second signal quits at once, writing nothing more.
struct TrialsService: Service {
    let body: @Sendable () async -> Void
    let onShutdown: @Sendable () -> Void

    func run() async throws {
        await withGracefulShutdownHandler {
            await body()
        } onGracefulShutdown: {
            onShutdown()
            Task {
                for await _ in await UnixSignalsSequence(trapping: .sigint, .sigterm) { exit(130) }
            }
        }
    }
}

/// `url` with the query parameter `name` set to `value` (replaced when present).
enum URLQuery {
    static func setting(_ url: String, _ name: String, to value: String) -> String {
        guard var components = URLComponents(string: url) else { return url }
        var items = (components.queryItems ?? []).filter { $0.name != name }
        items.append(URLQueryItem(name: name, value: value))
        components.queryItems = items
        return components.string ?? url
    }
}
