import Foundation
import TestSupport
import Testing

@testable import Reports
@testable import Storage
@testable import StorageSQLite

/// The records are the schema's single source: the SQL tables, the CSV header and the column
/// tables of results/README.md must name exactly their columns. A column added in one place
/// only fails here (a `start_late_ns` missing from the CSV did, before this test).
@Suite("One schema")
struct SchemaTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// Each table and its record's columns, from a sample of the record.
    static func recordColumns() throws -> [(table: String, columns: [String])] {
        [
            (RunRecord.tableName, try RecordColumns.encode(sampleRun()).map(\.name)),
            (
                TrialRecord.tableName,
                try RecordColumns.encode(sampleTrial(runID: 1, seq: 1, transport: "sse", ttfaMs: nil)).map(\.name)
            ),
            (
                TrialEventRecord.tableName,
                try RecordColumns.encode(
                    TrialEventRecord(trialID: 1, seq: 0, tNs: 0, kind: "audio", value: nil, detail: nil)
                ).map(\.name)
            ),
            (
                SeriesRecord.tableName,
                try RecordColumns.encode(SeriesRecord(runID: 1, transport: "sse", second: 0)).map(\.name)
            ),
        ]
    }

    @Test func columnNamesAreTheRecordsPropertiesInSnakeCase() {
        #expect(RecordColumns.columnName("runID") == "run_id")
        #expect(RecordColumns.columnName("ttfaP50Ns") == "ttfa_p50_ns")
        #expect(RecordColumns.columnName("configJSON") == "config_json")
        #expect(RecordColumns.columnName("responseID") == "response_id")
        #expect(RecordColumns.columnName("curlAppconnectNs") == "curl_appconnect_ns")
        #expect(RecordColumns.columnName("tNs") == "t_ns")
        #expect(RecordColumns.columnName("jsonValue") == "json_value")
        #expect(RecordColumns.columnName("JSONValue") == "json_value")
    }

    @Test func everyRecordColumnIsATableColumnAndBack() async throws {
        let store = try SQLiteStore(path: temporaryDatabase())
        for (table, columns) in try Self.recordColumns() {
            let sql = try await store.columns(of: table)
            #expect(
                Set(columns).subtracting(sql).isEmpty,
                "\(table): record columns with no SQL column: \(Set(columns).subtracting(sql).sorted())")
            #expect(
                Set(sql).subtracting(columns).isEmpty,
                "\(table): SQL columns with no record property: \(Set(sql).subtracting(columns).sorted())")
        }
    }

    @Test func theCSVHasEveryTrialColumnButTheRowID() throws {
        let trial = try #require(try Self.recordColumns().first { $0.table == "trials" }).columns
        let expected = trial.filter { $0 != "id" }.map { $0.hasSuffix("_ns") ? String($0.dropLast(3)) + "_ms" : $0 }
        #expect(CSVRenderer.columns.filter { $0 != "audio_ms" } == expected)
        #expect(CSVRenderer.columns.contains("start_late_ms"))
    }

    /// `## Table \`name\``'s section: the column names in its tables' first cells and in its
    /// prose (`a` … `b` covers the record's columns from a to b).
    static func documented(_ table: String, order: [String]) throws -> (firstCells: Set<String>, anywhere: Set<String>)
    {
        let text = try String(contentsOf: repository.appendingPathComponent("results/README.md"), encoding: .utf8)
        let sections = text.components(separatedBy: "\n## ")
        let section = try #require(
            sections.first { $0.hasPrefix("Table `\(table)`") }, "results/README.md has no section for table \(table)")
        func names(_ line: Substring) -> [String] {
            line.split(separator: "`", omittingEmptySubsequences: false).enumerated().filter { $0.offset % 2 == 1 }.map
            { String($0.element) }
        }
        var firstCells = Set<String>()
        var anywhere = Set<String>()
        var inColumnTable = false
        for line in section.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("| column |") { inColumnTable = true }
            if !line.hasPrefix("|") { inColumnTable = false }
            // Only the prose and the column table name columns (not, say, the event kinds).
            if !line.hasPrefix("|") { anywhere.formUnion(names(line)) }
            if inColumnTable && line.hasPrefix("| `") {
                let cell = line.dropFirst(2).prefix { $0 != "|" }
                var inCell = names(cell)
                if cell.contains("…"), inCell.count == 2, let a = order.firstIndex(of: inCell[0]),
                    let b = order.firstIndex(of: inCell[1]), a < b
                {
                    inCell = Array(order[a...b])
                }
                firstCells.formUnion(inCell)
                anywhere.formUnion(inCell)
            }
        }
        return (firstCells, anywhere)
    }

    @Test func resultsREADMEDocumentsEveryColumnAndNoOther() throws {
        for (table, columns) in try Self.recordColumns() {
            let documented = try Self.documented(table, order: columns)
            let missing = Set(columns).subtracting(documented.anywhere)
            #expect(missing.isEmpty, "results/README.md, table \(table): undocumented columns \(missing.sorted())")
            let stale = documented.firstCells.subtracting(columns)
            #expect(
                stale.isEmpty,
                "results/README.md, table \(table): documents columns that do not exist: \(stale.sorted())")
        }
    }

    @Test func resultsREADMEListsTheCSVColumnsInOrder() throws {
        let text = try String(contentsOf: Self.repository.appendingPathComponent("results/README.md"), encoding: .utf8)
        let start = try #require(text.range(of: "Columns: `"))
        let end = try #require(text.range(of: "`", range: start.upperBound..<text.endIndex))
        let listed = text[start.upperBound..<end.lowerBound].split(separator: ",").map {
            $0.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        #expect(listed == CSVRenderer.columns)
    }

    /// The check above can fail: a record with one more column than its table is caught.
    @Test func aColumnAddedToTheRecordOnlyIsCaught() async throws {
        struct Widened: Encodable {
            var trial: TrialRecord
            func encode(to encoder: any Encoder) throws {
                try trial.encode(to: encoder)
                var container = encoder.container(keyedBy: Key.self)
                try container.encode(Int64(1), forKey: .init(stringValue: "newMetricNs"))
            }
            struct Key: CodingKey {
                var stringValue: String
                init(stringValue: String) { self.stringValue = stringValue }
                var intValue: Int? { nil }
                init?(intValue: Int) { nil }
            }
        }
        let columns = try RecordColumns.encode(
            Widened(trial: sampleTrial(runID: 1, seq: 1, transport: "sse", ttfaMs: 1))
        ).map(\.name)
        let sql = try await SQLiteStore(path: temporaryDatabase()).columns(of: "trials")
        #expect(Set(columns).subtracting(sql) == ["new_metric_ns"])
        #expect(try Self.documented("trials", order: columns).anywhere.contains("new_metric_ns") == false)
    }
}
