import Foundation
import Testing
import DialectSpec

@Suite("JSONSkim: validates like a parser, reads top-level strings")
struct JSONSkimTests {
    /// Whatever the skim accepts, Foundation's parser accepts as an object with the same values.
    func agrees(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) {
        let keys = ["type", "delta", "response_id"]
        let skim = JSONSkim.strings(text, keys: keys)
        let parsed = (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any]
        if let skim {
            #expect(parsed != nil, "the skim accepted what the parser rejects: \(text.prefix(80))", sourceLocation: sourceLocation)
            for key in keys { #expect(skim[key] == parsed?[key] as? String, "\(key) of \(text.prefix(80))", sourceLocation: sourceLocation) }
        }
    }

    @Test func anAudioDeltaIsReadWithoutParsingItWhole() {
        let delta = String(repeating: "QUJD", count: 1600)
        let text = #"{"type":"response.output_audio.delta","event_id":"event_1","response_id":"resp_1","item_id":"item_1","output_index":0,"content_index":0,"delta":"\#(delta)"}"#
        #expect(JSONSkim.strings(text, keys: ["type", "delta", "response_id"]) == ["type": "response.output_audio.delta", "delta": delta, "response_id": "resp_1"])
        #expect(JSONSkim.type(#"  {"a": {"type": "inner"}, "type" : "outer"} "#) == "outer")
        #expect(JSONSkim.type(#"{"a":[1,-2.5e+3,true,false,null,{"b":"\u00e9\n"}]}"#) == nil)
        agrees(text)
    }

    @Test func whatAParserRejectsTheSkimRejects() {
        let bad = [
            "", "[]", "\"x\"", "{", "}", "{\"type\":\"a\"", "{\"type\":\"a\",}", "{\"type\" \"a\"}", "{type:\"a\"}",
            "{\"type\":\"a\"} x", "{\"a\":01}", "{\"a\":1.}", "{\"a\":.5}", "{\"a\":tru}", "{\"a\":\"\\x\"}", "{\"a\":\"\\u12\"}",
            "{\"a\":\"tab\there\"}", "{\"a\":[1,]}", "{\"a\":[1 2]}", "{\"a\":-}", "{\"a\":1e}", "{,}", "{\"a\":{}}}",
        ]
        for text in bad {
            #expect(JSONSkim.strings(text, keys: ["type"]) == nil, "accepted \(text)")
            agrees(text)
        }
        // Values that need decoding are left to the parser.
        #expect(JSONSkim.strings(#"{"type":"a\/b"}"#, keys: ["type"]) == nil)
        #expect(JSONSkim.strings(#"{"type":3}"#, keys: ["type"]) == nil)
        #expect(JSONSkim.strings(#"{"other":"a\/b","type":"t"}"#, keys: ["type"]) == ["type": "t"])
    }

    @Test func mutatedMessagesNeverSlipThrough() {
        // Every one-byte deletion and a set of one-byte replacements of a real message.
        let text = #"{"type":"response.output_audio.delta","response_id":"resp_1","delta":"AAEC","n":[1,2.5,-3e2,{"x":null}],"ok":true}"#
        let bytes = Array(text.utf8)
        for index in bytes.indices {
            var deleted = bytes
            deleted.remove(at: index)
            agrees(String(decoding: deleted, as: UTF8.self))
            for replacement in Array("\"{}[],:0a\\ ".utf8) {
                var changed = bytes
                changed[index] = replacement
                agrees(String(decoding: changed, as: UTF8.self))
            }
        }
    }
}
