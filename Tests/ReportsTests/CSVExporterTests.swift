import Reports
import Testing
import TestSupport

@Suite("CSV export")
struct CSVExporterTests {
    @Test func fieldsAreQuotedPerRFC4180() {
        #expect(CSVExporter.quote("plain") == "plain")
        #expect(CSVExporter.quote("a,b") == "\"a,b\"")
        #expect(CSVExporter.quote("say \"hi\"") == "\"say \"\"hi\"\"\"")
        #expect(CSVExporter.quote("two\nlines") == "\"two\nlines\"")
    }

    @Test func formulaLikeTextIsNeutralised() {
        for text in ["=HYPERLINK(\"x\")", "+1", "-cmd", "@SUM(A1)", "\tx", "\rx"] {
            #expect(CSVExporter.neutralize(text) == "'" + text)
        }
        #expect(CSVExporter.neutralize("ok") == "ok")
    }

    @Test func headerHasTheDocumentedColumnsWithUnits() {
        let header = CSVExporter.header
        #expect(header.hasSuffix("\r\n"))
        for column in ["run_id", "transport", "recording", "trial", "warmup", "status", "error_kind", "ttfa_ms"] {
            #expect(CSVExporter.columns.contains(column))
        }
        #expect(CSVExporter.columns.filter { $0.hasSuffix("_ns") }.isEmpty, "units in names are ms")
    }
}
