import Foundation
import VoiceTransport

/// The recordings that ship with ttfa (espeak-ng speech, PCM16 mono 24 kHz): about 1 s, 4 s
/// and 10 s, with their annotated speech start and end (`Resources/recordings/manifest.json`).
public enum BundledRecordings {
    struct Manifest: Decodable {
        struct Entry: Decodable {
            var file: String
            var speech_start_ms: Int
            var speech_end_ms: Int
        }
        var recordings: [Entry]
    }

    /// Folder holding the bundled WAV files.
    public static var directory: URL? {
        Bundle.module.url(forResource: "recordings", withExtension: nil)
    }

    /// Loads every bundled recording, shortest first.
    public static func load() throws(TransportError) -> [Recording] {
        guard let directory else {
            throw TransportError(.input, "the bundled recordings are missing next to the ttfa executable (\(Bundle.module.bundlePath)); rebuild with swift build, or pass --audio FILE")
        }
        let manifestURL = directory.appendingPathComponent("manifest.json")
        let manifest: Manifest
        do {
            manifest = try JSONDecoder().decode(Manifest.self, from: Data(contentsOf: manifestURL))
        } catch {
            throw TransportError(.input, "\(manifestURL.path): unreadable recordings manifest (\(error))")
        }
        return try manifest.recordings.map { (entry) throws(TransportError) in
            try Recording(
                contentsOf: directory.appendingPathComponent(entry.file).path,
                speechStartMs: entry.speech_start_ms,
                speechEndMs: entry.speech_end_ms
            )
        }
    }
}
