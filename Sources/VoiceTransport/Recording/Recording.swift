import Foundation

/// A recorded utterance: PCM16 mono 24 kHz samples plus where the speech lies in them.
public struct Recording: Sendable, Equatable {
    /// Short name used in results (the file name without directory).
    public var name: String
    /// PCM16 little-endian samples.
    public var pcm: [UInt8]
    /// Annotated start of speech, ms from the start of the file (0 when unknown).
    public var speechStartMs: Int
    /// Annotated end of speech, ms (the end of the file when unknown).
    public var speechEndMs: Int

    public init(name: String, pcm: [UInt8], speechStartMs: Int? = nil, speechEndMs: Int? = nil) {
        self.name = name
        self.pcm = pcm
        let duration = pcm.count * 1000 / (WAVFile.sampleRate * WAVFile.bytesPerSample)
        self.speechStartMs = speechStartMs ?? 0
        self.speechEndMs = speechEndMs ?? duration
    }

    /// Loads a WAV file.
    /// - Throws: `TransportError(.input)` naming the file when it is missing, unreadable or not
    ///   PCM16 mono 24 kHz.
    public init(contentsOf path: String, speechStartMs: Int? = nil, speechEndMs: Int? = nil) throws(TransportError) {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw TransportError(.input, "\(path): no such file; give --audio a WAV file (PCM16, mono, 24000 Hz)")
        }
        guard !isDirectory.boolValue else {
            throw TransportError(.input, "\(path): is a directory; give --audio a WAV file (repeat --audio for several)")
        }
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw TransportError(.input, "\(path): cannot be read (\(error.localizedDescription)); check its permissions")
        }
        let pcm = try WAVFile.decode(Array(data), name: path)
        self.init(name: URL(fileURLWithPath: path).lastPathComponent, pcm: pcm, speechStartMs: speechStartMs, speechEndMs: speechEndMs)
    }

    /// Duration of the whole recording, nanoseconds.
    public var durationNs: Int64 {
        Int64(pcm.count) * 1_000_000_000 / Int64(WAVFile.sampleRate * WAVFile.bytesPerSample)
    }

    public var durationMs: Double { durationNs.asMilliseconds }

    /// The recording cut into `chunkMs` pieces as a microphone would deliver them; the last
    /// piece may be shorter. Chunk k is due k × chunkMs after the start of the replay.
    public func chunks(chunkMs: Int) -> [[UInt8]] {
        precondition(chunkMs > 0)
        let size = WAVFile.sampleRate * WAVFile.bytesPerSample * chunkMs / 1000
        return stride(from: 0, to: pcm.count, by: size).map { Array(pcm[$0..<min($0 + size, pcm.count)]) }
    }
}
