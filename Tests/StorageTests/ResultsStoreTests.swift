import Foundation
import GRDB
import Testing
import TestSupport
@testable import Storage
@testable import StorageSQLite
@testable import TTFASupport
import VoiceTransport

@Suite("Results database")
struct ResultsStoreTests {
    @Test func runsAndTrialsRoundTrip() throws {
        let store = try SQLiteStore(path: temporaryDatabase())
        let run = try store.createRun(sampleRun())
        let id = try #require(run.id)
        try store.insertTrial(sampleTrial(runID: id, seq: 1, transport: "websocket", ttfaMs: 400),
                              events: [TrialEventRecord(trialID: 0, seq: 0, tNs: 5, kind: "audio", value: 4800, detail: nil)])
        try store.insertTrial(sampleTrial(runID: id, seq: 2, transport: "sse", ttfaMs: 1000), events: [])
        try store.finishRun(id: id, status: "complete", endedAt: "2026-01-01T00:01:00Z")
        #expect(try store.run(id: id)?.status == "complete")
        let trials = try store.trials(runID: id)
        #expect(trials.map(\.transport) == ["websocket", "sse"])
        #expect(try store.events(trialID: trials[0].id!).map(\.kind) == ["audio"])
        #expect(try store.integrityCheck() == "ok")
    }

    @Test func severalWritersCreatingOneNewDatabaseAtOnceAllSucceed() throws {
        for _ in 0..<5 {
            let path = temporaryDatabase()
            let failures = LockedBox<[String]>([])
            DispatchQueue.concurrentPerform(iterations: 4) { _ in
                do {
                    let store = try SQLiteStore(path: path)
                    _ = try store.createRun(sampleRun())
                } catch {
                    failures.withLock { $0.append("\(error)") }
                }
            }
            #expect(failures.withLock { $0 }.isEmpty)
            #expect(try SQLiteStore(path: path).runs().count == 4)
        }
    }

    @Test func pragmasAreSetOnEveryConnection() throws {
        let path = temporaryDatabase()
        _ = try SQLiteStore(path: path)
        let queue = try DatabaseQueue(path: path)
        #expect(try queue.read { try String.fetchOne($0, sql: "PRAGMA journal_mode") } == "wal")
    }

    @Test func aDatabaseFromANewerTTFAIsRefused() throws {
        let path = temporaryDatabase()
        _ = try SQLiteStore(path: path)
        let queue = try DatabaseQueue(path: path)
        try queue.write { try $0.execute(sql: "INSERT INTO grdb_migrations (identifier) VALUES ('v99-from-the-future')") }
        #expect {
            try SQLiteStore(path: path)
        } throws: { error in
            let message = "\(error)"
            return (error as? TransportError)?.kind == .input && message.contains("newer ttfa") && message.contains(path)
        }
    }

    @Test func unwritableLocationIsAnInputErrorNamingThePath() {
        #expect {
            try SQLiteStore(path: "/proc/ttfa-cannot-write-here/results.sqlite")
        } throws: { error in
            (error as? TransportError)?.kind == .input && "\(error)".contains("/proc/ttfa-cannot-write-here")
        }
    }

    @Test func notADatabaseIsAnInputError() throws {
        let path = temporaryDatabase()
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try Data("this is not sqlite, just text that is long enough to be a header........".utf8).write(to: URL(fileURLWithPath: path))
        #expect(throws: TransportError.self) { try SQLiteStore(path: path) }
    }
}
