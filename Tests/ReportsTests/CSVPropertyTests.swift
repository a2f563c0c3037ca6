import Foundation
import PropertyBased
import Storage
import TestSupport
import Testing

@testable import Reports

/// The CSV export against a real CSV reader (Python's `csv` module): whatever a trial's text
/// holds — commas, quotes, line breaks of every kind, non-ASCII, a leading `=` — the reader gets
/// back the stored row.
@Suite("CSV export properties")
struct CSVPropertyTests {
    /// Text as an endpoint, a recording name or an error message might hold it.
    static let awkwardText = Gen<Character?>.element(of: Array("ab ,\"'\n\r=+-@;\té€😀") + ["\r\n"]).map { $0! }
        .string(of: 0...20)

    /// Rows as Python's csv module reads `text` (RFC 4180 dialect: the default `excel`).
    static func pythonRows(_ text: String) throws -> [[String]] {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("ttfa-csv-\(UUID().uuidString).csv")
        try Data(text.utf8).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [
            "python3", "-c",
            "import csv, json, sys; print(json.dumps(list(csv.reader(open(sys.argv[1], newline='', encoding='utf-8')))))",
            file.path,
        ]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        try #require(process.terminationStatus == 0, "python3 could not read the CSV")
        return try JSONDecoder().decode([[String]].self, from: data)
    }

    @Test
    func aRealCSVReaderGetsTheStoredRowsBack() async throws {
        await propertyCheck(
            count: 60, input: Self.awkwardText.array(of: 3).array(of: 1...4),
            Gen.int64(in: 0...60_000_000_000).optional().array(of: 4)
        ) { texts, ttfas in
            let trials = texts.enumerated().map { index, text in
                var trial = sampleTrial(
                    runID: 1, seq: index + 1, transport: "websocket", ttfaMs: nil,
                    status: ttfas[index] == nil ? .failed(.timeout) : .ok)
                trial.endpoint = text[0]
                trial.recording = text[1]
                trial.errorMessage = text[2]
                trial.ttfaNs = ttfas[index]
                return trial
            }
            let csv = CSVRenderer.header + trials.map(CSVRenderer.row).joined()
            let rows = try Self.pythonRows(csv)
            #expect(rows.first == CSVRenderer.columns)
            #expect(rows.count == trials.count + 1)
            let column = Dictionary(uniqueKeysWithValues: CSVRenderer.columns.enumerated().map { ($1, $0) })
            for (trial, row) in zip(trials, rows.dropFirst()) {
                #expect(row.count == CSVRenderer.columns.count)
                // Text comes back as stored, behind the documented `'` for formula-like starts.
                #expect(row[column["endpoint"]!] == CSVRenderer.neutralize(trial.endpoint))
                #expect(row[column["recording"]!] == CSVRenderer.neutralize(trial.recording))
                #expect(row[column["error_message"]!] == CSVRenderer.neutralize(trial.errorMessage ?? ""))
                #expect(row[column["status"]!] == trial.status.rawValue)
                // TTFA in milliseconds to the microsecond, or empty.
                let ttfa = row[column["ttfa_ms"]!]
                if let ns = trial.ttfaNs {
                    #expect(abs((Double(ttfa) ?? -1) - Double(ns) / 1e6) < 0.0006, "\(ttfa) for \(ns) ns")
                } else {
                    #expect(ttfa.isEmpty)
                }
            }
        }
    }
}
