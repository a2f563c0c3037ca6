import Testing
import Harness

@Suite("Ordered JSON output")
struct JSONValueTests {
    @Test func keysKeepTheirOrderAndStringsAreEscaped() {
        let value = JSONValue.object([("t_ms", .ms(1_234_567)), ("type", "a\"b\n\u{1}"), ("n", nil), ("xs", .array([1, 2.5, true]))])
        #expect(value.serialized() == #"{"t_ms":1.235,"type":"a\"b\n\u0001","n":null,"xs":[1,2.5,true]}"#)
    }
}
