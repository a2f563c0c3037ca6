import DialectSpec
import Foundation
import VoiceTransport

/// The dialects ttfa knows by name — the two in code (OpenAI Realtime, Chat Completions), and
/// the dialect files that ship with it (`Resources/dialects/`: the same two as files, and
/// OpenAI's streamed text-to-speech) — and loading a dialect by name or path.
package enum DialectCatalog {
    package struct Entry: Sendable {
        package var name: String
        package var transport: String
        /// The file, for the shipped files; nil for the built-in code.
        package var path: String?
        package var summary: String
    }

    /// Folder of the shipped dialect files (nil when they are not beside the executable).
    package static var directory: URL? {
        try? ResourceLocator.directory(.dialects)
    }

    /// Everything `ttfa dialects` lists.
    package static func entries() -> [Entry] {
        // Every transport's built-in dialect (in code), then the shipped files.
        var entries = TransportKind.all.map { kind in
            Entry(
                name: kind.builtInDialect, transport: kind.rawValue, path: nil,
                summary: "built in (code): what \(kind) speaks unless --dialect \(kind)=FILE is given")
        }
        for path in shippedFiles() {
            guard let file = try? DialectFile(contentsOf: path) else { continue }
            entries.append(
                Entry(name: file.name, transport: file.transport.rawValue, path: path, summary: file.description ?? ""))
        }
        return entries
    }

    static func shippedFiles() -> [String] {
        guard let directory, let names = try? FileManager.default.contentsOfDirectory(atPath: directory.path) else {
            return []
        }
        return names.filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".json") }.sorted().map {
            directory.appendingPathComponent($0).path
        }
    }

    /// A dialect file by path, or a shipped one by name (`openai-tts`).
    /// - Throws: `TransportError(.input)` with the file, the field and what to do.
    package static func load(_ nameOrPath: String, flag: String) throws(TransportError) -> DialectFile {
        var path = nameOrPath
        if !FileManager.default.fileExists(atPath: path), !path.contains("/"),
            let shipped = shippedFiles().first(where: {
                URL(fileURLWithPath: $0).deletingPathExtension().lastPathComponent == nameOrPath
            })
        {
            path = shipped
        }
        guard FileManager.default.fileExists(atPath: path) else {
            if !nameOrPath.contains("/") {
                do {
                    _ = try ResourceLocator.directory(.dialects)
                } catch {
                    throw TransportError(
                        .input,
                        "\(flag) \(nameOrPath): no such file, and the shipped dialects cannot be looked up: \(error.message)"
                    )
                }
            }
            let names = entries().filter { $0.path != nil }.map(\.name).joined(separator: ", ")
            throw TransportError(
                .input, "\(flag) \(nameOrPath): no such file, and not a shipped dialect (\(names)); see ttfa dialects")
        }
        do {
            return try DialectFile(contentsOf: path)
        } catch {
            throw TransportError(.input, "\(flag) \(error.description)")
        }
    }
}
