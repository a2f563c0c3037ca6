import Foundation
import Replay
import SpeechDetection
import VoiceTransport

/// What a user asks of a run, as given — the command line's flags or a run file's keys, as
/// plain values — before anything is loaded or checked. `RunPlan.make(_:)` turns it into a plan.
///
/// Per-transport values are keyed by transport; `ByTransport` also keeps an "every transport"
/// value and the option group's values (`--sse-header` reaches `sse` and `sse-stream`), so the
/// old per-family flags and the generic `KIND=…` ones mean the same thing.
public struct RunRequest: Sendable {
    /// Transports to measure; nil: all (against your own endpoints, the main ones plus the
    /// variants whose URL is given).
    public var transports: [TransportKind]?
    public var urls: [TransportKind: String] = [:]
    /// Request headers `Name: value`, each for every transport, one option group or one transport.
    public var headers: [Scoped<String>] = []
    /// Dialect files (paths, or a shipped dialect's name).
    public var dialects: [Scoped<String>] = []
    /// Deployment profiles of the embedded reference server (presets or files).
    public var profiles: [Scoped<String>] = []
    /// The model and voice to ask for.
    public var models: [Scoped<String>] = []
    public var voices: [Scoped<String>] = []
    /// A same-job A/B comparison: the candidate's endpoints and profiles (nil: none).
    public var candidate: Candidate?

    public var audio: [String] = []
    public var trials = 3
    public var warmup = 1
    public var chunkMs = 50
    public var connection: ConnectionMode = .warm
    public var concurrency = 1
    public var rampUp: String?
    public var rate: String?
    public var duration: String?
    public var stages: String?
    public var maxSessions = 5_000
    public var realtimeIO = true
    public var group: String?
    public var timeoutSeconds: Double = 30
    public var lagBudgetMs: Double = 5
    public var maxInvalid = "10%"
    public var context: ContextMode = .reset
    public var database: String = ResultsStoreLocation.defaultLocation
    public var label: String?
    public var link: String?
    public var thresholds: [String] = []
    public var thresholdsFile: String?
    public var tolerance = "10%,20ms"
    public var metricTolerances: [String] = []
    public var turnDetection: EnergyVAD.Parameters?
    public var seed: UInt64 = 1
    /// Do not verify TLS certificates.
    public var insecure = false
    /// Trust these CA certificates (PEM).
    public var caFile: String?
    /// The embedded server without TLS (plain `ws://` and `http://`).
    public var plain = false
    /// `--quick`: said in the first line's estimate.
    public var quick = false
    /// The command line as given, stored with the run (secrets masked first).
    public var commandLine: [String] = CommandLine.arguments
    public var outputs = RunOutputs()

    public struct Candidate: Sendable {
        public var urls: [TransportKind: String] = [:]
        public var profiles: [Scoped<String>] = []
        public init() {}
    }

    public init() {}
}

/// A value given for every transport, for one option group (`ws`, `sse`), or for one transport,
/// with the option it came from (named in messages).
public struct Scoped<Value: Sendable>: Sendable {
    public enum Scope: Sendable, Equatable {
        case all
        case group(String)
        case transport(TransportKind)
    }

    public var scope: Scope
    public var value: Value
    public var flag: String

    public init(_ scope: Scope, _ value: Value, flag: String) {
        self.scope = scope
        self.value = value
        self.flag = flag
    }

    /// Whether it applies to `kind`.
    public func applies(to kind: TransportKind) -> Bool {
        switch scope {
        case .all: true
        case .group(let group): kind.optionGroup == group
        case .transport(let transport): transport == kind
        }
    }
}

extension Array {
    /// The values that apply to `kind`, the most specific last (every transport, its group, itself).
    public func values<V>(for kind: TransportKind) -> [Scoped<V>] where Element == Scoped<V> {
        func rank(_ scope: Scoped<V>.Scope) -> Int {
            switch scope {
            case .all: 0
            case .group: 1
            case .transport: 2
            }
        }
        return filter { $0.applies(to: kind) }.enumerated().sorted {
            (rank($0.element.scope), $0.offset) < (rank($1.element.scope), $1.offset)
        }
        .map(\.element)
    }

    /// The most specific value that applies to `kind`.
    public func value<V>(for kind: TransportKind) -> Scoped<V>? where Element == Scoped<V> {
        values(for: kind).last
    }
}

/// What a run writes besides the database: stdout (the table, or one JSON object), and files.
public struct RunOutputs: Sendable {
    public var json = false
    public var quiet = false
    public var markdown: String?
    public var junit: String?
    public var html: String?
    public init() {}
}

/// Where results go unless `--db` says otherwise.
public enum ResultsStoreLocation {
    /// `TTFA_DATABASE_URL`, else the SQLite default `results/ttfa.sqlite`.
    public static var defaultLocation: String {
        ProcessInfo.processInfo.environment["TTFA_DATABASE_URL"].flatMap { $0.isEmpty ? nil : $0 }
            ?? "results/ttfa.sqlite"
    }
}
