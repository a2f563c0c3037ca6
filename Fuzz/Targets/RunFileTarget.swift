import TTFASupport

/// The run-file reader (`ttfa run --config`, YAML or JSON): any text gives options, each with
/// a key and a line, or a message naming the file.
package enum RunFileTarget: FuzzTarget {
    package static let name = "run-file"
    package static let summary = "RunFileParser.entries: YAML/JSON run files into options"

    static let options: Set<String> = [
        "trials", "warmup", "transport", "audio", "threshold", "thresholds", "json", "seed", "label", "link",
        "ws-url", "sse-url", "url", "header", "concurrency", "rate", "duration", "ramp-up", "timeout", "db",
    ]

    package static func run(_ input: [UInt8]) {
        let text = String(decoding: input, as: UTF8.self)
        do {
            let entries = try RunFileParser.entries(text, path: "fuzz.yaml", optionNames: options)
            for entry in entries {
                require(entry.flag.hasPrefix("--"), "an option without dashes: \(entry.flag)")
            }
        } catch {
            require(error.message.hasPrefix("fuzz.yaml"), "a refusal that does not name the file: \(error.message)")
        }
    }
}
