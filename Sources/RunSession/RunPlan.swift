import Checks
import DialectSpec
import Foundation
import LinkEmulator
import ReferenceServer
import Replay
import SpeechDetection
import Statistics
import TTFASupport
import VoiceTransport

/// A run, checked and loaded: every file read, every URL parsed, every flag's value in range —
/// so nothing is measured or stored unless all of it holds. `RunSession` runs one.
///
/// ```swift
/// var request = RunRequest()
/// request.transports = [.websocket, .sse]
/// request.audio = ["short.wav"]
/// let plan = try RunPlan.make(request)        // RunInputError: a message naming the flag or file
/// let outcome = try await RunSession(plan: plan, store: store, progress: printer).run()
/// ```
package struct RunPlan: Sendable {
    /// One configuration to measure: the run itself, or one side of a same-job A/B comparison.
    package struct Side: Sendable {
        /// "baseline" or "candidate" in an A/B comparison; nil otherwise.
        package var variant: String?
        /// Endpoints given by URL; the other transports go to the embedded reference server.
        package var urls: [TransportKind: String]
        package var profiles: EndpointProfiles
    }

    package var kinds: [TransportKind]
    package var sides: [Side]
    package var recordings: [Recording]
    /// Per transport: its request headers (ttfa's User-Agent unless one is given), dialect file,
    /// model and voice.
    package var headers: [TransportKind: [(name: String, value: String)]]
    package var dialectFiles: [TransportKind: DialectFile]
    package var models: [TransportKind: String]
    package var voices: [TransportKind: String]
    package var link: LinkSpec?
    package var thresholds: [Threshold]
    package var tolerance: Tolerance
    package var metricTolerances: [(pattern: String, tolerance: Tolerance)]
    package var trials: Int
    package var warmup: Int
    package var chunkMs: Int
    package var connection: ConnectionMode
    package var concurrency: Int
    package var rampUpNs: Int64?
    package var arrivals: ArrivalSchedule?
    package var maxSessions: Int
    package var realtimeIO: Bool
    package var group: String?
    package var timeoutNs: Int64
    package var lagBudgetNs: Int64
    package var maxInvalidShare: Double
    package var context: ContextMode
    package var turnDetection: EnergyVAD.Parameters?
    package var webRTC = WebRTCSettings()
    package var seed: UInt64
    package var label: String?
    package var database: String
    package var verifyTLS: Bool
    package var caFile: String?
    package var plain: Bool
    package var quick: Bool
    /// Every secret the run was given (header values, URL credentials), to mask wherever text leaves.
    package var redactor: SecretRedactor
    /// The command line as stored: secrets masked.
    package var commandLine: String
    package var outputs: RunOutputs

    /// Whether some transport of some side is answered by the embedded reference server.
    package var usesEmbeddedServer: Bool { sides.contains { side in kinds.contains { side.urls[$0] == nil } } }

    /// Checks and loads `request`.
    /// - Throws: `RunInputError` naming the flag, file or URL, what was wrong, and what to do.
    package static func make(_ request: RunRequest) throws(RunInputError) -> RunPlan {
        try RunPlanner(request).plan()
    }
}

/// Input that cannot make a run: nothing was measured (exit 2).
package struct RunInputError: Error, Sendable, CustomStringConvertible {
    package var message: String
    package init(_ message: String) { self.message = message }
    package var description: String { message }
}

/// Turns a request into a plan, check by check.
struct RunPlanner {
    var request: RunRequest

    init(_ request: RunRequest) {
        self.request = request
    }

