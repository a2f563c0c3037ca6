import Foundation
import TestSupport
import Testing

@Suite("ttfa baseline and compare", .serialized)
struct CompareCommandTests {
    /// The same samples are unchanged; a server 100 ms slower regresses (a margin no busy machine
    /// erodes: the slower run cannot be faster than its server's 200 ms). Whether two runs of
    /// the same code come out unchanged is a property of the statistics (RegressionCheckTests),
    /// not something a test on a shared machine can measure.
    @Test func theSameSamplesAreUnchangedASlowerServerRegressesAndEveryOutputIsReadable() async throws {
        let scratch = try Scratch()
        let dir = scratch.directory.path
        for (name, ms) in [("p100", 100), ("p200", 200)] {
            try
                "name: fixed\nfirst_audio_ms: {fixed: \(ms)}\nanswer: {audio_ms: 200, delta_ms: 100, real_time_factor: 0}\n"
                .write(toFile: "\(dir)/\(name).yaml", atomically: true, encoding: .utf8)
        }
        func measure(_ profile: String) async throws {
            let result = try await ttfa([
                "run", "--transport", "websocket,sse", "--trials", "4", "--warmup", "0", "--audio", scratch.audio,
                "--db", scratch.database, "--profile", "\(dir)/\(profile).yaml", "--link", "loopback",
                "--lag-budget-ms", "1000", "--quiet",
            ])
            #expect(result.status == 0, "\(result.stderr)")
        }
        try await measure("p100")
        try await measure("p200")
        let baseline = "\(dir)/results/baseline.json"
        let save = try await ttfa(["baseline", "save", "--run", "1", "--out", baseline, "--db", scratch.database])
        #expect(save.status == 0 && save.stderr.contains("wrote baseline"), "\(save.stderr)")

        // The baseline's own run: no regression, exit 0.
        let same = try await ttfa([
            "compare", "--baseline", baseline, "--candidate", "1", "--db", scratch.database, "--json",
        ])
        #expect(same.status == 0, "\(same.stdout)\(same.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(same.stdout.utf8)) as? [String: Any])
        #expect(object["regressed"] as? Bool == false)
        let metrics = try #require(object["metrics"] as? [[String: Any]])
        #expect(
            metrics.contains { $0["metric"] as? String == "sse.ttfa.p50" && $0["verdict"] as? String == "unchanged" })

