/// The two text formats of a metrics page: Prometheus's text format 0.0.4 (what node_exporter's
/// textfile collector and every scraper read) and OpenMetrics 1.0 (what Prometheus asks for
/// first), both from the same registry's output.
package enum ExpositionFormat: String, Sendable, CaseIterable {
    case prometheus
    case openMetrics = "openmetrics"

    package var contentType: String {
        switch self {
        case .prometheus: "text/plain; version=0.0.4; charset=utf-8"
        case .openMetrics: "application/openmetrics-text; version=1.0.0; charset=utf-8"
        }
    }

    /// The format an `Accept` header asks for: OpenMetrics when it is named (with a q-value
    /// above 0), the text format otherwise.
    package static func negotiated(accept: String?) -> ExpositionFormat {
        guard let accept else { return .prometheus }
        for range in accept.split(separator: ",") {
            let parameters = range.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
            guard parameters.first?.lowercased() == "application/openmetrics-text" else { continue }
            let q = parameters.dropFirst().first { $0.hasPrefix("q=") }.flatMap { Double($0.dropFirst(2)) } ?? 1
            if q > 0 { return .openMetrics }
        }
        return .prometheus
    }

    /// `text` (the registry's text-format output) in this format, families sorted by name so
    /// the same values always give the same page. OpenMetrics names a counter's family without
    /// its `_total` suffix, gives each `_seconds` family its unit, and ends with `# EOF`; both
    /// spell not-a-number and infinities as the parsers expect (`NaN`, `+Inf`).
    package func render(_ text: String) -> String {
        var families: [(name: String, lines: [String])] = []
        for line in text.split(separator: "\n", omittingEmptySubsequences: true).map(String.init) {
            let words = line.split(separator: " ", maxSplits: 3).map(String.init)
            if words.count >= 3, words[0] == "#", words[1] == "HELP" || words[1] == "TYPE" {
                if families.last?.name != words[2] { families.append((words[2], [])) }
                families[families.count - 1].lines.append(line)
            } else if !families.isEmpty {
                families[families.count - 1].lines.append(Self.normalizingValue(line))
            }
        }
        families.sort { $0.name < $1.name }
        var out = ""
        for family in families {
            let isCounter = family.lines.contains("# TYPE \(family.name) counter")
            for line in family.lines {
                if self == .openMetrics && line.hasPrefix("#") && isCounter && family.name.hasSuffix("_total") {
                    out +=
                        line.replacingOccurrences(
                            of: "# \(line.hasPrefix("# HELP") ? "HELP" : "TYPE") \(family.name) ",
                            with: "# \(line.hasPrefix("# HELP") ? "HELP" : "TYPE") \(family.name.dropLast(6)) ") + "\n"
                } else {
                    out += line + "\n"
                }
                if self == .openMetrics && line.hasPrefix("# TYPE ") && family.name.hasSuffix("_seconds") && !isCounter
                {
                    out += "# UNIT \(family.name) seconds\n"
                }
            }
        }
        if self == .openMetrics { out += "# EOF\n" }
        return out
    }

    /// A sample line with `nan`/`inf` spelled as both formats' parsers want.
    private static func normalizingValue(_ line: String) -> String {
        guard let space = line.lastIndex(of: " ") else { return line }
        let value = line[line.index(after: space)...]
        switch value {
        case "nan": return line[...space] + "NaN"
        case "inf": return line[...space] + "+Inf"
        case "-inf": return line[...space] + "-Inf"
        default: return line
        }
    }
}
