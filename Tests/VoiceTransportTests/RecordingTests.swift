import Foundation
import Testing

@testable import VoiceTransport

@Suite("WAV recordings")
struct RecordingTests {
    static func wav(
        format: UInt16 = 1, channels: UInt16 = 1, rate: UInt32 = 24_000, bits: UInt16 = 16,
        pcm: [UInt8] = [1, 0, 2, 0], dataSize: UInt32? = nil, extraChunk: Bool = false
    ) -> [UInt8] {
        func le32(_ v: UInt32) -> [UInt8] {
            [UInt8(v & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v >> 16 & 0xFF), UInt8(v >> 24)]
        }
        func le16(_ v: UInt16) -> [UInt8] { [UInt8(v & 0xFF), UInt8(v >> 8)] }
        var fmt = Array("fmt ".utf8) + le32(16) + le16(format) + le16(channels) + le32(rate)
        fmt += le32(rate * UInt32(channels) * UInt32(bits / 8)) + le16(channels * bits / 8) + le16(bits)
        let list = extraChunk ? Array("LIST".utf8) + le32(3) + [1, 2, 3, 0] : []
        let data = Array("data".utf8) + le32(dataSize ?? UInt32(pcm.count)) + pcm
        let body = Array("WAVE".utf8) + fmt + list + data
        return Array("RIFF".utf8) + le32(UInt32(body.count)) + body
    }

    @Test func decodesPCM16MonoAndSkipsOtherChunks() throws {
        #expect(try WAVFile.decode(Self.wav(extraChunk: true), name: "a.wav") == [1, 0, 2, 0])
    }

    @Test func encodeThenDecodeRoundTrips() throws {
        let pcm = (0..<480).map { UInt8($0 & 0xFF) }
        #expect(try WAVFile.decode(WAVFile.encode(pcm: pcm), name: "x") == pcm)
    }

    @Test(
        arguments: [
            (Self.wav(rate: 16_000), "16000 Hz, not 24000 Hz"),
            (Self.wav(channels: 2), "2 channels, not mono"),
            (Self.wav(bits: 8), "8-bit samples, not 16-bit"),
            (Self.wav(format: 3, bits: 32), "encoding is 32-bit float, not PCM"),
            (Self.wav(dataSize: 1000), "truncated"),
            (Self.wav(pcm: []), "holds no audio"),
            (Array("ID3\u{3}mp3 data here".utf8), "not a WAV file"),
            ([], "the file is empty"),
            (Array(Self.wav().prefix(20)), "truncated fmt chunk"),
        ] as [([UInt8], String)])
    func unusableFilesAreInputErrorsThatSayWhatIsWrong(bytes: [UInt8], expected: String) {
        #expect {
            try WAVFile.decode(bytes, name: "speech.wav")
        } throws: { error in
            guard let error = error as? TransportError else { return false }
            return error.kind == .input && error.message.contains("speech.wav") && error.message.contains(expected)
                && error.message.contains("24000 Hz")
        }
    }

    @Test func missingFileNamesThePath() {
        #expect(throws: TransportError.self) { try Recording(contentsOf: "/definitely/not/here.wav") }
    }

    @Test func anEmptyFileIsRefusedWithItsName() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("empty-\(UUID()).wav").path
        #expect(FileManager.default.createFile(atPath: path, contents: Data()))
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect {
            try Recording(contentsOf: path)
        } throws: { error in
            let error = try #require(error as? TransportError)
            return error.kind == .input
                && error.message == "\(path): is empty (0 bytes); give --audio an audio file (WAV, FLAC, MP3 or Ogg)"
        }
    }

    @Test func chunksCoverTheRecordingInOrder() {
        let recording = Recording(name: "r", pcm: (0..<(48 * 125)).map { UInt8($0 & 0xFF) })  // 125 ms
        let chunks = recording.chunks(chunkMs: 50)
        #expect(chunks.map(\.count) == [2400, 2400, 1200])
        #expect(chunks.flatMap { $0 } == recording.pcm)
        #expect(recording.durationNs == 125_000_000)
        #expect(recording.speechEndMs == 125)
    }
}
