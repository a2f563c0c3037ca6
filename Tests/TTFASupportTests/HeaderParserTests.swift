import TTFASupport
import Testing
import VoiceTransport

@Suite("--header parsing")
struct HeaderParserTests {
    @Test func variablesExpandFromTheEnvironment() throws {
        let env = ["KEY": "sk-1", "ORG": "org-2"]
        #expect(
            try HeaderParser.parse("Authorization: Bearer $KEY", environment: env) == ("Authorization", "Bearer sk-1"))
        #expect(try HeaderParser.parse("X-Org:${ORG}-x", environment: env) == ("X-Org", "org-2-x"))
        #expect(try HeaderParser.parse("X-Price: 5$", environment: env) == ("X-Price", "5$"))
    }

    @Test func unsetVariableIsAnInputErrorNamingIt() {
        #expect {
            try HeaderParser.parse("Authorization: Bearer $NOPE_NOT_SET", environment: [:])
        } throws: { error in
            (error as? TransportError)?.kind == .input && "\(error)".contains("NOPE_NOT_SET")
        }
    }

    @Test func malformedHeadersAreInputErrors() {
        #expect(throws: TransportError.self) { try HeaderParser.parse("no colon here", environment: [:]) }
        #expect(throws: TransportError.self) { try HeaderParser.parse("bad name: v", environment: [:]) }
    }
}
