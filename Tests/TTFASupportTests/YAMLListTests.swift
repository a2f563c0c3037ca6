import Testing

@testable import TTFASupport

/// The thresholds file reader: a list, or the list under its key; anything else a message.
@Suite struct YAMLListTests {
    @Test func readsAListOrTheListUnderItsKey() throws {
        #expect(try YAMLList.strings("- a < 1ms\n- b < 2ms\n", key: "thresholds") == ["a < 1ms", "b < 2ms"])
        #expect(try YAMLList.strings(#"{"thresholds": ["a", "b"]}"#, key: "thresholds") == ["a", "b"])
        #expect(try YAMLList.strings(#"["x"]"#, key: "thresholds") == ["x"])
    }

    @Test(arguments: [
        // A mapping key that is itself a mapping: Yams' load crashed on it (fuzz finding).
        ("e\" 94d \"sesholds:\n\n? <=thresholds:", "a key that is not a name"),
        ("? [a, b]\n: c\n", "a key that is not a name"),
        ("thresholds: [a]\nother: 1\n", "unknown key 'other'"),
        ("- [nested]\n", "item 1 is not a string but a list"),
        ("- {a: b}\n", "item 1 is not a string but a mapping"),
        ("just text", "expected a list of strings"),
        ("[unclosed", "not YAML or JSON"),
    ])
    func refusesWhatIsNotAListOfStrings(_ text: String, _ message: String) {
        #expect {
            try YAMLList.strings(text, key: "thresholds")
        } throws: { error in
            (error as? YAMLList.Failure)?.message.contains(message) == true
        }
    }
}
