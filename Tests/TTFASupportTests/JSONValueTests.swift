import Foundation
import TTFASupport
import Testing

@Suite("Ordered JSON output")
struct JSONValueTests {
    @Test func keysKeepTheirOrderAndStringsAreEscaped() {
        let value = JSONValue.object([
            ("t_ms", .ms(1_234_567)), ("type", "a\"b\n\u{1}"), ("n", nil), ("xs", .array([1, 2.5, true])),
        ])
        #expect(value.serialized() == #"{"t_ms":1.235,"type":"a\"b\n\u0001","n":null,"xs":[1,2.5,true]}"#)
    }
}

@Suite("JSONValue from parsed JSON")
struct JSONValueFromAnyTests {
    @Test func numbersBooleansAndNestedValuesKeepTheirTypes() throws {
        let parsed = try JSONSerialization.jsonObject(
            with: Data(#"{"b":true,"i":3,"d":1.5,"s":"x","a":[false,2]}"#.utf8))
        #expect(JSONValue(any: parsed).serialized() == #"{"a":[false,2],"b":true,"d":1.5,"i":3,"s":"x"}"#)
        #expect(
            JSONValue(any: ["n": 7, "f": 0.25, "t": true] as [String: Any]).serialized()
                == #"{"f":0.25,"n":7,"t":true}"#)
    }
}
