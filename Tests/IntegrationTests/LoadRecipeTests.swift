import Foundation
import ReferenceServer
import Replay
import TestSupport
import Testing
import VoiceTransport
import Yams

/// The many-machines recipes (`examples/load`): what a runner does with ttfa's exit codes, and
/// that no secret is ever put where `ps` shows it.
@Suite("Load recipes: Kubernetes Job, image, ssh runners")
struct LoadRecipeTests {
    /// `ttfa-job` (the image's entrypoint, the ssh runners' command): exit 3 — trials stored,
    /// some failed — is a finished runner; the key reaches ttfa as `$VOICE_API_KEY`, never its value.
    @Test func theJobEntrypointTakesExit3AsDoneAndKeepsTheKeyOutOfArgv() async throws {
        let server = try await TestServer.get()
        let scratch = try Scratch()
        // `ttfa` on PATH: a shim that records the argv it was given, then runs the real one.
        let bin = scratch.directory.appendingPathComponent("bin")
        try FileManager.default.createDirectory(at: bin, withIntermediateDirectories: true)
        let argv = scratch.directory.appendingPathComponent("argv.txt").path
        try "#!/bin/sh\nprintf '%s\\n' \"$@\" > '\(argv)'\nexec '\(ttfaExecutable.path)' \"$@\"\n"
            .write(to: bin.appendingPathComponent("ttfa"), atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes(
            [.posixPermissions: 0o755], ofItemAtPath: bin.appendingPathComponent("ttfa").path)
        let script = repositoryRoot.appendingPathComponent("examples/load/ttfa-job.sh")
        let url = TransportKind.websocket.referenceURL(on: server) + "?fault=http500"
        let arguments = [
            "--transport", "websocket", "--ws-url", url, "--header", "Authorization: Bearer $VOICE_API_KEY",
            "--trials", "2", "--warmup", "0", "--audio", scratch.audio, "--db", scratch.database, "--quiet",
        ]
        let environment = [
            "PATH": bin.path + ":/usr/bin:/bin", "VOICE_API_KEY": "vk-secret-4711", "TTFA_IO_REALTIME": "0",
        ]
        let failedTrials = try await command(script, arguments, environment: environment)
        #expect(failedTrials.status == 0, "\(failedTrials.stderr)")
        #expect(
            failedTrials.stderr.contains("exit 3") && failedTrials.stderr.contains("ttfa report --group"),
            "\(failedTrials.stderr)")
        let given = try String(contentsOfFile: argv, encoding: .utf8)
        #expect(given.contains("Authorization: Bearer $VOICE_API_KEY") && !given.contains("vk-secret-4711"), "\(given)")
        // Bad input is still a failure of the runner.
        let bad = try await command(script, ["--trials", "0"], environment: environment)
        #expect(bad.status == 2, "\(bad.stderr)")
    }

    @Test func theKubernetesJobIsIndexedAndPassesSecretsOnlyThroughTheEnvironment() throws {
        let text = try String(
            contentsOf: repositoryRoot.appendingPathComponent("examples/load/kubernetes-job.yaml"), encoding: .utf8)
        let job = try #require(try Yams.load(yaml: text) as? [String: Any])
        let spec = try #require(job["spec"] as? [String: Any])
        #expect(spec["completionMode"] as? String == "Indexed")
        let pod = try #require((spec["template"] as? [String: Any])?["spec"] as? [String: Any])
        let container = try #require((pod["containers"] as? [[String: Any]])?.first)
        let args = try #require(container["args"] as? [String])
        #expect(container["command"] == nil, "the image's entrypoint (ttfa-job) runs")
        let secrets = (container["env"] as? [[String: Any]] ?? []).filter {
            ($0["valueFrom"] as? [String: Any])?["secretKeyRef"] != nil
        }
        .compactMap { $0["name"] as? String }
        #expect(secrets.sorted() == ["TTFA_DATABASE_URL", "VOICE_API_KEY"])
        for name in secrets {
            // Kubernetes expands $(NAME) into argv itself; ttfa expands $NAME from its environment.
            #expect(!args.contains { $0.contains("$(\(name))") }, "\(name) would be expanded into argv")
        }
        #expect(args.contains { $0.contains("$VOICE_API_KEY") })
        let dockerfile = try String(
            contentsOf: repositoryRoot.appendingPathComponent("examples/load/Dockerfile"), encoding: .utf8)
        #expect(
            dockerfile.contains("FROM debian:12-slim")
                && dockerfile.contains("ENTRYPOINT [\"/usr/local/bin/ttfa-job\"]"))
        for package in ["libcurl4", "libssl3", "libsqlite3-0", "libsndfile1", "libsoxr0"] {
            #expect(dockerfile.contains(package), "the image installs \(package)")
        }
    }
}
