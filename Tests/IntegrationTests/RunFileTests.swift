import Foundation
import StorageSQLite
import TestSupport
import Testing

@Suite("Run files (ttfa run --config)")
struct RunFileTests {
    @Test func aRunFileSaysWhatTheCommandLineWouldAndTheCommandLineWins() async throws {
        let scratch = try Scratch()
        let file = scratch.directory.appendingPathComponent("ttfa.yaml").path
        try """
        # the team's benchmark, committed next to its code
        recordings: [\(scratch.audio)]
        trials: 1
        warmup: 0
        profile: instant
        link: loopback
        transport: websocket,sse
        lag-budget-ms: 1000
        db: \(scratch.database)
        thresholds: ["websocket.ttfa.p95 < 700ms"]
        sse:
          model: gpt-audio-mini
          headers: ["X-Team: $TTFA_TEAM_TOKEN"]
        json: true
        quiet: true
        """.write(toFile: file, atomically: true, encoding: .utf8)
        let run = try await ttfa(
            ["run", "--config", file, "--trials", "2"], environment: ["TTFA_TEAM_TOKEN": "team-secret-1"])
        #expect(run.status == 0, "\(run.stderr)")
        let summary = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
        let transports = try #require(summary["transports"] as? [[String: Any]])
        #expect(transports.map { $0["transport"] as? String } == ["websocket", "sse"])
        #expect(
            transports.allSatisfy { $0["trials"] as? Int == 2 }, "--trials on the command line wins over the file's 1")
        #expect((summary["thresholds"] as? [[String: Any]])?.count == 1)
        let store = try SQLiteStore(path: scratch.database, create: false)
        let config = try #require(try await store.latestRun()?.configJSON)
        #expect(config.contains("gpt-audio-mini") && !config.contains("team-secret-1"))
        // The default command takes it too.
        let bare = try await ttfa(["--config", file], environment: ["TTFA_TEAM_TOKEN": "x"])
        #expect(bare.status == 0, "\(bare.stderr)")
    }

    @Test(
        arguments: [
            ("trials: lots\n", ":1: trials: The value 'lots' is invalid for '--trials <trials>'"),
            ("trials: 1\nwarmpu: 1\n", ":2: warmpu: unknown key"),
            (
                "websocket:\n  urll: ws://x\n",
                ":2: websocket.urll: unknown key; websocket takes dialect, header, headers, model, profile, url, voice"
            ),
            ("link: {rtt: 40}\n", ":1: link: a value or a list of values, not a mapping"),
            ("- trials\n", "a run file is a mapping of options"),
            ("trials: [1\n", "not YAML or JSON"),
        ] as [(String, String)])
    func aBadRunFileExits2NamingTheKeyAndLine(content: String, mentions: String) async throws {
        let scratch = try Scratch()
        let file = scratch.directory.appendingPathComponent("bad.yaml").path
        try content.write(toFile: file, atomically: true, encoding: .utf8)
        for command in [["run", "--config", file, "--db", scratch.database], ["config", "check", file]] {
            let result = try await ttfa(command)
            #expect(result.status == 2 && result.stderr.contains(mentions), "\(command): \(result.stderr)")
            #expect(!result.stderr.contains("Fatal"))
        }
        #expect(!FileManager.default.fileExists(atPath: scratch.database), "nothing measured or stored")
    }

    /// What would run, and — when something found would stop the run — exit 2 with each problem.
    @Test func configCheckSaysWhatWouldRunAndExits2WhenARunWouldStop() async throws {
        let scratch = try Scratch()
        let file = scratch.directory.appendingPathComponent("ttfa.json").path
        try
            #"{"websocket": {"url": "wss://proxy.example.com/v1/realtime?api_key=abc123", "headers": ["Authorization: Bearer $TTFA_UNSET_TOKEN"]}, "transport": "websocket", "trials": 10, "audio": ["short.wav", "nowhere.wav"]}"#
            .write(toFile: file, atomically: true, encoding: .utf8)
        let check = try await ttfa(["config", "check", file])
        #expect(check.status == 2, "\(check.stdout)\(check.stderr)")
        #expect(check.stdout.contains("6 options, 2 problems"), "\(check.stdout)")
        #expect(check.stdout.contains("websocket → wss://proxy.example.com/v1/realtime?api_key=***"))
        #expect(check.stdout.contains("trials: 10 measured"))
        #expect(check.stdout.contains("problem: --ws-header Authorization uses $TTFA_UNSET_TOKEN"))
        #expect(
            check.stdout.contains("problem: recording nowhere.wav: no such file"),
            "a bundled recording's name is not a problem")
        #expect(check.stderr.contains("2 problems would stop a run"))
        #expect(!check.stdout.contains("abc123") && !check.stderr.contains("abc123"))
        // The same file with the variable set and the recording that exists: a run would go.
        try
            #"{"websocket": {"url": "wss://proxy.example.com/v1/realtime", "headers": ["Authorization: Bearer $TTFA_SET_TOKEN"]}, "transport": "websocket", "audio": ["short.wav"]}"#
            .write(toFile: file, atomically: true, encoding: .utf8)
        let good = try await ttfa(["config", "check", file], environment: ["TTFA_SET_TOKEN": "t"])
        #expect(good.status == 0 && good.stdout.contains("ok — 4 options"), "\(good.stdout)\(good.stderr)")
    }

    /// With the keys set and the recordings they name in place (own-endpoints.yaml names yours),
    /// every example would run.
    @Test func theExamplesAreValidRunFiles() async throws {
        let scratch = try Scratch()
        try FileManager.default.createDirectory(
            at: scratch.directory.appendingPathComponent("speech"), withIntermediateDirectories: true)
        for name in ["question.wav", "long-question.flac"] {
            try FileManager.default.copyItem(
                atPath: scratch.audio, toPath: scratch.directory.appendingPathComponent("speech/\(name)").path)
        }
        // own-dialects.yaml names its dialect files as a project would keep them, relative to where ttfa runs.
        try FileManager.default.createDirectory(
            at: scratch.directory.appendingPathComponent("examples"), withIntermediateDirectories: true)
        try FileManager.default.copyItem(
            at: repositoryRoot.appendingPathComponent("examples/dialects"),
            to: scratch.directory.appendingPathComponent("examples/dialects"))
        for name in ["openai.yaml", "own-endpoints.yaml", "own-dialects.yaml"] {
            let check = try await ttfa(
                ["config", "check", repositoryRoot.appendingPathComponent("examples/\(name)").path],
                environment: ["OPENAI_API_KEY": "k", "PROXY_TOKEN": "p", "SUPABASE_ANON_KEY": "s"],
                currentDirectory: scratch.directory)
            #expect(check.status == 0 && check.stdout.contains(": ok — "), "\(name): \(check.stdout)\(check.stderr)")
            #expect(!check.stdout.contains("uses $"), "\(name): every header's variable is set")
        }
    }
}
