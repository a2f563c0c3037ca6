import Foundation
import RunSession
import Storage
import VoiceTransport

/// A fresh temporary folder with a recording (`tone.wav`, 300 ms) and where a database goes.
package struct Scratch: Sendable {
    package let directory: URL
    package var database: String { directory.appendingPathComponent("results/ttfa.sqlite").path }
    package var audio: String { directory.appendingPathComponent("tone.wav").path }

    package init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("ttfa-run-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try Data(WAVFile.encode(pcm: shortRecording.pcm)).write(to: URL(fileURLWithPath: audio))
    }

    /// Every byte of every file under the folder (database, WAL, exports).
    package func allFileContents() throws -> Data {
        var all = Data()
        let enumerator = FileManager.default.enumerator(at: directory, includingPropertiesForKeys: nil)!
        while let url = enumerator.nextObject() as? URL {
            if let data = try? Data(contentsOf: url) { all.append(data) }
        }
        return all
    }
}

/// `ttfa run` arguments for a quick run on the scratch recording with the instant profile.
/// The lag budget is generous: these tests check behaviour, and parallel tests (or a build)
/// on a 2-core machine can delay the replay; the lag rule itself is unit-tested.
package func quickRun(_ scratch: Scratch, trials: Int = 2, extra: [String] = []) -> [String] {
    [
        "run", "--trials", String(trials), "--warmup", "0", "--audio", scratch.audio, "--db", scratch.database,
        "--profile", "instant",
        "--link", "loopback", "--lag-budget-ms", "1000",
    ] + extra
}

/// 300 ms of a 200 Hz tone: short turns, enough for the Realtime 100 ms commit rule.
package let shortRecording: Recording = {
    var pcm: [UInt8] = []
    for n in 0..<(24_000 * 3 / 10) {
        let sample = Int16(8000 * sin(2 * Double.pi * 200 * Double(n) / 24_000))
        pcm += [UInt8(truncatingIfNeeded: sample), UInt8(truncatingIfNeeded: sample >> 8)]
    }
    return Recording(name: "tone-300ms", pcm: pcm)
}()

/// Waits (polling the database read-only) until `count` trials of the latest run are stored.
/// - Throws: `CocoaError` naming the count and the wait when they are not there in time.
package func waitForTrials(_ count: Int, in database: String, timeout: Double = 60) async throws {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        let stored = try? await ResultsStores.withStore(database, create: false) { store -> Int in
            guard let id = try await store.latestRun()?.id else { return 0 }
            return try await store.trials(runID: id).count
        }
        if let stored, stored >= count { return }
        try await Task.sleep(for: .milliseconds(100))
    }
    throw CocoaError(
        .fileReadUnknown,
        userInfo: [NSLocalizedDescriptionKey: "fewer than \(count) trials stored within \(timeout) s in \(database)"])
}
