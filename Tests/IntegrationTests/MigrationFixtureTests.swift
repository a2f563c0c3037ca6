import Foundation
import GRDB
import TestSupport
import Testing

/// A results database written by ttfa 0.2.0 (the last release before the one-schema
/// migration `v6-database-version`), with three runs — every transport, failed trials, an open
/// model with its time series and a load group — and what 0.2.0 printed for it. The current
/// ttfa migrates a copy and must read it the same: every report, list and export identical
/// (the CSV gains `start_late_ms`, which 0.2.0's export lacked, at the end of each row).
@Suite("An old database reads the same")
struct MigrationFixtureTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/databases")

    /// The fixture copied to a scratch folder as `work.sqlite` (the name 0.2.0's outputs
    /// carry), and what 0.2.0 printed.
    static func workingCopy() throws -> (directory: URL, golden: (String) throws -> String) {
        let scratch = try Scratch()
        try FileManager.default.copyItem(
            at: fixtures.appendingPathComponent("v0.2.0.sqlite"),
            to: scratch.directory.appendingPathComponent("work.sqlite"))
        let golden = { (name: String) throws -> String in
            try String(contentsOf: fixtures.appendingPathComponent("v0.2.0/\(name)"), encoding: .utf8)
        }
        return (scratch.directory, golden)
    }

    @Test(arguments: [1, 2, 3])
    func reportsAreUnchanged(run: Int) async throws {
        let (directory, golden) = try Self.workingCopy()
        for (format, suffix) in [("json", "json"), ("table", "txt"), ("markdown", "md")] {
            let result = try await ttfa(
                ["report", "--db", "work.sqlite", "--run", String(run), "--format", format], currentDirectory: directory
            )
            #expect(result.status == 0, "\(result.stderr)")
            let expected = try golden("report-\(run).\(suffix)")
            #expect(result.stdout == expected, "report --run \(run) --format \(format) differs from 0.2.0's")
        }
    }

    @Test func theRunListAndTheLoadGroupAreUnchanged() async throws {
        let (directory, golden) = try Self.workingCopy()
        let table = try await ttfa(["runs", "--db", "work.sqlite"], currentDirectory: directory)
        let runsText = try golden("runs.txt")
        let runsJSON = try golden("runs.json")
        let groupJSON = try golden("group.json")
        #expect(table.status == 0 && table.stdout == runsText, "\(table.stdout)\(table.stderr)")
        let json = try await ttfa(["runs", "--db", "work.sqlite", "--json"], currentDirectory: directory)
        #expect(json.stdout == runsJSON)
        let group = try await ttfa(
            ["report", "--db", "work.sqlite", "--group", "fixture-load", "--format", "json"],
            currentDirectory: directory)
        #expect(group.status == 0 && group.stdout == groupJSON, "\(group.stderr)")
    }

    @Test func theExportIsUnchangedButForTheColumnItLacked() async throws {
        let (directory, golden) = try Self.workingCopy()
        let result = try await ttfa(["export", "--db", "work.sqlite", "--all"], currentDirectory: directory)
        #expect(result.status == 0, "\(result.stderr)")
        let old = try golden("export-all.csv").components(separatedBy: "\r\n")
        let new = result.stdout.components(separatedBy: "\r\n")
        #expect(old.count == new.count)
        // Columns added since 0.2.0, all at the end: the open model's late start (0.3.0) and
        // webrtc's set-up phases and playout (empty for these runs).
        let added = [
            "start_late_ms", "secret_ms", "offer_answer_ms", "ice_ms", "dtls_ms", "datachannel_ms", "first_rtp_ms",
            "playout_ms",
        ]
        #expect(new.first == old.first.map { $0 + "," + added.joined(separator: ",") })
        for (before, after) in zip(old.dropFirst(), new.dropFirst()) where !before.isEmpty {
            // The added cells end the row (quoted cells never end a row here: they are numbers or empty).
            var cut = Substring(after)
            for _ in added { cut = cut.lastIndex(of: ",").map { cut[..<$0] } ?? cut }
            #expect(String(cut) == before)
            #expect(after.hasSuffix(",,,,,,,"), "no webrtc phases in a 0.2.0 run")
        }
        // The open-model run's rows carry how late each session started.
        #expect(
            new.contains {
                let cells = $0.split(separator: ",", omittingEmptySubsequences: false)
                return $0.hasPrefix("3,") && cells.count > added.count && !cells[cells.count - added.count].isEmpty
            })
    }

    @Test func theMigrationRenamesTheVersionColumnAndKeepsItsValues() async throws {
        let (directory, _) = try Self.workingCopy()
        let database = directory.appendingPathComponent("work.sqlite").path
        func sql(_ query: String) throws -> [String] {
            try DatabaseQueue(path: database).read { db in try String.fetchAll(db, sql: query) }
        }
        let before = try sql("SELECT sqlite_version FROM runs ORDER BY id")
        #expect(!before.isEmpty)
        _ = try await ttfa(["runs", "--db", "work.sqlite"], currentDirectory: directory)
        #expect(try sql("SELECT database_version FROM runs ORDER BY id") == before)
        #expect(try sql("SELECT identifier FROM grdb_migrations ORDER BY identifier").contains("v6-database-version"))
        #expect(try sql("SELECT identifier FROM grdb_migrations ORDER BY identifier").last == "v7-webrtc")
    }
}
