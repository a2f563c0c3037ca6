import Foundation
import Statistics
import TTFASupport
import VoiceTransport

/// `ttfa compare`: a candidate against a baseline, metric by metric — per transport p50, p90,
/// p95 and p99 of TTFA, and per recording p50 — each decided by `MetricComparison`; plus the
/// configuration differences that make a comparison meaningless unless accepted.
package struct RegressionCheck: Sendable {
    package var baseline: Baseline
    package var candidate: Baseline
    package var metrics: [MetricComparison]
    package var mismatches: [Mismatch]
    package var tolerance: Tolerance

    /// A configuration fact that differs between the two sides.
    package struct Mismatch: Sendable, Equatable {
        package var fact: String
        package var baseline: String
        package var candidate: String
        package var line: String { "\(fact): baseline \(baseline), candidate \(candidate)" }
    }

    package static let quantiles: [(name: String, q: Double)] = [
        ("p50", 0.5), ("p90", 0.9), ("p95", 0.95), ("p99", 0.99),
    ]

    /// - Parameters:
    ///   - tolerances: per-metric overrides (`websocket.ttfa.p99`, or `*.ttfa.p99` for every transport).
    package init(
        baseline: Baseline, candidate: Baseline, tolerance: Tolerance = Tolerance(),
        tolerances: [(pattern: String, tolerance: Tolerance)] = [], seed: UInt64 = 1
    ) {
        self.baseline = baseline
        self.candidate = candidate
        self.tolerance = tolerance
        func toleranceFor(_ metric: String) -> Tolerance {
            for (pattern, t) in tolerances.reversed() {
                if pattern == metric { return t }
                if pattern.hasPrefix("*."), let dot = metric.firstIndex(of: "."),
                    metric[metric.index(after: dot)...] == pattern.dropFirst(2)
                {
                    return t
                }
                if pattern.hasPrefix("*["), metric.contains("["),
                    metric[metric.firstIndex(of: "[")!...] == pattern.dropFirst(1)
                {
                    return t
                }
            }
            return tolerance
        }
        var metrics: [MetricComparison] = []
        for (name, b) in baseline.transports {
            guard let c = candidate.samples(name) else { continue }
            let recordings = b.ttfaMs.keys.filter { c.ttfaMs[$0] != nil }.sorted()
            let bStrata = recordings.map { b.ttfaMs[$0]! }
            let cStrata = recordings.map { c.ttfaMs[$0]! }
            for (label, q) in Self.quantiles {
                let metric = "\(name).ttfa.\(label)"
                metrics.append(
                    MetricComparison(
                        metric: metric, quantile: q, baseline: bStrata, candidate: cStrata,
                        tolerance: toleranceFor(metric), seed: seed))
            }
            if recordings.count > 1 {
                for recording in recordings {
                    let metric = "\(name)[\(recording)].ttfa.p50"
                    metrics.append(
                        MetricComparison(
                            metric: metric, quantile: 0.5, baseline: [b.ttfaMs[recording]!],
                            candidate: [c.ttfaMs[recording]!],
                            tolerance: toleranceFor(metric), seed: seed))
                }
            }
        }
        self.metrics = metrics
        mismatches = Self.mismatches(baseline, candidate)
    }

    package var regressed: [MetricComparison] { metrics.filter { $0.outcome == .regressed } }
    package var improved: [MetricComparison] { metrics.filter { $0.outcome == .improved } }

    /// "1 regressed, 0 improved, 7 unchanged, 3 with not enough trials".
    package var tally: String {
        let unchanged = metrics.filter { $0.outcome == .unchanged }.count
        let insufficient = metrics.filter { $0.outcome == .insufficient }.count
        return "\(regressed.count) regressed, \(improved.count) improved, \(unchanged) unchanged"
            + (insufficient > 0 ? ", \(insufficient) with not enough trials" : "")
    }

    // MARK: - Configuration

    /// The facts that must match for two runs' numbers to be comparable.
    static func facts(_ side: Baseline) -> [(String, String)] {
        let config =
            (try? JSONSerialization.jsonObject(with: Data(side.configurationJSON.utf8))) as? [String: Any] ?? [:]
        func canonical(_ value: Any?) -> String {
            guard let value, !(value is NSNull) else { return "none" }
            guard JSONSerialization.isValidJSONObject(value) else { return "\(value)" }
            return String(
                decoding: (try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys])) ?? Data(),
                as: UTF8.self)
        }
        let transports = config["transports"] as? [[String: Any]] ?? []
        let embedded = config["reference_server"] != nil
        var facts: [(String, String)] = [
            ("transports", side.transports.map(\.name).sorted().joined(separator: ", ")),
            (
                "connection mode",
                transports.map { "\($0["transport"] as? String ?? "?") \($0["connection"] as? String ?? "?")" }.sorted()
                    .joined(separator: ", ")
            ),
            (
                "endpoints",
                embedded
                    ? "the embedded reference server"
                    : transports.map { "\($0["transport"] as? String ?? "?") \($0["endpoint"] as? String ?? "?")" }
                        .sorted().joined(separator: ", ")
            ),
            (
                "recordings",
                (config["recordings"] as? [[String: Any]] ?? []).map {
                    "\($0["name"] as? String ?? "?") (\(Format.ms($0["duration_ms"] as? Double)))"
                }.sorted().joined(separator: ", ")
            ),
            ("host class", "\(side.host.cpuCount) × \(side.host.cpuModel)"),
            (
                "dialects",
                transports.map { t in
                    let dialect = t["dialect"] as? [String: Any]
                    // Runs stored before dialects were recorded spoke their transport's built-in one.
                    let name =
                        dialect?["name"] as? String ?? (t["transport"] as? String).flatMap(
                            TransportKind.init(rawValue:))?.builtInDialect ?? "?"
                    return
                        "\(t["transport"] as? String ?? "?") \(name)\((dialect?["sha256"] as? String).map { " (\($0.prefix(12)))" } ?? "")"
                }.sorted().joined(separator: ", ")
            ),
            ("turn", canonical(config["turn"])),
            ("context", canonical(config["context"])),
            ("chunk size", canonical(config["chunk_ms"])),
            ("link", canonical(config["link"])),
            // WebRTC: the edge secret, STUN/TURN and the jitter buffer playout models.
            (
                "webrtc",
                transports.compactMap { $0["webrtc"] }.map { canonical($0) }.sorted().joined(separator: ", ")
            ),
        ]
        if let profiles = (config["reference_server"] as? [String: Any])?["profiles"] {
            facts.append(("profiles", canonical(profiles)))
        } else {
            facts.append(("profiles", "none (your own endpoints)"))
        }
        return facts
    }

    static func mismatches(_ a: Baseline, _ b: Baseline) -> [Mismatch] {
        let left = facts(a)
        let right = Dictionary(facts(b), uniquingKeysWith: { x, _ in x })
        return left.compactMap { fact, value in
            guard let other = right[fact], other != value else { return nil }
            return Mismatch(fact: fact, baseline: Self.shorten(fact, value), candidate: Self.shorten(fact, other))
        }
    }

    /// Long JSON facts are shown by their names and a short fingerprint of their parameters,
    /// so two profiles of the same name that differ still read differently.
    static func shorten(_ fact: String, _ value: String) -> String {
        guard value.count > 80, let data = value.data(using: .utf8),
            let object = try? JSONSerialization.jsonObject(with: data)
        else { return value }
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325  // FNV-1a
        for byte in value.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        let fingerprint = "parameters #" + String(String(hash, radix: 16).prefix(6))
        if let dict = object as? [String: Any] {
            if let name = dict["name"] as? String { return "\(name) (\(fingerprint))" }
            let names = dict.keys.sorted().map { key in
                "\(key) \((dict[key] as? [String: Any])?["name"] as? String ?? "…")"
            }
            return names.joined(separator: ", ") + " (\(fingerprint))"
        }
        return String(value.prefix(60)) + "… (\(fingerprint))"
    }
}
