import ArgumentParser
import Checks
import Foundation
import LinkEmulator
import ReferenceServer
import RunSession
import SpeechDetection
import Statistics
import Storage
import TTFASupport
import VoiceTransport

/// `--db`, shared by every command that reads or writes results.
struct DatabaseOptions: ParsableArguments {
    @Option(
        name: .customLong("db"),
        help:
            "Results database: a SQLite file, or postgresql://USER:PASSWORD@HOST:PORT/DB (?sslmode=disable|prefer|require) for a store a team shares. Default: $TTFA_DATABASE_URL, else results/ttfa.sqlite."
    )
    var path: String?

    /// --db, else TTFA_DATABASE_URL, else the SQLite default.
    var location: String {
        path ?? ProcessInfo.processInfo.environment["TTFA_DATABASE_URL"].flatMap { $0.isEmpty ? nil : $0 }
            ?? ResultsStores.defaultPath
    }

    /// Opens the database for `body` (a missing file is an input error for read-only
    /// commands) and lets go of it after.
    func withStore<T>(create: Bool, _ body: (any ResultsStore) async throws -> T) async throws -> T {
        try await ResultsStores.withStore(location, create: create, body)
    }
}

/// Selects a stored run: `--run ID` or `--run latest` (the default).
struct RunSelection: ParsableArguments {
    @Option(name: .customLong("run"), help: "Run id, or \"latest\".")
    var run = "latest"

    func resolve(in store: any ResultsStore) async throws -> RunRecord {
        try await Self.resolve(run, in: store)
    }

    static func resolve(_ selector: String, in store: any ResultsStore) async throws -> RunRecord {
        let found: RunRecord?
        if selector == "latest" {
            found = try await store.latestRun()
            if found == nil {
                throw CommandFailure(
                    message: "\(store.path) holds no runs yet; measure with `ttfa run` first", exitCode: ExitCodes.usage
                )
            }
        } else if let id = Int64(selector) {
            found = try await store.run(id: id)
        } else {
            throw CommandFailure(
                message: "--run \(selector) is not a run id; give a number from `ttfa runs` or \"latest\"",
                exitCode: ExitCodes.usage)
        }
        guard let run = found else {
            let ids = try await store.runs().compactMap(\.id)
            let known = ids.isEmpty ? "it holds no runs" : "it holds runs \(ids.first!)–\(ids.last!)"
            throw CommandFailure(
                message: "run \(selector) is not in \(store.path) (\(known)); see `ttfa runs`",
                exitCode: ExitCodes.usage)
        }
        return run
    }
}

/// `--profile`, `--ws-profile`, `--sse-profile`: the deployment the reference server plays.
struct ProfileOptions: ParsableArguments {
    @Option(
        help:
            "Deployment profile for every endpoint of the reference server: a preset (\(DeploymentProfile.presets.map(\.name).joined(separator: ", "))) or a JSON/YAML profile file. Default: realtime behind the WebSocket, edge-sse behind SSE."
    )
    var profile: String?

    @Option(
        name: .customLong("ws-profile"), help: "Deployment profile of the WebSocket endpoint only (preset or file).")
    var wsProfile: String?

    @Option(name: .customLong("sse-profile"), help: "Deployment profile of the SSE endpoints only (preset or file).")
    var sseProfile: String?

    var isDefault: Bool { profile == nil && wsProfile == nil && sseProfile == nil }

    /// The profiles, each loaded (a preset, or a file — checked whole before anything starts).
    func load() throws -> EndpointProfiles {
        do throws(ProfileError) {
            var profiles = EndpointProfiles()
            if let profile { profiles = EndpointProfiles(all: try DeploymentProfile.load(profile)) }
            if let wsProfile { profiles.realtime = try DeploymentProfile.load(wsProfile) }
            if let sseProfile { profiles.chatCompletions = try DeploymentProfile.load(sseProfile) }
            return profiles
        } catch {
            throw CommandFailure(message: error.message, exitCode: ExitCodes.usage)
        }
    }
}

