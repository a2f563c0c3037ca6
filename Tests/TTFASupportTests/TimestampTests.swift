import Foundation
import TTFASupport
import Testing

@Suite("Stored timestamps")
struct TimestampTests {
    @Test func aWrittenTimestampReadsBackToTheMillisecond() throws {
        let date = Date(timeIntervalSince1970: 1_796_000_000.123_4)
        let text = Timestamp.iso8601(date)
        #expect(text == "2026-11-30T00:53:20.123Z")
        let read = try #require(Timestamp.parse(text))
        #expect(abs(read.timeIntervalSince1970 - 1_796_000_000.123) < 1e-6)
    }

    @Test func aTimestampWithoutAFractionAndOneThatIsNotAreTold() {
        #expect(Timestamp.parse("2026-11-30T00:53:20Z")?.timeIntervalSince1970 == 1_796_000_000)
        #expect(Timestamp.parse("yesterday") == nil)
        #expect(Timestamp.parse("") == nil)
    }
}