    func plan() throws(RunInputError) -> RunPlan {
        let r = request
        try checkRanges()
        let arrivals: ArrivalSchedule?
        let rampUpNs: Int64?
        do throws(ArrivalSchedule.ScheduleError) {
            arrivals = try ArrivalSchedule.from(rate: r.rate, duration: r.duration, stages: r.stages)
            rampUpNs = try r.rampUp.map { (text) throws(ArrivalSchedule.ScheduleError) in
                try ArrivalSchedule.parseDuration(text, flag: "--ramp-up")
            }
        } catch {
            throw RunInputError(error.description)
        }
        if arrivals != nil, r.concurrency != 1 {
            throw RunInputError(
                "--concurrency (the closed model) and --rate/--stages (the open model) exclude each other; give one")
        }
        if r.rampUp != nil, r.rate != nil || r.stages != nil {
            throw RunInputError(
                "--ramp-up spreads the start of the closed model's --concurrency sessions; with --rate/--stages the arrival schedule says when sessions start (ramp the rate with --stages)"
            )
        }
        guard let maxInvalidShare = Self.share(r.maxInvalid), (0...1).contains(maxInvalidShare) else {
            throw RunInputError("--max-invalid \(r.maxInvalid) is not a share between 0% and 100% (write 10% or 0.1)")
        }
        if let caFile = r.caFile, !FileManager.default.isReadableFile(atPath: caFile) {
            throw RunInputError("--cacert \(caFile): no readable file there; give a PEM file of CA certificates")
        }
        let kinds = try transports()
        if !r.urls.isEmpty && r.plain {
            throw RunInputError(
                "--plain applies to the embedded reference server only; the scheme of your URLs decides TLS")
        }
        if !r.urls.isEmpty && !r.profiles.isEmpty {
            throw RunInputError(
                "--profile applies to the embedded reference server only; drop it or drop the endpoint URLs")
        }

        // Files and values, each checked whole before anything starts.
        let dialectFiles = try dialects(kinds)
        if r.turnDetection != nil,
            let kind = kinds.first(where: { $0.serverDetectsEndOfSpeech && dialectFiles[$0] != nil })
        {
            throw RunInputError(
                "--turn vad asks the built-in \(kind) dialect for the server's own turn detection; a dialect file says its own set-up (leave its end_of_speech empty when the server finds the end itself)"
            )
        }
        let profiles = try Self.profiles(r.profiles, base: EndpointProfiles(), kinds: kinds)
        var sides = [RunPlan.Side(variant: r.candidate == nil ? nil : "baseline", urls: r.urls, profiles: profiles)]
        if let candidate = r.candidate {
            sides.append(try candidateSide(candidate, baseline: sides[0], kinds: kinds))
        }
        let thresholds: [Threshold]
        let tolerance: Tolerance
        var metricTolerances: [(pattern: String, tolerance: Tolerance)] = []
        do throws(CheckError) {
            var loaded = try r.thresholdsFile.map { (path) throws(CheckError) in try Threshold.load(file: path) } ?? []
            for text in r.thresholds { loaded.append(try Threshold(text)) }
            thresholds = loaded
            tolerance = try Tolerance(parsing: r.tolerance)
            for item in r.metricTolerances {
                guard let equals = item.firstIndex(of: "=") else {
                    throw CheckError(
                        "--metric-tolerance \(item): write METRIC=TOLERANCE, e.g. websocket.ttfa.p95=15%,30ms")
                }
                metricTolerances.append(
                    (
                        String(item[..<equals]).trimmingCharacters(in: .whitespaces),
                        try Tolerance(parsing: String(item[item.index(after: equals)...]))
                    ))
            }
        } catch {
            throw RunInputError(error.message)
        }
        let link: LinkSpec?
        do throws(LinkSpec.ParseError) {
            // The seed scenario plays a broadband link in front of the embedded server; your own
            // endpoints get the network they are on, unless --link says otherwise. The link
            // carries the TCP connections and, through datagram relays, a WebRTC call's media.
            link =
                try r.link.map { (text) throws(LinkSpec.ParseError) in try LinkSpec(parsing: text) }
                ?? (r.urls.isEmpty ? .broadband : nil)
        } catch {
            throw RunInputError(error.message)
        }

        var redactor = SecretRedactor()
        var headers: [TransportKind: [(name: String, value: String)]] = [:]
        let recordings: [Recording]
        do throws(TransportError) {
            for kind in kinds {
                var own: [(name: String, value: String)] = []
                for header in r.headers.values(for: kind) {
                    let parsed = try HeaderParser.parse(header.value, flag: header.flag)
                    redactor.add(parsed.value)
                    own.append(parsed)
                }
                if !own.contains(where: { $0.name.lowercased() == "user-agent" }) { own.insert(Self.userAgent, at: 0) }
                headers[kind] = own
            }
            for file in dialectFiles.values where file.transport == .sse {
                for value in (try? FileSSEDialect(file, values: FileDialectValues()))?.headerValues ?? [] {
                    redactor.add(value)
                }
            }
            for side in sides { for url in side.urls.values { redactor.addCredentials(fromURL: url) } }
            redactor.addCredentials(fromURL: r.database)
            if let turn = r.webRTC.turn { redactor.addCredentials(fromURL: turn) }
            if case .url(let url) = r.webRTC.secret { redactor.addCredentials(fromURL: url) }
            recordings =
                try r.audio.isEmpty
                ? BundledRecordings.load()
                : r.audio.map { (path) throws(TransportError) in try BundledRecordings.recording(path) }
            // URLs are checked before anything starts.
            for side in sides {
                for (kind, url) in side.urls { _ = try Endpoint(url, for: kind, flag: "--url \(kind)=") }
            }
        } catch {
            throw RunInputError(error.message)
        }
        do throws(CheckError) {
            for threshold in thresholds {
                try threshold.validate(transports: kinds.map(\.rawValue), recordings: recordings.map(\.name))
            }
        } catch {
            throw RunInputError(error.message)
        }
        var models: [TransportKind: String] = [:]
        var voices: [TransportKind: String] = [:]
        for kind in kinds {
            models[kind] = r.models.value(for: kind)?.value
            voices[kind] = r.voices.value(for: kind)?.value
        }
        // Every dialect can be made with these values (a file's template may need one).
        for kind in kinds {
            let settings = TransportSettings(
                kind: kind, endpoint: try placeholderEndpoint(kind), dialectFile: dialectFiles[kind],
                model: models[kind], voice: voices[kind], turnDetection: r.turnDetection)
            do throws(TransportError) { _ = try settings.dialect() } catch { throw RunInputError(error.message) }
        }
        let sessions =
            arrivals.map { min(r.maxSessions, max(1, $0.arrivals().count)) }
            ?? min(r.concurrency, max(1, r.trials + r.warmup) * recordings.count * sides.count * kinds.count)
        let need = LoadCapacity.need(
            sessions: sessions, transports: kinds.count * sides.count,
            embeddedServer: kinds.contains { r.urls[$0] == nil }, linkEmulator: link != nil)
        do throws(TransportError) {
            try LoadCapacity.check(
                need,
                what: arrivals == nil
                    ? "--concurrency \(r.concurrency)"
                    : "--max-sessions \(r.maxSessions) (the open model's most sessions in flight)")
        } catch {
            throw RunInputError(error.message)
        }
        var plan = RunPlan(
            kinds: kinds, sides: sides, recordings: recordings, headers: headers, dialectFiles: dialectFiles,
            models: models, voices: voices,
            link: link, thresholds: thresholds, tolerance: tolerance, metricTolerances: metricTolerances,
            trials: r.trials, warmup: r.warmup,
            chunkMs: r.chunkMs, connection: r.connection, concurrency: r.concurrency, rampUpNs: rampUpNs,
            arrivals: arrivals,
            maxSessions: r.maxSessions, realtimeIO: r.realtimeIO, group: r.group,
            timeoutNs: Int64(r.timeoutSeconds * 1e9),
            lagBudgetNs: Int64(r.lagBudgetMs * 1e6), maxInvalidShare: maxInvalidShare, context: r.context,
            turnDetection: r.turnDetection,
            seed: r.seed, label: r.label, database: r.database, verifyTLS: !r.insecure, caFile: r.caFile,
            plain: r.plain, quick: r.quick,
            redactor: redactor, commandLine: CommandLineRedaction.redacted(r.commandLine, redactor: redactor),
            outputs: r.outputs)
        plan.webRTC = r.webRTC
        return plan
    }

