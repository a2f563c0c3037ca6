import Foundation
import VoiceTransport

/// The recordings that ship with ttfa (espeak-ng speech, PCM16 mono 24 kHz): about 1 s, 4 s
/// and 10 s, with their annotated speech start and end (`Resources/recordings/manifest.json`).
package enum BundledRecordings {
    struct Manifest: Decodable {
        struct Entry: Decodable {
            var file: String
            var speech_start_ms: Int
            var speech_end_ms: Int
        }
        var recordings: [Entry]
    }

    /// Loads every bundled recording, shortest first.
    /// - Throws: `TransportError(.input)` when they are not beside the executable (saying where
    ///   it looked) or a file is unreadable.
    package static func load() throws(TransportError) -> [Recording] {
        let directory = try ResourceLocator.directory(.recordings)
        let manifestURL = directory.appendingPathComponent("manifest.json")
        let manifest: Manifest
        do {
            manifest = try JSONDecoder().decode(Manifest.self, from: Data(contentsOf: manifestURL))
        } catch {
            throw TransportError(.input, "\(manifestURL.path): unreadable recordings manifest (\(error))")
        }
        return try manifest.recordings.map { (entry) throws(TransportError) -> Recording in
            try Recording(
                contentsOf: directory.appendingPathComponent(entry.file).path,
                speechStartMs: entry.speech_start_ms,
                speechEndMs: entry.speech_end_ms
            )
        }
    }

    /// The names of the bundled recordings (`short.wav`, `medium.wav`, `long.wav`).
    package static let names = ["short.wav", "medium.wav", "long.wav"]

    /// `--audio PATH`: the file at `path`, or — when there is none and `path` is a bare name —
    /// the bundled recording of that name (`short.wav`, or `short`), with its annotations.
    package static func recording(_ path: String) throws(TransportError) -> Recording {
        let name = path.hasSuffix(".wav") ? path : path + ".wav"
        if !FileManager.default.fileExists(atPath: path), !path.contains("/"), names.contains(name) {
            guard let bundled = try load().first(where: { $0.name == name }) else {
                throw TransportError(.input, "--audio \(path): the bundled recordings' manifest does not list \(name)")
            }
            return bundled
        }
        return try Recording(contentsOf: path)
    }
}
