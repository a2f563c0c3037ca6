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
package struct RunRequest: Sendable {
    /// Transports to measure; nil: all (against your own endpoints, the main ones plus the
    /// variants whose URL is given).
    package var transports: [TransportKind]?
    package var urls: [TransportKind: String] = [:]
    /// Request headers `Name: value`, each for every transport, one option group or one transport.
    package var headers: [Scoped<String>] = []
    /// Dialect files (paths, or a shipped dialect's name).
    package var dialects: [Scoped<String>] = []
    /// Deployment profiles of the embedded reference server (presets or files).
    package var profiles: [Scoped<String>] = []
    /// The model and voice to ask for.
    package var models: [Scoped<String>] = []
    package var voices: [Scoped<String>] = []
    /// A same-job A/B comparison: the candidate's endpoints and profiles (nil: none).
    package var candidate: Candidate?

    package var audio: [String] = []
    package var trials = 3
    package var warmup = 1
    package var chunkMs = 50
    package var connection: ConnectionMode = .warm
    package var concurrency = 1
    package var rampUp: String?
    package var rate: String?
    package var duration: String?
    package var stages: String?
    package var maxSessions = 5_000
    package var realtimeIO = true
    package var group: String?
    package var timeoutSeconds: Double = 30
    package var lagBudgetMs: Double = 5
    package var maxInvalid = "10%"
    package var context: ContextMode = .reset
    package var database: String = ResultsStoreLocation.defaultLocation
    package var label: String?
    package var link: String?
    package var thresholds: [String] = []
    package var thresholdsFile: String?
    package var tolerance = "10%,20ms"
    package var metricTolerances: [String] = []
    package var turnDetection: EnergyVAD.Parameters?
    /// The webrtc transport's edge secret, STUN/TURN servers and modelled jitter buffer.
    package var webRTC = WebRTCSettings()
    package var seed: UInt64 = 1
    /// Do not verify TLS certificates.
    package var insecure = false
    /// Trust these CA certificates (PEM).
    package var caFile: String?
    /// The embedded server without TLS (plain `ws://` and `http://`).
    package var plain = false
    /// `--quick`: said in the first line's estimate.
    package var quick = false
    /// The command line as given, stored with the run (secrets masked first).
    package var commandLine: [String] = CommandLine.arguments
    package var outputs = RunOutputs()

    package struct Candidate: Sendable {
        package var urls: [TransportKind: String] = [:]
        package var profiles: [Scoped<String>] = []
        package init() {}
    }

    package init() {}
}

/// A value given for every transport, for one option group (`ws`, `sse`), or for one transport,
/// with the option it came from (named in messages).
package struct Scoped<Value: Sendable>: Sendable {
    package enum Scope: Sendable, Equatable {
        case all
        case group(String)
        case transport(TransportKind)
    }

    package var scope: Scope
    package var value: Value
    package var flag: String

    package init(_ scope: Scope, _ value: Value, flag: String) {
        self.scope = scope
        self.value = value
        self.flag = flag
    }

    /// Whether it applies to `kind`.
    package func applies(to kind: TransportKind) -> Bool {
        switch scope {
        case .all: true
        case .group(let group): kind.optionGroup == group
        case .transport(let transport): transport == kind
        }
    }
}

extension Array {
    /// The values that apply to `kind`, the most specific last (every transport, its group, itself).
    package func values<V>(for kind: TransportKind) -> [Scoped<V>] where Element == Scoped<V> {
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
    package func value<V>(for kind: TransportKind) -> Scoped<V>? where Element == Scoped<V> {
        values(for: kind).last
    }
}

/// What a run writes besides the database: stdout (the table, or one JSON object), and files.
package struct RunOutputs: Sendable {
    package var json = false
    package var quiet = false
    package var markdown: String?
    package var junit: String?
    package var html: String?
    package init() {}
}

/// Where results go unless `--db` says otherwise.
package enum ResultsStoreLocation {
    /// `TTFA_DATABASE_URL`, else the SQLite default `results/ttfa.sqlite`.
    package static var defaultLocation: String {
        ProcessInfo.processInfo.environment["TTFA_DATABASE_URL"].flatMap { $0.isEmpty ? nil : $0 }
            ?? "results/ttfa.sqlite"
    }
}