    static let userAgent = (name: "User-Agent", value: "ttfa/\(TTFAInfo.version)")

    /// The numbers every run needs in range.
    func checkRanges() throws(RunInputError) {
        let r = request
        guard r.trials >= 1 else { throw RunInputError("--trials must be at least 1, got \(r.trials)") }
        guard r.trials <= 100_000 else { throw RunInputError("--trials \(r.trials) is more than 100000") }
        guard r.warmup >= 0 else { throw RunInputError("--warmup cannot be negative, got \(r.warmup)") }
        guard (10...1000).contains(r.chunkMs) else {
            throw RunInputError("--chunk-ms must be between 10 and 1000, got \(r.chunkMs)")
        }
        guard (1...10_000).contains(r.concurrency) else {
            throw RunInputError("--concurrency must be between 1 and 10000, got \(r.concurrency)")
        }
        guard (1...10_000).contains(r.maxSessions) else {
            throw RunInputError("--max-sessions must be between 1 and 10000, got \(r.maxSessions)")
        }
        if let group = r.group {
            guard !group.isEmpty, group.count <= 100, !group.contains(where: { $0.isNewline }) else {
                throw RunInputError("--group \"\(group)\" must be a name of 1 to 100 characters on one line")
            }
        }
        guard r.timeoutSeconds > 0, r.timeoutSeconds <= 3600 else {
            throw RunInputError("--timeout must be between 0 and 3600 seconds, got \(r.timeoutSeconds)")
        }
        guard r.lagBudgetMs > 0 else { throw RunInputError("--lag-budget-ms must be positive, got \(r.lagBudgetMs)") }
    }

