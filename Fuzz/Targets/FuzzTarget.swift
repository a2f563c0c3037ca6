import Foundation

/// One thing ttfa parses from strangers, driven by arbitrary bytes. `run` must return for every
/// input; a crash, a hang, a sanitizer report or a broken invariant (`require`) is a finding.
package protocol FuzzTarget {
    /// The name `make fuzz TARGET=…` and the corpus folder use.
    static var name: String { get }
    /// What the target drives, for `ttfa-fuzz --list`.
    static var summary: String { get }
    static func run(_ input: [UInt8])
}

/// Every fuzz target, in the order `make fuzz-smoke` runs them.
package enum FuzzTargets {
    package static var all: [any FuzzTarget.Type] {
        [
            SSEParserTarget.self, WebSocketFramesTarget.self, HTTPResponseHeadTarget.self, JSONSkimTarget.self,
            InterpretersTarget.self, DialectFileTarget.self, RunFileTarget.self, AudioFileTarget.self,
            CheckFilesTarget.self,
        ]
    }

    package static func named(_ name: String) -> (any FuzzTarget.Type)? {
        all.first { $0.name == name }
    }
}

/// A broken invariant is a finding: stop with a message libFuzzer records beside the input.
package func require(_ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String) {
    if !condition() { fatalError("invariant broken: \(message())") }
}

/// Splits input into the pieces a network might deliver: the first byte seeds the cut points,
/// the rest is the payload. Returns the payload and its pieces.
package func chunked(_ input: [UInt8]) -> (payload: [UInt8], pieces: [ArraySlice<UInt8>]) {
    guard let seed = input.first else { return ([], []) }
    let payload = Array(input.dropFirst())
    var pieces: [ArraySlice<UInt8>] = []
    var state = UInt32(seed) &* 2_654_435_761 | 1
    var start = 0
    while start < payload.count {
        state ^= state << 13
        state ^= state >> 17
        state ^= state << 5
        let length = 1 + Int(state % 64)
        let end = min(payload.count, start + length)
        pieces.append(payload[start..<end])
        start = end
    }
    return (payload, pieces)
}

/// Writes `bytes` to a file of its own (per process) for the parsers that read files, and
/// returns its path.
package func scratchFile(_ bytes: [UInt8], suffix: String) -> String {
    let folder = ProcessInfo.processInfo.environment["TTFA_FUZZ_SCRATCH"] ?? NSTemporaryDirectory()
    let path = (folder as NSString).appendingPathComponent("ttfa-fuzz-\(getpid())\(suffix)")
    _ = FileManager.default.createFile(atPath: path, contents: Data(bytes))
    return path
}
