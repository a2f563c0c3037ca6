import Foundation
import VoiceTransport
import Yams

/// Reads a run file (`ttfa run --config ttfa.yaml`, YAML or JSON) into options: top-level keys
/// are `ttfa run`'s long options without the dashes, a list repeats the option, a section per
/// transport takes `url`, `header(s)`, `model`, `voice`, `profile` and `dialect` for it. Each
/// option keeps the key and line it came from, so the command line's parser can trace a
/// complaint back to them. Pure: the caller reads the file and knows the option names.
package enum RunFileParser {
    package struct Entry: Sendable, Equatable {
        package var flag: String
        /// nil for a flag without a value (`json: true`).
        package var value: String?
        package var key: String
        package var line: Int
        /// What a command-line option must match to override this entry: the flag, with its
        /// transport for the per-transport ones (`--url sse`).
        package var overrideKey: String {
            (value.flatMap(RunFileParser.transportPrefix).map { "\(flag) \($0)" }) ?? flag
        }
    }

    /// The keys of a transport's section, each an option and how its value is written: the
    /// first transport of an option group keeps the group's flags (`websocket:` → `--ws-url`,
    /// `sse:` → `--sse-header`, as run files have always meant), the others take the generic
    /// per-transport ones (`sse-stream:` → `--url sse-stream=…`).
    package static func section(_ kind: TransportKind) -> [String: (flag: String, prefix: String)] {
        if let prefix = kind.legacyOptionPrefix, prefix == kind.optionGroup {
            let keys = ["url", "header", "model", "voice", "profile", "dialect"]
            return Dictionary(
                uniqueKeysWithValues: keys.map { ($0, ("--\(prefix)-\($0)", "")) } + [
                    ("headers", ("--\(prefix)-header", ""))
                ])
        }
        return [
            "url": ("--url", "\(kind)="), "header": ("--header", "\(kind):"), "headers": ("--header", "\(kind):"),
            "model": ("--model", "\(kind)="),
            "voice": ("--voice", "\(kind)="), "profile": ("--profile", "\(kind)="),
            "dialect": ("--dialect", "\(kind)="),
        ]
    }

    /// The transport a per-transport value names (`sse=…`, `sse:Name: value`), if any.
    package static func transportPrefix(_ value: String) -> String? {
        guard let end = value.firstIndex(where: { $0 == "=" || $0 == ":" }),
            let kind = TransportKind(rawValue: String(value[..<end]))
        else { return nil }
        return kind.rawValue
    }
    package static let aliases = ["headers": "header", "recordings": "audio"]

    /// The file's options, in order, each with its key and line; `optionNames` are the long
    /// options a key may name.
    package static func entries(_ text: String, path: String, optionNames: Set<String>) throws(CheckError) -> [Entry] {
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch {
            throw CheckError("\(path): not YAML or JSON (\(error))")
        }
        guard let root, let mapping = root.mapping else {
            throw CheckError("\(path): a run file is a mapping of options, e.g. 'trials: 10' (see ttfa run --help)")
        }
        func fail(_ node: Node, _ key: String, _ why: String) -> CheckError {
            CheckError("\(path):\((node.mark?.line).map(String.init) ?? "?"): \(key): \(why)")
        }
        var entries: [Entry] = []
        func add(_ flag: String, _ key: String, _ node: Node, prefix: String = "") throws(CheckError) {
            let line = node.mark?.line ?? 0
            switch node {
            case .scalar(let scalar):
                if prefix.isEmpty, let flagValue = Bool(scalar.string), scalar.style == .plain,
                    ["true", "false"].contains(scalar.string)
                {
                    if flagValue { entries.append(Entry(flag: flag, value: nil, key: key, line: line)) }
                } else {
                    entries.append(Entry(flag: flag, value: prefix + scalar.string, key: key, line: line))
                }
            case .sequence(let items):
                for item in items {
                    guard case .scalar(let scalar) = item else {
                        throw fail(item, key, "a list of values, not nested lists or mappings")
                    }
                    entries.append(
                        Entry(flag: flag, value: prefix + scalar.string, key: key, line: item.mark?.line ?? line))
                }
            default:
                throw fail(node, key, "a value or a list of values, not a mapping")
            }
        }
        for (keyNode, value) in mapping {
            guard let key = keyNode.string else { throw fail(keyNode, "?", "keys are option names") }
            if let kind = TransportKind(rawValue: key) {
                let section = section(kind)
                guard let inner = value.mapping else {
                    throw fail(value, key, "a section: url, header(s), model, voice, profile, dialect")
                }
                for (innerKey, innerValue) in inner {
                    let name = innerKey.string ?? "?"
                    guard let option = section[name] else {
                        throw fail(
                            innerKey, "\(key).\(name)",
                            "unknown key; \(key) takes \(section.keys.sorted().joined(separator: ", "))")
                    }
                    try add(option.flag, "\(key).\(name)", innerValue, prefix: option.prefix)
                }
                continue
            }
            if key == "config" { throw fail(keyNode, key, "a run file cannot include another") }
            if key == "thresholds", value.sequence != nil {
                try add("--threshold", key, value)
                continue
            }
            let name = aliases[key] ?? key
            guard optionNames.contains(name) else {
                throw fail(
                    keyNode, key,
                    "unknown key; keys are ttfa run's options without the dashes (\(optionNames.sorted().prefix(60).joined(separator: ", "))) and a section per transport (\(TransportKind.all.map(\.rawValue).joined(separator: ", ")))"
                )
            }
            try add("--" + name, key, value)
        }
        return entries
    }
}