/// `--link`: the network the run plays between ttfa and its endpoints.
struct LinkOptions: ParsableArguments {
    @Option(
        help:
            "Put an emulated network between ttfa and the endpoints: a preset (\(LinkSpec.presets.map(\.name).joined(separator: ", "))) or a spec like rtt=80ms,jitter=10ms,down=20mbit,up=5mbit (also loss=2%, stall=1%:200ms, buffer=4k, flush=500ms; a preset first to change it: 4g,loss=1%). It carries the TCP connections and a WebRTC call's UDP media (a lost datagram is dropped, a lost TCP packet retransmitted). Default: broadband in front of the embedded reference server (and for ttfa link); nothing in front of a URL you give."
    )
    var link: String?

    func spec() throws -> LinkSpec? {
        guard let link else { return nil }
        do throws(LinkSpec.ParseError) {
            return try LinkSpec(parsing: link)
        } catch {
            throw CommandFailure(message: error.message, exitCode: ExitCodes.usage)
        }
    }
}

/// Who ends a turn: the end of the recording (manual, push-to-talk) or voice activity detection.
enum TurnMode: String, ExpressibleByArgument, CaseIterable {
    case manual, vad
}

/// `--turn` and its detector's settings.
struct TurnOptions: ParsableArguments {
    @Option(
        help:
            "manual: the turn ends with the recording (push-to-talk: commit, or upload, at its end); vad: voice activity detection — the WebSocket server's server_vad, and the SSE client's own detector with the same settings — ends it, and TTFA is measured from the recording's annotated end of speech."
    )
    var turn: TurnMode = .manual

    @Option(name: .customLong("vad-threshold"), help: "Detector threshold, 0 to 1 (higher needs louder speech).")
    var vadThreshold = EnergyVAD.Parameters().threshold

    @Option(name: .customLong("vad-silence-ms"), help: "Silence after speech that ends the turn, milliseconds.")
    var vadSilenceMs = EnergyVAD.Parameters().silenceDurationMs

    @Option(
        name: .customLong("vad-prefix-ms"), help: "Audio kept before detected speech (server_vad's prefix_padding_ms).")
    var vadPrefixMs = EnergyVAD.Parameters().prefixPaddingMs

    func validate() throws {
        guard (0...1).contains(vadThreshold) else {
            throw ValidationError("--vad-threshold must be between 0 and 1, got \(vadThreshold)")
        }
        guard (20...10_000).contains(vadSilenceMs) else {
            throw ValidationError("--vad-silence-ms must be between 20 and 10000, got \(vadSilenceMs)")
        }
        guard (0...10_000).contains(vadPrefixMs) else {
            throw ValidationError("--vad-prefix-ms must be between 0 and 10000, got \(vadPrefixMs)")
        }
    }

    /// The detector's settings, nil for manual turns.
    var parameters: EnergyVAD.Parameters? {
        turn == .vad
            ? EnergyVAD.Parameters(
                threshold: vadThreshold, prefixPaddingMs: vadPrefixMs, silenceDurationMs: vadSilenceMs) : nil
    }
}

/// `--threshold` / `--thresholds`: pass/fail conditions on a run's figures (exit 1 when one fails).
struct ThresholdOptions: ParsableArguments {
    @Option(
        name: .customLong("threshold"),
        help: ArgumentHelp(
            "A condition on the run, e.g. 'websocket.ttfa.p95 < 700ms', 'sse.failed < 5%', 'websocket.underruns == 0', 'sse[long.wav].ttfa.p50 < 2.5s' (repeatable). When one fails: exit 1.",
            valueName: "expression"))
    var expressions: [String] = []

    @Option(
        name: .customLong("thresholds"),
        help: ArgumentHelp(
            "YAML or JSON file with a list of threshold expressions (or thresholds: [...]).", valueName: "file"))
    var file: String?

