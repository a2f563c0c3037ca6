import CSndFile
import Foundation
import Replay
import SpeechDetection
import StorageSQLite
import TestSupport
import Testing
import VoiceTransport

/// Writes mono 24 kHz PCM16 as another file: resampled (libsoxr), copied to `channels`
/// channels, encoded by libsndfile in `format`.
func writeAudio(_ pcm: [UInt8], to path: String, rate: Int, channels: Int, format: Int32) throws {
    var mono = [Float]()
    for i in stride(from: 0, to: pcm.count - 1, by: 2) {
        mono.append(Float(Int16(bitPattern: UInt16(pcm[i]) | UInt16(pcm[i + 1]) << 8)) / 32768)
    }
    let samples = rate == 24000 ? mono : try AudioDecoder.resample(mono, from: 24000, to: rate)
    var interleaved = [Float]()
    for sample in samples { for _ in 0..<channels { interleaved.append(sample) } }
    var info = SF_INFO(
        frames: 0, samplerate: Int32(rate), channels: Int32(channels), format: format, sections: 0, seekable: 0)
    let file = try #require(
        sf_open(path, Int32(SFM_WRITE), &info), "libsndfile cannot write \(path): \(String(cString: sf_strerror(nil)))")
    _ = interleaved.withUnsafeBufferPointer { sf_writef_float(file, $0.baseAddress, sf_count_t(samples.count)) }
    sf_close(file)
}

@Suite("Recordings as people have them", .serialized)
struct AudioFormatTests {
    @Test func anMP3AndAFLACReplayLikeTheWAVTheyCameFrom() async throws {
        let scratch = try Scratch()
        let dir = scratch.directory.path
        let wav = try #require(BundledRecordings.load().first { $0.name == "short.wav" })
        let wavPath = "\(dir)/short.wav"
        let mp3 = "\(dir)/short.mp3"
        let flac = "\(dir)/short.flac"
        try Data(WAVFile.encode(pcm: wav.pcm)).write(to: URL(fileURLWithPath: wavPath))
        try writeAudio(
            wav.pcm, to: mp3, rate: 44100, channels: 2, format: Int32(SF_FORMAT_MPEG | SF_FORMAT_MPEG_LAYER_III))
        try writeAudio(wav.pcm, to: flac, rate: 16000, channels: 1, format: Int32(SF_FORMAT_FLAC | SF_FORMAT_PCM_16))

        let reference = try Recording(contentsOf: wavPath)
        #expect(reference.source == nil, "PCM16 mono 24 kHz is taken as it is")
        let referenceEnd = try #require(EnergyVAD.lastSpeechEndMs(reference.pcm))
        for path in [mp3, flac] {
            let decoded = try Recording(contentsOf: path)
            let source = try #require(decoded.source)
            let end = try #require(EnergyVAD.lastSpeechEndMs(decoded.pcm))
            print(
                "\(decoded.name): \(source.format), \(source.sampleRate) Hz × \(source.channels) → \(source.conversion); duration \(decoded.durationMs) ms (WAV \(reference.durationMs)), end of speech \(end) ms (WAV \(referenceEnd))"
            )
            #expect(
                abs(decoded.durationMs - reference.durationMs) <= 50, "\(decoded.name) lasts \(decoded.durationMs) ms")
            #expect(abs(end - referenceEnd) <= 50, "\(decoded.name): speech ends at \(end) ms")
            #expect(source.conversion.contains("→ 24000 Hz (libsoxr"))
        }
        #expect(try Recording(contentsOf: mp3).source?.conversion.contains("2 channels mixed down") == true)

        // Replayed: every format measured from its own end of speech, as the WAV (the server
        // answers 100 ms after it, so no TTFA can be less).
        try "name: fixed\nfirst_audio_ms: {fixed: 100}\nanswer: {audio_ms: 200, delta_ms: 100, real_time_factor: 0}\n"
            .write(toFile: "\(dir)/p.yaml", atomically: true, encoding: .utf8)
        let run = try await ttfa([
            "run", "--audio", wavPath, "--audio", mp3, "--audio", flac, "--trials", "2", "--warmup", "1",
            "--transport", "websocket,sse", "--profile", "\(dir)/p.yaml", "--link", "loopback",
            "--db", scratch.database, "--lag-budget-ms", "1000", "--json", "--quiet",
        ])
        #expect(run.status == 0, "\(run.stderr)")
        let summary = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
        for t in try #require(summary["transports"] as? [[String: Any]]) {
            let p50s = (t["recordings"] as? [[String: Any]] ?? []).compactMap {
                ($0["ttfa_ms"] as? [String: Any])?["p50"] as? Double
            }
            #expect(p50s.count == 3 && p50s.allSatisfy { $0 >= 100 }, "\(t["transport"] ?? ""): \(p50s)")
        }
        let config = try #require(try await SQLiteStore(path: scratch.database, create: false).latestRun()?.configJSON)
        #expect(config.contains("\"sample_rate\":44100") && config.contains("MPEG"))
    }

    @Test func aFileThatIsNotAudioExits2SayingWhatWasFound() async throws {
        let scratch = try Scratch()
        let fake = "\(scratch.directory.path)/notes.wav"
        try "these are meeting notes, not audio".write(toFile: fake, atomically: true, encoding: .utf8)
        let result = try await ttfa(["run", "--audio", fake, "--db", scratch.database])
        #expect(
            result.status == 2 && result.stderr.contains("notes.wav: not an audio file ttfa can read"),
            "\(result.stderr)")
    }

    @Test func aSidecarAnnotatesTheSpeech() throws {
        let scratch = try Scratch()
        try #"{"speech_start_ms": 120, "speech_end_ms": 480}"#.write(
            toFile: scratch.audio + ".json", atomically: true, encoding: .utf8)
        let recording = try Recording(contentsOf: scratch.audio)
        #expect(recording.speechStartMs == 120 && recording.speechEndMs == 480)
    }
}
