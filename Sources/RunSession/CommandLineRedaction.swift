import VoiceTransport

/// Masks secrets in the command line before it is stored.
package enum CommandLineRedaction {
    /// Flags whose values are request headers (secrets): `--header`, and each option group's
    /// and candidate's alias.
    static var headerFlags: [String] {
        ["--header"] + Set(TransportKind.all.map { "--\($0.optionGroup)-header" }).sorted()
    }

    package static func redacted(_ arguments: [String], redactor: SecretRedactor) -> String {
        var out: [String] = []
        var maskNext = false
        for argument in arguments {
            var shown = argument
            if maskNext {
                shown = maskHeader(argument)
                maskNext = false
            } else if headerFlags.contains(argument) {
                maskNext = true
            } else if let flag = headerFlags.first(where: { argument.hasPrefix($0 + "=") }) {
                shown = flag + "=" + maskHeader(String(argument.dropFirst(flag.count + 1)))
            } else if argument.contains("://") {
                if let equals = argument.firstIndex(of: "="), argument.hasPrefix("--") {
                    shown =
                        String(argument[...equals])
                        + redactor.redactURL(String(argument[argument.index(after: equals)...]))
                } else {
                    shown = redactor.redactURL(argument)
                }
            }
            shown = redactor.redact(shown)
            out.append(
                shown.contains(where: { " '\"$\\".contains($0) })
                    ? "'" + shown.replacingOccurrences(of: "'", with: "'\\''") + "'" : shown)
        }
        return out.joined(separator: " ")
    }

    static func maskHeader(_ header: String) -> String {
        guard let colon = header.firstIndex(of: ":") else { return SecretRedactor.mask }
        return String(header[...colon]) + " " + SecretRedactor.mask
    }
}