    /// The thresholds, parsed; a bad one is a usage error naming what is valid.
    func load() throws -> [Threshold] {
        do throws(CheckError) {
            var out = try file.map { (path) throws(CheckError) in try Threshold.load(file: path) } ?? []
            for text in expressions { out.append(try Threshold(text)) }
            return out
        } catch {
            throw CommandFailure(message: error.message, exitCode: ExitCodes.usage)
        }
    }

    /// Checks the thresholds name transports and recordings the run has.
    static func validate(_ thresholds: [Threshold], transports: [String], recordings: [String]) throws {
        do throws(CheckError) {
            for threshold in thresholds { try threshold.validate(transports: transports, recordings: recordings) }
        } catch {
            throw CommandFailure(message: error.message, exitCode: ExitCodes.usage)
        }
    }
}

/// `--candidate-…`: a same-job A/B comparison. The run's own flags describe the baseline; these
/// change what the candidate measures (other profiles for the embedded server, or other
/// endpoints). Both are measured in one job with their trials interleaved, stored as two runs,
/// and compared as `ttfa compare` would.
struct CandidateOptions: ParsableArguments {
    @Option(
        name: .customLong("candidate-profile"),
        help: ArgumentHelp(
            "The candidate's deployment profile of the embedded server: for every endpoint, or KIND=PROFILE (repeatable).",
            valueName: "[kind=]profile"))
    var profiles: [String] = []

    @Option(
        name: .customLong("candidate-url"),
        help: ArgumentHelp(
            "The candidate's endpoint, KIND=URL (e.g. the new build of your proxy; repeatable).", valueName: "kind=url")
    )
    var urls: [String] = []

    @Option(
        name: .customLong("candidate-ws-profile"),
        help: ArgumentHelp("Alias of --candidate-profile websocket=PROFILE.", visibility: .hidden)) var wsProfile:
        String?
    @Option(
        name: .customLong("candidate-sse-profile"),
        help: ArgumentHelp("The candidate's SSE profile.", visibility: .hidden)) var sseProfile: String?
    @Option(
        name: .customLong("candidate-ws-url"),
        help: ArgumentHelp("Alias of --candidate-url websocket=URL.", visibility: .hidden)) var wsURL: String?
    @Option(
        name: .customLong("candidate-sse-url"),
        help: ArgumentHelp("Alias of --candidate-url sse=URL.", visibility: .hidden)) var sseURL: String?
    @Option(
        name: .customLong("candidate-sse-stream-url"),
        help: ArgumentHelp("Alias of --candidate-url sse-stream=URL.", visibility: .hidden)) var sseStreamURL: String?

    @Option(
        help: ArgumentHelp(
            "A/B: allowed change before a metric counts, e.g. 10%,20ms (as ttfa compare).", valueName: "tolerance"))
    var tolerance = "10%,20ms"

    @Option(
        name: .customLong("metric-tolerance"),
        help: ArgumentHelp(
            "A/B: tolerance of one metric, METRIC=TOLERANCE (repeatable).", valueName: "metric=tolerance"))
    var metricTolerances: [String] = []

    /// The candidate, or nil without any `--candidate-…` option.
    func request() throws -> RunRequest.Candidate? {
        var candidate = RunRequest.Candidate()
        for item in urls {
            let (kind, url) = try TransportArgument.pair(item, flag: "--candidate-url")
            candidate.urls[kind] = url
        }
        for (prefix, url) in [("ws", wsURL), ("sse", sseURL), ("sse-stream", sseStreamURL)] {
            guard let url, let kind = TransportKind.all.first(where: { $0.legacyOptionPrefix == prefix }) else {
                continue
            }
            candidate.urls[kind] = url
        }
        candidate.profiles = try EndpointOptions.profiles(
            profiles, ws: wsProfile, sse: sseProfile, prefix: "candidate-")
        return candidate.urls.isEmpty && candidate.profiles.isEmpty ? nil : candidate
    }
}