    /// The transports to measure. Against your own endpoints, `all` means the main transports
    /// plus the variants whose URL was given, and every one needs its URL.
    func transports() throws(RunInputError) -> [TransportKind] {
        let r = request
        let all = TransportKind.all
        let kinds: [TransportKind]
        if let chosen = r.transports {
            kinds = all.filter(chosen.contains)
        } else if r.urls.isEmpty {
            kinds = all.filter(\.measuredByDefault)
        } else {
            kinds = all.filter { !$0.isVariant || r.urls[$0] != nil }
        }
        guard !r.urls.isEmpty else { return kinds }
        let missing = kinds.filter { r.urls[$0] == nil }
        if r.transports == nil && !missing.isEmpty {
            throw RunInputError(
                "--transport all needs \(all.filter { !$0.isVariant }.map(\.urlOption).joined(separator: " and ")) (or none of them, to use the embedded reference server); to measure only what you gave, add --transport \(all.filter { r.urls[$0] != nil }.map(\.rawValue).joined(separator: ","))"
            )
        }
        if let first = missing.first {
            throw RunInputError(
                "--transport \(first.rawValue) needs \(first.urlOption) when another endpoint URL is given")
        }
        for kind in r.urls.keys where !kinds.contains(kind) {
            throw RunInputError(
                "\(kind.urlOption) is given but the run does not measure \(kind.rawValue); add it to --transport or drop the URL"
            )
        }
        return kinds
    }

