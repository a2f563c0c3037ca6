import DialectSpec
import Foundation
import Testing

@Suite("JSONSkim: validates like a parser, reads top-level strings")
struct JSONSkimTests {
    /// Whatever the skim accepts, Foundation's parser accepts as an object with the same values.
    func agrees(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) {
        let keys = ["type", "delta", "response_id"]
        let skim = JSONSkim.strings(text, keys: keys)
        let parsed = (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any]
        if let skim {
            #expect(
                parsed != nil, "the skim accepted what the parser rejects: \(text.prefix(80))",
                sourceLocation: sourceLocation)
            for key in keys {
                #expect(
                    skim[key] == parsed?[key] as? String, "\(key) of \(text.prefix(80))", sourceLocation: sourceLocation
                )
            }
        }
    }

    @Test func anAudioDeltaIsReadWithoutParsingItWhole() {
        let delta = String(repeating: "QUJD", count: 1600)
        let text =
            #"{"type":"response.output_audio.delta","event_id":"event_1","response_id":"resp_1","item_id":"item_1","output_index":0,"content_index":0,"delta":"\#(delta)"}"#
        #expect(
            JSONSkim.strings(text, keys: ["type", "delta", "response_id"]) == [
                "type": "response.output_audio.delta", "delta": delta, "response_id": "resp_1",
            ])
        #expect(JSONSkim.type(#"  {"a": {"type": "inner"}, "type" : "outer"} "#) == "outer")
        #expect(JSONSkim.type(#"{"a":[1,-2.5e+3,true,false,null,{"b":"\u00e9\n"}]}"#) == nil)
        agrees(text)
    }

    @Test func whatAParserRejectsTheSkimRejects() {
        let bad = [
            "", "[]", "\"x\"", "{", "}", "{\"type\":\"a\"", "{\"type\":\"a\",}", "{\"type\" \"a\"}", "{type:\"a\"}",
            "{\"type\":\"a\"} x", "{\"a\":01}", "{\"a\":1.}", "{\"a\":.5}", "{\"a\":tru}", "{\"a\":\"\\x\"}",
            "{\"a\":\"\\u12\"}",
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
        let text =
            #"{"type":"response.output_audio.delta","response_id":"resp_1","delta":"AAEC","n":[1,2.5,-3e2,{"x":null}],"ok":true}"#
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

@Suite("JSONSkim paths: a chat.completion.chunk read like a parser reads it")
struct JSONSkimPathTests {
    let paths: [[JSONSkim.Step]] = [
        [.key("error")], [.key("choices")], [.key("id")],
        [.key("choices"), .index(0), .key("delta"), .key("audio"), .key("data")],
    ]

    @Test func theAudioOfTheFirstChoiceIsFound() throws {
        let chunk =
            #"{"id":"chatcmpl-1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"audio":{"data":"AAEC"}},"finish_reason":null},{"delta":{"audio":{"data":"ZZZZ"}}}]}"#
        let found = try #require(JSONSkim.values(chunk, paths: paths))
        #expect(
            found[0] == nil && found[1] == .array && found[2] == .string("chatcmpl-1") && found[3] == .string("AAEC"))
        // Kinds are told apart, escapes left to a parser, a second choice never taken for the first.
        let other = try #require(
            JSONSkim.values(
                #"{"error":{"message":"x"},"choices":{},"id":"a\nb","x":[{"delta":{"audio":{"data":"no"}}}]}"#,
                paths: paths))
        #expect(other[0] == .object && other[1] == .object && other[2] == .other && other[3] == nil)
        #expect(JSONSkim.values(#"{"choices":[{"delta":{"audio":{"data":"AA"}}}]"#, paths: paths) == nil)
    }

    @Test func mutatedChunksNeverSlipThrough() {
        let chunk = #"{"id":"c1","choices":[{"delta":{"audio":{"data":"AAEC","transcript":"hi"}},"n":[1,2.5,null]}]}"#
        let bytes = Array(chunk.utf8)
        for index in bytes.indices {
            for replacement in Array("\"{}[],:0a\\ ".utf8) + [nil] {
                var changed = bytes
                if let replacement { changed[index] = replacement } else { changed.remove(at: index) }
                let text = String(decoding: changed, as: UTF8.self)
                guard let found = JSONSkim.values(text, paths: paths) else { continue }
                let parsed = (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any]
                #expect(parsed != nil, "the skim accepted what the parser rejects: \(text)")
                let data = (((parsed?["choices"] as? [Any])?.first as? [String: Any])?["delta"] as? [String: Any])
                    .flatMap { ($0["audio"] as? [String: Any])?["data"] as? String }
                if case .string(let value) = found[3] { #expect(value == data, "\(text)") }
            }
        }
    }
}
