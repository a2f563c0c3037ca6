import Foundation
import VoiceTransport

/// Parses `--header 'Name: value'` arguments. `$VAR` and `${VAR}` in the value expand from the
/// environment (so keys stay out of shell history); every resulting value is a secret.
package enum HeaderParser {
    /// - Parameter flag: the option the header came from, for messages (`--ws-header` …).
    package static func parse(
        _ raw: String, flag: String = "--header", environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws(TransportError) -> (name: String, value: String) {
        guard let colon = raw.firstIndex(of: ":") else {
            throw TransportError(
                .input,
                "\(flag) \"\(raw.prefix(40))…\" has no colon; write it as \(flag) 'Name: value' (for example \(flag) 'Authorization: Bearer $OPENAI_API_KEY')"
            )
        }
        let name = raw[..<colon].trimmingCharacters(in: .whitespaces)
        guard !name.isEmpty, name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-_".contains($0)) }) else {
            throw TransportError(
                .input, "\(flag) has an invalid name \"\(name)\"; header names are letters, digits and dashes")
        }
        let template = raw[raw.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        return (name, try expand(template, environment: environment, headerName: name, flag: flag))
    }

    static func expand(_ template: String, environment: [String: String], headerName: String, flag: String = "--header")
        throws(TransportError) -> String
    {
        var result = ""
        var index = template.startIndex
        while index < template.endIndex {
            let character = template[index]
            guard character == "$" else {
                result.append(character)
                index = template.index(after: index)
                continue
            }
            var cursor = template.index(after: index)
            var name = ""
            if cursor < template.endIndex, template[cursor] == "{" {
                cursor = template.index(after: cursor)
                while cursor < template.endIndex, template[cursor] != "}" {
                    name.append(template[cursor])
                    cursor = template.index(after: cursor)
                }
                guard cursor < template.endIndex else {
                    throw TransportError(.input, "\(flag) \(headerName): unterminated ${ in the value")
                }
                cursor = template.index(after: cursor)
            } else {
                while cursor < template.endIndex,
                    template[cursor].isLetter || template[cursor].isNumber || template[cursor] == "_"
                {
                    name.append(template[cursor])
                    cursor = template.index(after: cursor)
                }
            }
            if name.isEmpty {
                result.append("$")
                index = template.index(after: index)
                continue
            }
            guard let value = environment[name] else {
                throw TransportError(
                    .input,
                    "\(flag) \(headerName) uses $\(name), which is not set in the environment; export it first (export \(name)=…)"
                )
            }
            result += value
            index = cursor
        }
        return result
    }
}
