import Foundation
import Storage
import TTFASupport

/// A pass/fail condition on one figure of a run, k6-style:
/// `websocket.ttfa.p95 < 700ms`, `sse.ttfa.p50 < 2s`, `sse.failed < 5%`,
/// `websocket.underruns == 0`, `sse[long.wav].ttfa.p50 < 2.5s`, `sse.first_byte.p90 <= 400ms`.
///
/// Grammar: `TRANSPORT[RECORDING]?.METRIC(.STAT)? OP VALUE`, where
/// - METRIC is `ttfa` or a phase (`first_byte`, `upload`, `tls`, …) with a STAT (`p50`, `p90`,
///   `p95`, `p99`, `mean`, `min`, `max`) and a time (`ms`, the default, or `s`);
/// - or a count: `failed`, `invalid`, `timeouts` (count, or a share of the measured trials when
///   the value ends in `%`), `underruns`, `anomalies`;
/// - a RECORDING (its file name) narrows `ttfa` to that recording's trials;
/// - OP is one of `<`, `<=`, `>`, `>=`, `==`, `!=`.
package struct Threshold: Sendable, Equatable, CustomStringConvertible {
    package enum Comparator: String, Sendable, CaseIterable {
        case lessOrEqual = "<="
        case greaterOrEqual = ">="
        case equal = "=="
        case notEqual = "!="
        case less = "<"
        case greater = ">"

        package func holds(_ a: Double, _ b: Double) -> Bool {
            switch self {
            case .less: return a < b
            case .lessOrEqual: return a <= b
            case .greater: return a > b
            case .greaterOrEqual: return a >= b
            case .equal: return a == b
            case .notEqual: return a != b
            }
        }
    }

    package enum Metric: Sendable, Equatable {
        /// TTFA or a phase, one statistic of it, milliseconds.
        case distribution(name: String, stat: String)
        /// A count of measured trials (or events), or its share of the measured trials.
        case count(name: String, share: Bool)
    }

    /// The text as written.
    package var expression: String
    package var transport: String
    package var recording: String?
    package var metric: Metric
    package var comparator: Comparator
    /// The limit in the metric's unit: milliseconds, a count, or a share 0…1.
    package var limit: Double

    package static let stats = ["p50", "p90", "p95", "p99", "mean", "min", "max"]
    package static let counts = ["failed", "invalid", "timeouts", "underruns", "anomalies"]
    /// Counts that may be given as a share of the measured trials.
    static let shares: Set = ["failed", "invalid", "timeouts"]
    package static var distributions: [String] {
        ["ttfa"] + Phase.allCases.filter { $0 != .firstAudio }.map(\.rawValue)
    }

    package var description: String { expression }

    /// The metric's name as it reads in reports: `websocket.ttfa.p95`, `sse[long.wav].ttfa.p50`.
    package var metricName: String {
        let subject = transport + (recording.map { "[\($0)]" } ?? "")
        switch metric {
        case .distribution(let name, let stat): return "\(subject).\(name).\(stat)"
        case .count(let name, _): return "\(subject).\(name)"
        }
    }

    /// Parses one threshold; the error says what is wrong and what is valid.
    package init(_ text: String) throws(CheckError) {
        expression = text.trimmingCharacters(in: .whitespaces)
        func fail(_ why: String) -> CheckError { CheckError("threshold '\(text)': \(why)") }
        // The operator: the first of <=, >=, ==, !=, <, > (two-character ones first).
        var found: (Comparator, Range<String.Index>)?
        for comparator in Comparator.allCases {
            if let range = expression.range(of: comparator.rawValue),
                found.map({ range.lowerBound < $0.1.lowerBound }) ?? true
            {
                found = (comparator, range)
            }
        }
        guard let (comparator, range) = found else {
            throw fail("no comparison; write e.g. 'websocket.ttfa.p95 < 700ms' (operators: < <= > >= == !=)")
        }
        self.comparator = comparator
        let left = expression[..<range.lowerBound].trimmingCharacters(in: .whitespaces)
        let right = expression[range.upperBound...].trimmingCharacters(in: .whitespaces).lowercased()

        // TRANSPORT[RECORDING].METRIC(.STAT)
        var subject = left
        var rest = ""
        if let open = left.firstIndex(of: "[") {
            guard let close = left.firstIndex(of: "]"), close > open else {
                throw fail("'[' without ']' around the recording")
            }
            transport = String(left[..<open])
            recording = String(left[left.index(after: open)..<close])
            guard left[left.index(after: close)...].hasPrefix(".") else {
                throw fail("expected '.' and a metric after '[\(recording!)]'")
            }
            rest = String(left[left.index(close, offsetBy: 2)...])
            subject = transport
        } else {
            guard let dot = left.firstIndex(of: ".") else {
                throw fail("expected TRANSPORT.METRIC, e.g. sse.ttfa.p50 or sse.failed")
            }
            subject = String(left[..<dot])
            rest = String(left[left.index(after: dot)...])
            recording = nil
        }
        transport = subject
        guard !transport.isEmpty else { throw fail("no transport before the metric") }
        let parts = rest.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        let name = parts.first ?? ""
        let valid =
            "metrics: \(Self.distributions.map { "\($0).STAT" }.joined(separator: ", ")), \(Self.counts.joined(separator: ", ")); STAT: \(Self.stats.joined(separator: ", "))"
        if Self.distributions.contains(name) {
            guard parts.count == 2, Self.stats.contains(parts[1]) else {
                throw fail(
                    "\(name) needs one statistic, e.g. \(transport).\(name).p50 (\(Self.stats.joined(separator: ", ")))"
                )
            }
            if recording != nil && name != "ttfa" { throw fail("a recording narrows ttfa only, not \(name)") }
            metric = .distribution(name: name, stat: parts[1])
            limit = try Self.duration(right, fail)
        } else if Self.counts.contains(name) {
            guard parts.count == 1 else { throw fail("\(name) is a count and takes no statistic") }
            if recording != nil { throw fail("a recording narrows ttfa only, not \(name)") }
            let share = right.hasSuffix("%")
            if share && !Self.shares.contains(name) {
                throw fail("\(name) is a count; give a number, not a percentage")
            }
            metric = .count(name: name, share: share)
            let number = share ? String(right.dropLast()) : right
            guard let value = Double(number.trimmingCharacters(in: .whitespaces)), value.isFinite, value >= 0 else {
                throw fail("'\(right)' is not a \(share ? "percentage" : "count")")
            }
            limit = share ? value / 100 : value
        } else {
            throw fail("unknown metric '\(rest)'; \(valid)")
        }
    }

    private static func duration(_ text: String, _ fail: (String) -> CheckError) throws(CheckError) -> Double {
        var number = text
        var scale = 1.0
        if number.hasSuffix("ms") {
            number.removeLast(2)
        } else if number.hasSuffix("s") {
            number.removeLast()
            scale = 1000
        } else if number.hasSuffix("%") {
            throw fail("a time takes ms or s, not a percentage")
        }
        guard let value = Double(number.trimmingCharacters(in: .whitespaces)), value.isFinite, value >= 0 else {
            throw fail("'\(text)' is not a time; write e.g. 700ms or 1.5s")
        }
        return value * scale
    }

    /// Checks the transport and recording names against what a run measures (before it starts,
    /// or against a stored run). The error lists the valid names.
    package func validate(transports: [String], recordings: [String]) throws(CheckError) {
        guard transports.contains(transport) else {
            throw CheckError(
                "threshold '\(expression)': the run measures no transport '\(transport)'; it measures \(transports.joined(separator: ", "))"
            )
        }
        if let recording, !recordings.contains(recording) {
            throw CheckError(
                "threshold '\(expression)': the run has no recording '\(recording)'; it has \(recordings.joined(separator: ", "))"
            )
        }
    }

    /// A value in the threshold's unit, for people: "444 ms", "3", "4.2%".
    package func format(_ value: Double?) -> String {
        guard let value else { return "no value" }
        switch metric {
        case .distribution: return Format.ms(value)
        case .count(_, let share):
            return share
                ? String(format: "%.1f%%", value * 100) : Format.number(value).replacingOccurrences(of: ".00", with: "")
        }
    }

    /// Parses thresholds from a file: YAML or JSON, a list of expressions or `{thresholds: […]}`.
    package static func load(file path: String) throws(CheckError) -> [Threshold] {
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8)
        else {
            throw CheckError("--thresholds \(path): no readable file there")
        }
        let lines: [String]
        do {
            lines = try YAMLList.strings(text, key: "thresholds")
        } catch {
            throw CheckError(
                "--thresholds \(path): \(error.message); write a list of expressions such as '- websocket.ttfa.p95 < 700ms' (or thresholds: [...])"
            )
        }
        var out: [Threshold] = []
        for line in lines { out.append(try Threshold(line)) }
        return out
    }
}

/// A threshold and what the run measured for it.
package struct ThresholdResult: Sendable {
    package var threshold: Threshold
    package var value: Double?
    package var passed: Bool

    package init(threshold: Threshold, value: Double?, passed: Bool) {
        self.threshold = threshold
        self.value = value
        self.passed = passed
    }

    /// "✓ websocket.ttfa.p95 < 700ms (measured 444 ms)".
    package var line: String {
        "\(passed ? "✓" : "✗") \(threshold.expression) (measured \(threshold.format(value)))"
    }
}
