import Checks
import Foundation
import Statistics
import Storage
import TTFASupport

/// JUnit XML for CI systems: per run a test case per transport (its measured trials; failures,
/// or more invalid trials than allowed, fail it), then one per threshold and one per compared
/// metric (failures carry the numbers; metrics without enough trials are skipped).
package struct JUnitRenderer: ReportRenderer {
    package init() {}

    package func render(_ report: Report) -> String {
        Self.junit(
            runs: Array(zip(report.summaries, report.healths)), thresholds: report.thresholds, check: report.check,
            timestamp: report.timestamp)
    }

    /// A `<testsuite>`: its test cases (already XML) and their tallies.
    struct JUnitSuite {
        var name: String
        var cases: [String] = []
        var failures = 0
        var skipped = 0

        mutating func add(
            classname: String, name: String, failure: (message: String, type: String, text: String)? = nil,
            skipped reason: String? = nil
        ) {
            var body = ""
            if let failure {
                body =
                    "\n      <failure message=\"\(xml(failure.message))\" type=\"\(xml(failure.type))\">\(xml(failure.text))</failure>\n    "
                failures += 1
            } else if let reason {
                body = "\n      <skipped message=\"\(xml(reason))\"/>\n    "
                skipped += 1
            }
            cases.append(
                "    <testcase classname=\"\(xml(classname))\" name=\"\(xml(name))\" time=\"0\">\(body)</testcase>\n")
        }
    }

    /// The document: per run, a test case per transport — its measured
    /// trials; failures, or more invalid trials than allowed, fail it —, then one per threshold
    /// and, for a same-job A/B run, one per compared metric.
    static func junit(
        runs: [(summary: RunSummary, health: RunHealth)], thresholds: [ThresholdResult], check: RegressionCheck?,
        timestamp: String
    ) -> String {
        var suites: [JUnitSuite] = runs.map { summary, health in
            var suite = JUnitSuite(
                name: "ttfa run \(summary.run.id ?? 0)" + (summary.run.label.map { " (\($0))" } ?? ""))
            for t in summary.transports {
                let problems = health.problems.filter { $0.hasPrefix("\(t.transport): ") }
                suite.add(
                    classname: "ttfa.run.\(t.transport)", name: "\(t.transport) trials",
                    failure: problems.isEmpty
                        ? nil
                        : (
                            problems.joined(separator: "; "), "trials",
                            t.exampleErrors.map { "\($0.kind): \($0.message)" }.joined(separator: "\n")
                        ))
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
            suite.add(
                classname: "ttfa.thresholds.\(t.threshold.transport)", name: t.threshold.expression,
                failure: t.passed
                    ? nil
                    : ("measured \(t.threshold.format(t.value)), limit \(t.threshold.expression)", "threshold", t.line))
        }
        return suite
    }

    static func compareSuite(_ check: RegressionCheck) -> JUnitSuite {
        var suite = JUnitSuite(name: "ttfa compare: \(check.baseline.source) vs \(check.candidate.source)")
        for m in check.metrics {
            let transport = String(m.metric.prefix { $0 != "." && $0 != "[" })
            let failure =
                m.outcome == .regressed
                ? (
                    "regressed: \(m.metric) \(m.differenceText)", "regression",
                    "baseline \(Format.ms(m.baseline)), candidate \(Format.ms(m.candidate)), difference \(m.differenceText)"
                )
                : nil
            suite.add(
                classname: "ttfa.compare.\(transport)", name: m.metric, failure: failure,
                skipped: m.outcome == .insufficient ? (m.note ?? "not enough trials") : nil)
        }
        return suite
    }

    static func document(_ suites: [JUnitSuite], timestamp: String) -> String {
        let tests = suites.reduce(0) { $0 + $1.cases.count }
        let failures = suites.reduce(0) { $0 + $1.failures }
        var out =
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"ttfa\" tests=\"\(tests)\" failures=\"\(failures)\" errors=\"0\" time=\"0\">\n"
        for suite in suites {
            out +=
                "  <testsuite name=\"\(xml(suite.name))\" tests=\"\(suite.cases.count)\" failures=\"\(suite.failures)\" errors=\"0\" skipped=\"\(suite.skipped)\" time=\"0\" timestamp=\"\(xml(timestamp))\">\n"
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
                if scalar.value >= 0x20 && !(0xFFFE...0xFFFF).contains(scalar.value) {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out
    }
}
