import Checks
import Foundation
import TTFASupport

/// Renders threshold results and regression checks for people (text, Markdown) and for CI
/// systems (JUnit XML, JSON).
public enum CheckRenderer {
    // MARK: Text

    public static func text(_ check: RegressionCheck) -> String {
        var out = "ttfa compare: baseline \(check.baseline.source) vs candidate \(check.candidate.source)\n"
        out += "tolerance: \(check.tolerance) (a metric regresses only when its whole 95% CI lies beyond it)\n"
        for m in check.mismatches { out += "configuration differs — \(m.line)\n" }
        let rows: [[String]] = [["metric", "baseline", "candidate", "difference (95% CI; tolerance)", "verdict"]] + check.metrics.map { m in
            [m.metric, Format.ms(m.baseline), Format.ms(m.candidate), m.differenceText, m.outcome.rawValue]
        }
        let widths = (0..<5).map { column in rows.map { $0[column].count }.max() ?? 0 }
        for row in rows {
            out += zip(row, widths).map { $0.0.padding(toLength: $0.1, withPad: " ", startingAt: 0) }.joined(separator: "  ").trimmingTrailingSpaces() + "\n"
        }
        out += "verdict: \(headline(check))\n"
        return out
    }

    /// "regression: sse.ttfa.p50 +312 ms (…)" or "no regression: 0 regressed, 1 improved, 9 unchanged".
    public static func headline(_ check: RegressionCheck) -> String {
        if check.metrics.isEmpty { return "nothing to compare: the two sides share no transport with ok trials" }
        if check.regressed.isEmpty { return "no regression (\(check.tally))" }
        return "regression (\(check.tally)): " + check.regressed.map { "\($0.metric) \($0.differenceText)" }.joined(separator: "; ")
    }

    // MARK: Markdown

    public static func markdown(_ check: RegressionCheck) -> String {
        var out = "### ttfa compare: \(check.regressed.isEmpty ? "✅ no regression" : "❌ regression")\n\n"
        out += "Baseline \(escape(check.baseline.source)) · candidate \(escape(check.candidate.source)) · tolerance \(escape(check.tolerance.description))\n\n"
        if !check.mismatches.isEmpty {
            out += "> **Configuration differs** — the numbers may not be comparable:\n"
            for m in check.mismatches { out += "> - \(escape(m.line))\n" }
            out += "\n"
        }
        out += "| metric | baseline | candidate | difference | 95% CI | tolerance | verdict |\n|---|---:|---:|---:|---|---:|---|\n"
        for m in check.metrics {
            let icon = m.outcome == .regressed ? "❌ " : m.outcome == .improved ? "✅ " : ""
            let ci = m.ci95.map { "\(signed($0.low)) … \(signed($0.high))" } ?? (m.note ?? "–")
            out += "| `\(m.metric)` | \(Format.ms(m.baseline)) | \(Format.ms(m.candidate)) | \(m.difference.map(signed) ?? "–") | \(escape(ci)) | \(m.toleranceMs.map { "±" + Format.ms($0) } ?? "–") | \(icon)\(m.outcome.rawValue) |\n"
        }
        out += "\n\(check.tally).\n"
        return out
    }

    public static func markdown(thresholds: [ThresholdResult]) -> String {
        guard !thresholds.isEmpty else { return "" }
        let failed = thresholds.filter { !$0.passed }.count
        var out = "### ttfa thresholds: \(failed == 0 ? "✅ all \(thresholds.count) passed" : "❌ \(failed) of \(thresholds.count) failed")\n\n"
        out += "| threshold | measured | |\n|---|---:|:---:|\n"
        for t in thresholds { out += "| `\(escape(t.threshold.expression))` | \(t.threshold.format(t.value)) | \(t.passed ? "✅" : "❌") |\n" }
        return out + "\n"
    }

    static func signed(_ v: Double) -> String { (v >= 0 ? "+" : "−") + Format.ms(abs(v)) }
    static func escape(_ text: String) -> String { text.replacingOccurrences(of: "|", with: "\\|") }

    // MARK: JSON

    public static func json(_ check: RegressionCheck) -> JSONValue {
        func number(_ v: Double?) -> JSONValue { v.map { .double(($0 * 1000).rounded() / 1000) } ?? .null }
        let metrics: [JSONValue] = check.metrics.map { m in
            .object([
                ("metric", .string(m.metric)), ("baseline_ms", number(m.baseline)), ("candidate_ms", number(m.candidate)),
                ("difference_ms", number(m.difference)),
                ("ci95_ms", m.ci95.map { .array([number($0.low), number($0.high)]) } ?? .null),
                ("tolerance_ms", number(m.toleranceMs)), ("verdict", .string(m.outcome.rawValue)),
                ("trials", .array([.int(Int64(m.counts.baseline)), .int(Int64(m.counts.candidate))])),
            ])
        }
        return .object([
            ("baseline", .string(check.baseline.source)), ("candidate", .string(check.candidate.source)),
            ("baseline_run", .int(check.baseline.run.id)), ("candidate_run", .int(check.candidate.run.id)),
            ("regressed", .bool(!check.regressed.isEmpty)),
            ("verdict", .string(headline(check))),
            ("mismatches", .array(check.mismatches.map { .object([("fact", .string($0.fact)), ("baseline", .string($0.baseline)), ("candidate", .string($0.candidate))]) })),
            ("metrics", .array(metrics)),
        ])
    }

