import Foundation

/// A recorded utterance: PCM16 mono 24 kHz samples plus where the speech lies in them.
package struct Recording: Sendable, Equatable {
    /// Short name used in results (the file name without directory).
    package var name: String
    /// PCM16 little-endian samples.
    package var pcm: [UInt8]
    /// Annotated start of speech, ms from the start of the file (0 when unknown).
    package var speechStartMs: Int
    /// Annotated end of speech, ms (the end of the file when unknown).
    package var speechEndMs: Int
    /// The file's own format and what was done to it, when it was not PCM16 mono 24 kHz WAV.
    package var source: AudioSource?

    package init(name: String, pcm: [UInt8], speechStartMs: Int? = nil, speechEndMs: Int? = nil) {
        self.name = name
        self.pcm = pcm
        let duration = pcm.count * 1000 / (WAVFile.sampleRate * WAVFile.bytesPerSample)
        self.speechStartMs = speechStartMs ?? 0
        self.speechEndMs = speechEndMs ?? duration
    }

    /// Loads an audio file: PCM16 mono 24 kHz WAV as it is; anything else libsndfile reads
    /// (WAV at other rates, depths or channel counts, FLAC, MP3, Ogg) decoded, mixed down and
    /// resampled to it (`AudioDecoder`). A sidecar `FILE.json` with `speech_start_ms` and
    /// `speech_end_ms` annotates where the speech lies.
    /// - Throws: `TransportError(.input)` naming the file when it is missing, unreadable or not audio.
    package init(contentsOf path: String, speechStartMs: Int? = nil, speechEndMs: Int? = nil) throws(TransportError) {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw TransportError(.input, "\(path): no such file; give --audio an audio file (WAV, FLAC, MP3 or Ogg)")
        }
        guard !isDirectory.boolValue else {
            throw TransportError(
                .input, "\(path): is a directory; give --audio an audio file (repeat --audio for several)")
        }
        // An empty file is refused before it is read (and Foundation's reader leaks a buffer on
        // one: found by the `audio` fuzz target).
        if let size = (try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber, size == 0 {
            throw TransportError(
                .input, "\(path): is empty (0 bytes); give --audio an audio file (WAV, FLAC, MP3 or Ogg)")
        }
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw TransportError(
                .input, "\(path): cannot be read (\(error.localizedDescription)); check its permissions")
        }
        let pcm: [UInt8]
        var source: AudioSource?
        if let exact = try? WAVFile.decode(Array(data), name: path) {
            pcm = exact
        } else {
            (pcm, source) = try AudioDecoder.decode(path: path)
        }
        let sidecar = Self.sidecar(for: path)
        self.init(
            name: URL(fileURLWithPath: path).lastPathComponent, pcm: pcm,
            speechStartMs: speechStartMs ?? sidecar?.start, speechEndMs: speechEndMs ?? sidecar?.end)
        self.source = source
    }

    /// `FILE.json` beside the recording: `{"speech_start_ms": 150, "speech_end_ms": 3854}`.
    static func sidecar(for path: String) -> (start: Int?, end: Int?)? {
        guard let data = FileManager.default.contents(atPath: path + ".json"),
            let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any]
        else { return nil }
        return (object["speech_start_ms"] as? Int, object["speech_end_ms"] as? Int)
    }

    /// Duration of the whole recording, nanoseconds.
    package var durationNs: Int64 {
        Int64(pcm.count) * 1_000_000_000 / Int64(WAVFile.sampleRate * WAVFile.bytesPerSample)
    }

    package var durationMs: Double { durationNs.asMilliseconds }

    /// The recording cut into `chunkMs` pieces as a microphone would deliver them; the last
    /// piece may be shorter. Chunk k is due k × chunkMs after the start of the replay.
    package func chunks(chunkMs: Int) -> [[UInt8]] {
        precondition(chunkMs > 0)
        let size = WAVFile.sampleRate * WAVFile.bytesPerSample * chunkMs / 1000
        return stride(from: 0, to: pcm.count, by: size).map { Array(pcm[$0..<min($0 + size, pcm.count)]) }
    }
}
