import Reports
import TestSupport
import Testing

@Suite("CSV export")
struct CSVRendererTests {
    @Test func fieldsAreQuotedPerRFC4180() {
        #expect(CSVRenderer.quote("plain") == "plain")
        #expect(CSVRenderer.quote("a,b") == "\"a,b\"")
        #expect(CSVRenderer.quote("say \"hi\"") == "\"say \"\"hi\"\"\"")
        #expect(CSVRenderer.quote("two\nlines") == "\"two\nlines\"")
    }

    @Test func formulaLikeTextIsNeutralised() {
        for text in ["=HYPERLINK(\"x\")", "+1", "-cmd", "@SUM(A1)", "\tx", "\rx"] {
            #expect(CSVRenderer.neutralize(text) == "'" + text)
        }
        #expect(CSVRenderer.neutralize("ok") == "ok")
    }

    @Test func headerHasTheDocumentedColumnsWithUnits() {
        let header = CSVRenderer.header
        #expect(header.hasSuffix("\r\n"))
        for column in ["run_id", "transport", "recording", "trial", "warmup", "status", "error_kind", "ttfa_ms"] {
            #expect(CSVRenderer.columns.contains(column))
        }
        #expect(CSVRenderer.columns.filter { $0.hasSuffix("_ns") }.isEmpty, "units in names are ms")
    }
}
