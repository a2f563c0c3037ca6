import Foundation
import GRDB
import TestSupport
import Testing

@testable import StorageSQLite

/// `ttfa db check` as a user runs it on a SQLite file: healthy, damaged, not a database, missing.
@Suite("ttfa db check")
struct DatabaseCheckTests {
    @Test func aHealthyStoreSaysSoAndExitsZero() async throws {
        let (store, _) = try await storedRun(transports: ["websocket": [300, 310], "sse": [400, nil]])
        let result = try await ttfa(["db", "check", "--db", store.path])
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("integrity: ok") && result.stdout.contains("trials:    4"))
        #expect(result.stdout.hasSuffix("\(store.path): healthy\n"))
    }

    /// Pages overwritten on disk: SQLite's own check finds them and the command exits 1 saying so.
    @Test func aDamagedFileIsNotHealthy() async throws {
        let (store, _) = try await storedRun(transports: ["websocket": Array(repeating: 300, count: 400)])
        let queue = try DatabaseQueue(path: store.path)
        try await queue.writeWithoutTransaction { try $0.checkpoint(.truncate) }
        let size = try #require(try FileManager.default.attributesOfItem(atPath: store.path)[.size] as? Int)
        #expect(size > 16 * 4096, "enough pages to damage some")
        let file = try #require(FileHandle(forUpdatingAtPath: store.path))
        for page in [3, 5, 8] {
            try file.seek(toOffset: UInt64(page * 4096))
            try file.write(contentsOf: Data(repeating: 0xA5, count: 512))
        }
        try file.close()
        let result = try await ttfa(["db", "check", "--db", store.path])
        #expect(result.status == 1, "\(result.stdout)\(result.stderr)")
        #expect((result.stdout + result.stderr).contains("NOT healthy"))
    }

    @Test func aFileThatIsNotADatabaseIsNotHealthy() async throws {
        let scratch = try Scratch()
        let path = scratch.directory.appendingPathComponent("notes.sqlite").path
        try Data(String(repeating: "not a database at all. ", count: 200).utf8).write(to: URL(fileURLWithPath: path))
        let result = try await ttfa(["db", "check", "--db", path])
        #expect(result.status == 1 && result.stderr.contains(path) && result.stderr.contains("NOT healthy"))
    }

    @Test func aMissingFileIsAUsageErrorAndIsNotCreated() async throws {
        let scratch = try Scratch()
        let path = scratch.directory.appendingPathComponent("nothing-here.sqlite").path
        let result = try await ttfa(["db", "check", "--db", path])
        #expect(result.status == 2 && result.stderr.contains(path), "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: path))
    }
}