    /// Per transport, the dialect file it speaks, if one is given (loaded and checked).
    func dialects(_ kinds: [TransportKind]) throws(RunInputError) -> [TransportKind: DialectFile] {
        var files: [TransportKind: DialectFile] = [:]
        var loaded: [String: DialectFile] = [:]
        for given in request.dialects {
            let targets = TransportKind.all.filter { given.applies(to: $0) && $0.dialectFamily != nil }
            if case .transport(let kind) = given.scope, kind.dialectFamily == nil {
                throw RunInputError("\(given.flag) \(given.value): \(kind) speaks no dialect files")
            }
            let file: DialectFile
            if let known = loaded[given.value] {
                file = known
            } else {
                do throws(TransportError) {
                    file = try DialectCatalog.load(given.value, flag: given.flag)
                } catch {
                    throw RunInputError(error.message)
                }
            }
            loaded[given.value] = file
            let matching = targets.filter { $0.dialectFamily == file.transport }
            guard !matching.isEmpty else {
                let takers = TransportKind.all.filter { $0.dialectFamily == file.transport }
                let flags =
                    Set(takers.map { "--\($0.optionGroup)-dialect" }).sorted() + takers.map { "--dialect \($0)=FILE" }
                throw RunInputError(
                    "\(given.flag) \(file.source): dialect \"\(file.name)\" is \(Self.article(file.transport.rawValue)) \(file.transport.rawValue) dialect; give it to "
                        + (flags.isEmpty ? "no transport of this build" : flags.joined(separator: " or ")))
            }
            for kind in matching { files[kind] = file }
        }
        return files.filter { kinds.contains($0.key) }
    }

    /// The profiles of the embedded server: presets or files, for every endpoint, a group's or
    /// a transport's slot.
    static func profiles(_ given: [Scoped<String>], base: EndpointProfiles, kinds: [TransportKind])
        throws(RunInputError) -> EndpointProfiles
    {
        var profiles = base
        do throws(ProfileError) {
            for item in given where item.scope == .all {
                profiles = EndpointProfiles(all: try DeploymentProfile.load(item.value))
            }
            for item in given where item.scope != .all {
                let slots = Set(TransportKind.all.filter { item.applies(to: $0) }.map(\.profileSlot))
                guard !slots.isEmpty else {
                    throw ProfileError("\(item.flag) \(item.value): no transport of this run has a profile there")
                }
                let profile = try DeploymentProfile.load(item.value)
                for slot in slots { profiles[slot: slot] = profile }
            }
        } catch {
            throw RunInputError(error.message)
        }
        return profiles
    }

    /// The candidate of a same-job A/B comparison: other profiles for the embedded server, or
    /// other endpoints; what it does not change stays the baseline's.
    func candidateSide(_ candidate: RunRequest.Candidate, baseline: RunPlan.Side, kinds: [TransportKind])
        throws(RunInputError) -> RunPlan.Side
    {
        if !candidate.profiles.isEmpty && kinds.allSatisfy({ baseline.urls[$0] != nil || candidate.urls[$0] != nil }) {
            throw RunInputError(
                "--candidate-profile changes the embedded reference server, which this run does not use (every endpoint is a URL); give --candidate-url KIND=URL instead"
            )
        }
        for kind in candidate.urls.keys where !kinds.contains(kind) {
            throw RunInputError(
                "--candidate-url \(kind)= is given but the run does not measure \(kind.rawValue); add it to --transport or drop the flag"
            )
        }
        let profiles = try Self.profiles(candidate.profiles, base: baseline.profiles, kinds: kinds)
        return RunPlan.Side(
            variant: "candidate", urls: baseline.urls.merging(candidate.urls) { $1 }, profiles: profiles)
    }

    /// An endpoint to check a dialect against before the real one is known.
    func placeholderEndpoint(_ kind: TransportKind) throws(RunInputError) -> Endpoint {
        do throws(TransportError) {
            return try Endpoint(kind.referenceURL(host: "127.0.0.1", port: 1, tls: false), for: kind)
        } catch {
            throw RunInputError(error.message)
        }
    }

    /// "10%" or "0.1" as a share 0…1 (a number over 1 is taken as percent).
    static func share(_ text: String) -> Double? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if trimmed.hasSuffix("%") { return Double(trimmed.dropLast()).map { $0 / 100 } }
        guard let value = Double(trimmed) else { return nil }
        return value > 1 ? value / 100 : value
    }
}

extension RunPlanner {
    /// "an sse", "a websocket": acronyms spelled out letter by letter take "an" before a letter
    /// named with a vowel sound.
    static func article(_ word: String) -> String {
        guard let first = word.first else { return "a" }
        if "aeiou".contains(first) { return "an" }
        return word.count <= 4 && "fhlmnrsx".contains(first) ? "an" : "a"
    }
}
