import Foundation
import FuzzTargets
import Testing

/// Every committed input — the seed corpora and every finding kept as a regression — replayed
/// through its target in the normal build: a parser change that brings back a crash, or breaks
/// a target's invariant, fails here before anyone fuzzes again.
@Suite struct FuzzCorpusTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()

    static func inputs(_ folder: String, _ target: String) -> [URL] {
        let directory = root.appendingPathComponent(folder).appendingPathComponent(target)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return names.sorted().filter { !$0.hasPrefix(".") }.map { directory.appendingPathComponent($0) }
    }

    @Test(arguments: FuzzTargets.all.map { $0.name })
    func everySeedAndRegressionInputRunsThrough(_ name: String) throws {
        let target = try #require(FuzzTargets.named(name))
        let seeds = Self.inputs("corpus", name)
        #expect(seeds.count >= 3, "Fuzz/corpus/\(name) holds \(seeds.count) seeds")
        for file in seeds + Self.inputs("regressions", name) {
            target.run(Array(try Data(contentsOf: file)))
        }
    }

    @Test func everyCorpusFolderBelongsToATarget() throws {
        for folder in ["corpus", "regressions", "dictionaries"] {
            let names =
                (try? FileManager.default.contentsOfDirectory(atPath: Self.root.appendingPathComponent(folder).path))
                ?? []
            for name in names {
                let target = name.replacingOccurrences(of: ".dict", with: "")
                #expect(FuzzTargets.named(target) != nil, "Fuzz/\(folder)/\(name) names no fuzz target")
            }
        }
    }

    @Test func theNetworkSplitCutsTheWholePayloadIntoSeveralPieces() {
        // The split targets compare a stream read whole with the same bytes in pieces: the
        // pieces must be the payload, in order, and more than one.
        for seed in [0, 7, 255] as [UInt8] {
            let input: [UInt8] = [seed] + Array(repeating: Array("data: a\n\n".utf8), count: 25).flatMap { $0 }
            let (payload, pieces) = chunked(input)
            #expect(payload == Array(input.dropFirst()))
            #expect(Array(pieces.joined()) == payload)
            #expect(pieces.count >= 200 / 64)
        }
    }

    @Test func theInterpretersTargetReachesEveryBundledDialectFile() {
        // Run from the package root (as swift test and scripts/fuzz do): the bundled files load.
        #expect(InterpretersTarget.dialects.map(\.name).sorted().count == 3)
    }
}
