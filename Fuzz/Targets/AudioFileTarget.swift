import DialectSpec
import Foundation
import VoiceTransport

/// The audio front end: the WAV header and chunk walker (ttfa's own, for the exact PCM16 path,
/// and the container check), then libsndfile for everything else — any bytes as a recording
/// give PCM16 audio or a message naming the file.
package enum AudioFileTarget: FuzzTarget {
    package static let name = "audio"
    package static let summary = "WAVFile.decode, WAVContainer.parse, Recording(contentsOf:) through libsndfile"

    package static func run(_ input: [UInt8]) {
        _ = try? WAVFile.decode(input, name: "fuzz.wav")
        _ = try? WAVContainer.parse(input)
        let path = scratchFile(input, suffix: ".audio")
        defer { unlink(path) }
        do {
            let recording = try Recording(contentsOf: path)
            require(recording.pcm.count % 2 == 0, "PCM16 audio with an odd byte count")
        } catch {
            require(error.message.contains(path), "a refusal that does not name the file: \(error.message)")
        }
    }
}