        // 100 ms slower (a margin no loaded test machine erodes) with the same profile name: a configuration difference, refused …
        let refused = try await ttfa([
            "compare", "--baseline", baseline, "--candidate", "latest", "--db", scratch.database,
        ])
        #expect(
            refused.status == 2 && refused.stderr.contains("profiles:") && refused.stderr.contains("--allow-mismatch"),
            "\(refused.stderr)")
        // … unless accepted: regressed, exit 1, with the numbers in Markdown and JUnit.
        let markdown = "\(dir)/summary.md"
        let junit = "\(dir)/ttfa.xml"
        let slower = try await ttfa([
            "compare", "--baseline", baseline, "--candidate", "latest", "--db", scratch.database,
            "--allow-mismatch", "--markdown", markdown, "--junit", junit,
        ])
        #expect(slower.status == 1, "\(slower.stdout)\(slower.stderr)")
        #expect(slower.stdout.contains("regressed") && slower.stdout.contains("verdict: regression"))
        let md = try String(contentsOfFile: markdown, encoding: .utf8)
        #expect(
            md.contains("❌ regression") && md.contains("| `sse.ttfa.p50` |") && md.contains("Configuration differs"))
        let xml = try String(contentsOfFile: junit, encoding: .utf8)
        #expect(xml.contains("<failure message=\"regressed: sse.ttfa.p50 +"))
        let validation = try validateJUnit(junit)
        #expect(validation.valid, "\(validation.output)")
        // A generous tolerance calls the same 100 ms unchanged.
        let tolerant = try await ttfa([
            "compare", "--baseline", baseline, "--candidate", "latest", "--db", scratch.database,
            "--allow-mismatch", "--tolerance", "150%",
        ])
        #expect(tolerant.status == 0, "\(tolerant.stdout)")
        // The old form still works: two run ids.
        let positional = try await ttfa(["compare", "1", "2", "--db", scratch.database, "--allow-mismatch"])
        #expect(
            positional.status == 1 && positional.stdout.contains("websocket.ttfa.p50"),
            "\(positional.stdout)\(positional.stderr)")
    }

    @Test func aMissingOrCorruptBaselineExits2WithWhatToDo() async throws {
        let scratch = try Scratch()
        let missing = try await ttfa([
            "compare", "--baseline", "\(scratch.directory.path)/none.json", "--candidate", "latest", "--db",
            scratch.database,
        ])
        #expect(
            missing.status == 2 && missing.stderr.contains("ttfa baseline save --run ID --out"), "\(missing.stderr)")
        let corrupt = "\(scratch.directory.path)/corrupt.json"
        try "{\"format\": \"ttfa-baseline/1\", \"run\": ".write(toFile: corrupt, atomically: true, encoding: .utf8)
        let broken = try await ttfa([
            "compare", "--baseline", corrupt, "--candidate", "latest", "--db", scratch.database,
        ])
        #expect(broken.status == 2 && broken.stderr.contains("corrupt or truncated"), "\(broken.stderr)")
        #expect(!broken.stderr.contains("Fatal") && !broken.stderr.contains("Stack"))
        let typo = try await ttfa(["compare", "--baseline", "baseline", "--db", scratch.database])
        #expect(typo.status == 2 && typo.stderr.contains("neither a baseline file nor a run id"), "\(typo.stderr)")
        let noBaseline = try await ttfa(["compare", "--db", scratch.database])
        #expect(noBaseline.status == 2 && noBaseline.stderr.contains("ttfa baseline save"), "\(noBaseline.stderr)")
    }

    @Test func aRunWritesMarkdownAndValidJUnitForItsTrialsAndThresholds() async throws {
        let scratch = try Scratch()
        let markdown = "\(scratch.directory.path)/summary.md"
        let junit = "\(scratch.directory.path)/run.xml"
        try "# job summary\n".write(toFile: markdown, atomically: true, encoding: .utf8)
        let result = try await ttfa(
            quickRun(
                scratch,
                extra: [
                    "--markdown", markdown, "--junit", junit,
                    "--threshold", "websocket.ttfa.p50 > 0ms", "--threshold", "sse.ttfa.max < 0.001ms",
                ]))
        #expect(result.status == 1, "\(result.stderr)")
        let md = try String(contentsOfFile: markdown, encoding: .utf8)
        #expect(md.hasPrefix("# job summary\n"), "appended, as to $GITHUB_STEP_SUMMARY")
        #expect(md.contains("| `sse.ttfa.max < 0.001ms` |") && md.contains("❌"))
        let xml = try String(contentsOfFile: junit, encoding: .utf8)
        #expect(xml.contains("name=\"websocket trials\"") && xml.contains("name=\"sse.ttfa.max &lt; 0.001ms\""))
        #expect(xml.contains("failures=\"1\""))
        let validation = try validateJUnit(junit)
        #expect(validation.valid, "\(validation.output)")
    }

    /// The CI recipe's steps, end to end, on a quick configuration: a first job without a
    /// baseline says how to make one; with the baseline committed, the second job compares and
    /// leaves the Markdown, the JUnit (valid) and the CSV.
    @Test func theCIRecipeRunsEndToEnd() async throws {
        let scratch = try Scratch()
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let script = root.appendingPathComponent("examples/ci/ttfa-ci.sh").path
        let dir = scratch.directory.path
        var environment = [
            "TTFA": ttfaExecutable.path, "TTFA_BASELINE": "\(dir)/baseline.json",
            "GITHUB_STEP_SUMMARY": "\(dir)/summary.md",
            "TTFA_ARGS":
                "--trials 3 --warmup 0 --audio \(scratch.audio) --profile instant --link loopback --lag-budget-ms 1000 --threshold 'sse.failed == 0'",
            // The recipe's plumbing is under test, not the machine's load on the two jobs.
            "TTFA_COMPARE_ARGS": "--tolerance 1s",
        ]
        let first = try await command(
            URL(fileURLWithPath: "/bin/bash"), [script, "\(dir)/job1"], environment: environment, currentDirectory: root
        )
        #expect(first.status == 0, "\(first.stdout)\(first.stderr)")
        #expect(try String(contentsOfFile: "\(dir)/summary.md", encoding: .utf8).contains("No baseline at"))
        let save = try await ttfa([
            "baseline", "save", "--db", "\(dir)/job1/ttfa.sqlite", "--out", "\(dir)/baseline.json",
        ])
        #expect(save.status == 0, "\(save.stderr)")
        environment["GITHUB_STEP_SUMMARY"] = "\(dir)/summary2.md"
        let second = try await command(
            URL(fileURLWithPath: "/bin/bash"), [script, "\(dir)/job2"], environment: environment, currentDirectory: root
        )
        #expect(second.status == 0, "\(second.stdout)\(second.stderr)")
        let markdown = try String(contentsOfFile: "\(dir)/summary2.md", encoding: .utf8)
        #expect(
            markdown.contains("### ttfa run") && markdown.contains("### ttfa compare: ✅ no regression")
                && markdown.contains("`sse.failed == 0`"))
        for report in ["run.xml", "compare.xml"] {
            let validation = try validateJUnit("\(dir)/job2/\(report)")
            #expect(validation.valid, "\(report): \(validation.output)")
        }
        let csv = try String(contentsOfFile: "\(dir)/job2/trials.csv", encoding: .utf8)
        #expect(csv.hasPrefix("run_id,seq,transport") && csv.split(separator: "\r\n").count == 1 + 12)
        let compare = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(dir)/job2/compare.json")))
                as? [String: Any])
        #expect(compare["regressed"] as? Bool == false)
    }

    /// Same-job A/B: both configurations in one job, trials interleaved, stored as two runs,
    /// compared at the end.
    @Test func anABRunInterleavesBothSidesAndComparesThem() async throws {
        let scratch = try Scratch()
        let dir = scratch.directory.path
        for (name, ms) in [("p100", 100), ("p200", 200)] {
            try
                "name: \(name)\nfirst_audio_ms: {fixed: \(ms)}\nanswer: {audio_ms: 200, delta_ms: 100, real_time_factor: 0}\n"
                .write(toFile: "\(dir)/\(name).yaml", atomically: true, encoding: .utf8)
        }
        let base = [
            "run", "--transport", "websocket,sse", "--trials", "3", "--warmup", "0", "--audio", scratch.audio, "--db",
            scratch.database,
            "--profile", "\(dir)/p100.yaml", "--link", "loopback", "--lag-budget-ms", "1000", "--json", "--quiet",
        ]
        let slower = try await ttfa(base + ["--candidate-profile", "\(dir)/p200.yaml", "--junit", "\(dir)/ab.xml"])
        #expect(slower.status == 1, "\(slower.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(slower.stdout.utf8)) as? [String: Any])
        let compare = try #require(object["compare"] as? [String: Any])
        #expect(compare["regressed"] as? Bool == true)
        #expect(
            (object["baseline"] as? [String: Any])?["run_id"] as? Int == 1
                && (object["candidate"] as? [String: Any])?["run_id"] as? Int == 2)
        let validation = try validateJUnit("\(dir)/ab.xml")
        #expect(validation.valid, "\(validation.output)")
        // Interleaved: the two runs' trials alternate in time rather than one run after the other.
        let export = try await ttfa(["export", "--all", "--db", scratch.database])
        let rows = export.stdout.split(separator: "\r\n").dropFirst().map {
            $0.split(separator: ",", omittingEmptySubsequences: false)
        }
        let runsInTimeOrder = rows.sorted { $0[12] < $1[12] }.map { String($0[0]) }
        #expect(runsInTimeOrder.count == 12 && Set(runsInTimeOrder.prefix(6)) == ["1", "2"], "\(runsInTimeOrder)")
        let runs = try await ttfa(["runs", "--db", scratch.database])
        #expect(runs.stdout.contains("A/B (baseline)") && runs.stdout.contains("A/B (candidate)"))
        // The same profile on both sides: no regression.
        let same = try await ttfa(base + ["--candidate-profile", "\(dir)/p100.yaml"])
        #expect(same.status == 0, "\(same.stderr)")
        // A candidate profile needs the embedded server.
        let wrong = try await ttfa([
            "run", "--transport", "websocket", "--ws-url", "ws://127.0.0.1:9/v1/realtime", "--candidate-profile",
            "instant",
            "--db", scratch.database,
        ])
        #expect(wrong.status == 2 && wrong.stderr.contains("--candidate-url KIND=URL"), "\(wrong.stderr)")
    }
}
