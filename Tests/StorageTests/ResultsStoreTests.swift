import Foundation
import GRDB
import TestSupport
import Testing
import VoiceTransport

@testable import Storage
@testable import StorageSQLite
@testable import TTFASupport

@Suite("Results database")
struct ResultsStoreTests {
    @Test func runsAndTrialsRoundTrip() async throws {
        let store = try SQLiteStore(path: temporaryDatabase())
        let run = try await store.createRun(sampleRun())
        let id = try #require(run.id)
        try await store.insertTrial(
            sampleTrial(runID: id, seq: 1, transport: "websocket", ttfaMs: 400),
            events: [TrialEventRecord(trialID: 0, seq: 0, tNs: 5, kind: "audio", value: 4800, detail: nil)])
        var failed = sampleTrial(runID: id, seq: 2, transport: "sse", ttfaMs: nil, status: .failed(.httpStatus))
        failed.startLateNs = 1_500_000
        try await store.insertTrial(failed, events: [])
        try await store.finishRun(id: id, status: .complete, endedAt: "2026-01-01T00:01:00Z")
        #expect(try await store.run(id: id)?.status == .complete)
        let trials = try await store.trials(runID: id)
        #expect(trials.map(\.transport) == ["websocket", "sse"])
        // Every column comes back as written: typed statuses, nulls, the newest columns.
        #expect(
            trials[1].status == .failed(.httpStatus) && trials[1].errorKind == .httpStatus
                && trials[1].startLateNs == 1_500_000)
        var expected = failed
        expected.id = trials[1].id
        #expect(trials[1] == expected)
        #expect(try await store.events(trialID: trials[0].id!).map(\.kind) == ["audio"])
        #expect(try await store.integrityCheck() == "ok")
    }

    /// Between a monitor's rounds the store lets go of its caches and idle readers; what was
    /// stored stays, and the next round reads and writes as before.
    @Test func aStoreThatReleasedItsMemoryKeepsWorking() async throws {
        let store = try SQLiteStore(path: temporaryDatabase())
        let id = try #require(try await store.createRun(sampleRun()).id)
        try await store.insertTrial(sampleTrial(runID: id, seq: 1, transport: "websocket", ttfaMs: 400), events: [])
        #expect(try await store.trials(runID: id).count == 1)
        await store.releaseMemory()
        try await store.insertTrial(sampleTrial(runID: id, seq: 2, transport: "sse", ttfaMs: 500), events: [])
        #expect(try await store.trials(runID: id).map(\.seq) == [1, 2])
        await store.releaseMemory()
        #expect(try await store.integrityCheck() == "ok")
    }

    @Test func statusesAreStoredAsTheirWords() async throws {
        let path = temporaryDatabase()
        let store = try SQLiteStore(path: path)
        let run = try await store.createRun(sampleRun())
        try await store.insertTrial(
            sampleTrial(runID: run.id!, seq: 1, transport: "sse", ttfaMs: nil, status: .failed(.noAudio)), events: [])
        try await store.insertTrial(
            sampleTrial(runID: run.id!, seq: 2, transport: "sse", ttfaMs: nil, status: .invalid), events: [])
        let queue = try DatabaseQueue(path: path)
        let statuses = try await queue.read { db in
            try String.fetchAll(db, sql: "SELECT status FROM trials ORDER BY seq")
        }
        let kinds = try await queue.read { db in
            try String?.fetchAll(db, sql: "SELECT error_kind FROM trials ORDER BY seq")
        }
        #expect(statuses == ["no_audio", "invalid"])
        #expect(kinds == ["no_audio", nil])
        #expect(try await queue.read { db in try String.fetchOne(db, sql: "SELECT status FROM runs") } == "running")
    }

    @Test func severalWritersCreatingOneNewDatabaseAtOnceAllSucceed() async throws {
        for _ in 0..<5 {
            let path = temporaryDatabase()
            let failures = LockedBox<[String]>([])
            DispatchQueue.concurrentPerform(iterations: 4) { _ in
                do {
                    _ = try SQLiteStore(path: path)
                } catch {
                    failures.withLock { $0.append("\(error)") }
                }
            }
            #expect(failures.withLock { $0 }.isEmpty)
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<4 {
                    group.addTask { _ = try await SQLiteStore(path: path).createRun(sampleRun()) }
                }
                try await group.waitForAll()
            }
            #expect(try await SQLiteStore(path: path).runs().count == 4)
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
        try queue.write {
            try $0.execute(sql: "INSERT INTO grdb_migrations (identifier) VALUES ('v99-from-the-future')")
        }
        #expect {
            try SQLiteStore(path: path)
        } throws: { error in
            let message = "\(error)"
            return (error as? StoreError)?.kind == .unavailable && message.contains("newer ttfa")
                && message.contains("v99-from-the-future")
                && message.contains(path)
        }
    }

    @Test func unwritableLocationIsUnavailableNamingThePath() {
        #expect {
            try SQLiteStore(path: "/proc/ttfa-cannot-write-here/results.sqlite")
        } throws: { error in
            (error as? StoreError)?.kind == .unavailable && "\(error)".contains("/proc/ttfa-cannot-write-here")
        }
    }

    @Test func notADatabaseIsUnavailable() throws {
        let path = temporaryDatabase()
        try FileManager.default.createDirectory(
            atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try Data("this is not sqlite, just text that is long enough to be a header........".utf8).write(
            to: URL(fileURLWithPath: path))
        #expect {
            try SQLiteStore(path: path)
        } throws: { error in
            (error as? StoreError)?.kind == .unavailable && "\(error)".contains(path)
        }
    }

    @Test func aMissingFileIsNotCreatedByAReader() {
        let path = temporaryDatabase()
        #expect(throws: StoreError.self) { try SQLiteStore(path: path, create: false) }
        #expect(!FileManager.default.fileExists(atPath: path))
    }

    @Test func aFailedWriteIsAStoreErrorNamingTheStore() async throws {
        let path = temporaryDatabase()
        let store = try SQLiteStore(path: path)
        // A trial of a run that does not exist breaks the foreign key.
        await #expect {
            try await store.insertTrial(sampleTrial(runID: 999, seq: 1, transport: "sse", ttfaMs: 1), events: [])
        } throws: { error in
            (error as? StoreError)?.kind == .failed && "\(error)".contains(path)
        }
    }

    @Test func copyCarriesRunsTrialsTimelinesAndSeries() async throws {
        let (source, run) = try await storedRun(transports: ["websocket": [400, 410, nil], "sse": [900, 950, 990]])
        try await source.insertSeries([
            SeriesRecord(
                runID: run.id!, transport: "sse", second: 1, offered: 2, started: 2, late: 0, active: 1,
                completed: 1, ok: 1, errors: 0, invalid: 0, ttfaP50Ns: 900_000_000,
                ttfaP99Ns: 900_000_000, maxSendLagNs: 10)
        ])
        let destination = try SQLiteStore(path: temporaryDatabase())
        _ = try await destination.createRun(sampleRun())  // ids differ after the copy
        let copied = try await ResultsStores.copy(from: source, to: destination)
        #expect(copied.map(\.0) == [run.id!] && copied.map(\.1) == [2])
        let newRun = try #require(try await destination.run(id: 2))
        #expect(newRun.status == .complete && newRun.configJSON == run.configJSON)
        let before = try await source.trials(runID: run.id!)
        let after = try await destination.trials(runID: 2)
        #expect(after.count == before.count)
        for (a, b) in zip(before, after) {
            var moved = a
            moved.id = b.id
            moved.runID = 2
            #expect(moved == b)
            #expect(try await source.events(trialID: a.id!).map(\.tNs) == destination.events(trialID: b.id!).map(\.tNs))
        }
        #expect(try await destination.series(runID: 2).map(\.ttfaP50Ns) == [900_000_000])
    }
}