    // MARK: JUnit XML

    /// A `<testsuite>`: its test cases (already XML) and their tallies.
    struct JUnitSuite {
        var name: String
        var cases: [String] = []
        var failures = 0
        var skipped = 0

        mutating func add(classname: String, name: String, failure: (message: String, type: String, text: String)? = nil, skipped reason: String? = nil) {
            var body = ""
            if let failure {
                body = "\n      <failure message=\"\(xml(failure.message))\" type=\"\(xml(failure.type))\">\(xml(failure.text))</failure>\n    "
                failures += 1
            } else if let reason {
                body = "\n      <skipped message=\"\(xml(reason))\"/>\n    "
                skipped += 1
            }
            cases.append("    <testcase classname=\"\(xml(classname))\" name=\"\(xml(name))\" time=\"0\">\(body)</testcase>\n")
        }
    }

    /// Thresholds and a comparison (`ttfa compare`): one test case per threshold and per
    /// compared metric; failures carry the numbers, metrics without enough trials are skipped.
    public static func junit(thresholds: [ThresholdResult], check: RegressionCheck?, timestamp: String) -> String {
        document([thresholdSuite(thresholds), check.map(compareSuite)].compactMap { $0 }, timestamp: timestamp)
    }

    /// A run's JUnit (`ttfa run --junit`): per run, a test case per transport — its measured
    /// trials; failures, or more invalid trials than allowed, fail it —, then one per threshold
    /// and, for a same-job A/B run, one per compared metric.
    public static func junit(runs: [(summary: RunSummary, health: RunHealth)], thresholds: [ThresholdResult], check: RegressionCheck?,
                             timestamp: String) -> String {
        var suites: [JUnitSuite] = runs.map { summary, health in
            var suite = JUnitSuite(name: "ttfa run \(summary.run.id ?? 0)" + (summary.run.label.map { " (\($0))" } ?? ""))
            for t in summary.transports {
                let problems = health.problems.filter { $0.hasPrefix("\(t.transport): ") }
                suite.add(classname: "ttfa.run.\(t.transport)", name: "\(t.transport) trials",
                          failure: problems.isEmpty ? nil : (problems.joined(separator: "; "), "trials",
                                                             t.exampleErrors.map { "\($0.kind): \($0.message)" }.joined(separator: "\n")))
            }
            return suite
        }
        suites += [thresholdSuite(thresholds), check.map(compareSuite)].compactMap { $0 }
        return document(suites, timestamp: timestamp)
    }

    static func thresholdSuite(_ thresholds: [ThresholdResult]) -> JUnitSuite? {
        guard !thresholds.isEmpty else { return nil }
        var suite = JUnitSuite(name: "ttfa thresholds")
        for t in thresholds {
            suite.add(classname: "ttfa.thresholds.\(t.threshold.transport)", name: t.threshold.expression,
                      failure: t.passed ? nil : ("measured \(t.threshold.format(t.value)), limit \(t.threshold.expression)", "threshold", t.line))
        }
        return suite
    }

    static func compareSuite(_ check: RegressionCheck) -> JUnitSuite {
        var suite = JUnitSuite(name: "ttfa compare: \(check.baseline.source) vs \(check.candidate.source)")
        for m in check.metrics {
            let transport = String(m.metric.prefix { $0 != "." && $0 != "[" })
            let failure = m.outcome == .regressed
                ? ("regressed: \(m.metric) \(m.differenceText)", "regression",
                   "baseline \(Format.ms(m.baseline)), candidate \(Format.ms(m.candidate)), difference \(m.differenceText)")
                : nil
            suite.add(classname: "ttfa.compare.\(transport)", name: m.metric, failure: failure,
                      skipped: m.outcome == .insufficient ? (m.note ?? "not enough trials") : nil)
        }
        return suite
    }

    static func document(_ suites: [JUnitSuite], timestamp: String) -> String {
        let tests = suites.reduce(0) { $0 + $1.cases.count }, failures = suites.reduce(0) { $0 + $1.failures }
        var out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"ttfa\" tests=\"\(tests)\" failures=\"\(failures)\" errors=\"0\" time=\"0\">\n"
        for suite in suites {
            out += "  <testsuite name=\"\(xml(suite.name))\" tests=\"\(suite.cases.count)\" failures=\"\(suite.failures)\" errors=\"0\" skipped=\"\(suite.skipped)\" time=\"0\" timestamp=\"\(xml(timestamp))\">\n"
            out += suite.cases.joined() + "  </testsuite>\n"
        }
        return out + "</testsuites>\n"
    }

    /// Escapes text for an XML attribute or element; drops characters XML 1.0 forbids.
    static func xml(_ text: String) -> String {
        var out = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            case "\t", "\n", "\r": out += "&#\(scalar.value);"
            default:
                if scalar.value >= 0x20 && !(0xFFFE...0xFFFF).contains(scalar.value) { out.unicodeScalars.append(scalar) }
            }
        }
        return out
    }
}
