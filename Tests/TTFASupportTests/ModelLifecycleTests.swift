import Foundation
import TTFASupport
import Testing

@Suite("Model lifecycle")
struct ModelLifecycleTests {
    func day(_ text: String) -> Date { ISO8601DateFormatter().date(from: text + "T12:00:00Z")! }

    @Test func aModelNearOrPastItsShutdownWarns() {
        #expect(
            ModelLifecycle.warning(for: "gpt-realtime", on: day("2026-11-27"), flag: "--ws-model")?.contains(
                "shuts down on 2027-01-20, in 53 days") == true)
        #expect(
            ModelLifecycle.warning(for: "gpt-4o-audio-preview-2025-06-03", on: day("2026-11-27"), flag: "--sse-model")?
                .contains("was shut down on 2026-05-07") == true)
        #expect(
            ModelLifecycle.warning(for: "gpt-realtime", on: day("2026-06-01"), flag: "--ws-model") == nil,
            "more than 90 days ahead")
        #expect(ModelLifecycle.warning(for: "gpt-audio", on: day("2026-11-27"), flag: "--sse-model") == nil)
        #expect(
            ModelLifecycle.model(inURL: "wss://api.openai.com/v1/realtime?model=gpt-realtime-mini")
                == "gpt-realtime-mini")
    }
}
