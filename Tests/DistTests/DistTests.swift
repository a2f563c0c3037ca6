import Foundation
import TestSupport
import Testing

/// The release archive as a user gets it (`make test-dist` builds it with `make dist` and runs
/// these): unpacked anywhere, it runs with nothing of the build around it; and the CI recipes run
/// step for step with it.
@Suite("The release archive and the CI recipes", .serialized)
struct DistTests {
    /// `dist/ttfa-VERSION-linux-ARCH.tar.gz`, from `make test-dist`.
    static func archive() throws -> URL {
        guard let path = ProcessInfo.processInfo.environment["TTFA_DIST_ARCHIVE"], !path.isEmpty else {
            throw CocoaError(
                .fileNoSuchFile,
                userInfo: [NSLocalizedDescriptionKey: "TTFA_DIST_ARCHIVE is not set: run these with make test-dist"])
        }
        return URL(fileURLWithPath: path)
    }

    static func sha256(of archive: URL) throws -> String {
        let line = try String(contentsOf: URL(fileURLWithPath: archive.path + ".sha256"), encoding: .utf8)
        return String(line.prefix { !$0.isWhitespace })
    }

    /// Unpacks the archive into a fresh folder and returns its top folder.
    static func unpack(_ archive: URL) async throws -> URL {
        let into = FileManager.default.temporaryDirectory.appendingPathComponent("ttfa-dist-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: into, withIntermediateDirectories: true)
        let tar = try await command(URL(fileURLWithPath: "/bin/tar"), ["-xzf", archive.path, "-C", into.path])
        guard tar.status == 0 else {
            throw CocoaError(.fileReadCorruptFile, userInfo: [NSLocalizedDescriptionKey: tar.stderr])
        }
        let top = try FileManager.default.contentsOfDirectory(atPath: into.path)
        guard top.count == 1 else {
            throw CocoaError(.fileReadCorruptFile, userInfo: [NSLocalizedDescriptionKey: "archive top level: \(top)"])
        }
        return into.appendingPathComponent(top[0])
    }

    @Test func theArchiveRunsFromAnyFolderWithNothingOfTheBuildAroundIt() async throws {
        let archive = try Self.archive()
        // The .sha256 beside it verifies the archive.
        let check = try await command(
            URL(fileURLWithPath: "/usr/bin/sha256sum"), ["-c", archive.lastPathComponent + ".sha256"],
            currentDirectory: archive.deletingLastPathComponent())
        #expect(check.status == 0, "\(check.stdout)\(check.stderr)")
        let root = try await Self.unpack(archive)
        #expect(
            root.lastPathComponent.hasPrefix("ttfa-") && root.lastPathComponent.contains("-linux-"),
            "\(root.lastPathComponent)")
        for file in [
            "bin/ttfa", "share/ttfa/dialects/openai-realtime.yaml", "share/ttfa/dialects/openai-tts.yaml",
            "share/ttfa/recordings/short.wav", "share/ttfa/recordings/long.wav", "share/ttfa/recordings/manifest.json",
            "share/man/man1/ttfa.1", "share/bash-completion/completions/ttfa", "share/zsh/site-functions/_ttfa",
            "share/fish/vendor_completions.d/ttfa.fish", "LICENSE", "README.md", "CHANGELOG.md",
        ] {
            let size =
                (try? FileManager.default.attributesOfItem(atPath: root.appendingPathComponent(file).path)[.size]
                    as? Int) ?? 0
            #expect(size > 0, "\(file) in the archive")
        }

        // The build's own copy of the data files out of the way: nothing may reach for them.
        let hidden = try hideBuildResources()
        defer { hidden.restore() }
        let elsewhere = FileManager.default.temporaryDirectory.appendingPathComponent(
            "ttfa-elsewhere-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: elsewhere, withIntermediateDirectories: true)
        func ttfa(_ arguments: [String]) async throws -> Command {
            try await command(
                URL(fileURLWithPath: "/usr/bin/env"),
                ["-i", "PATH=/usr/bin:/bin", root.appendingPathComponent("bin/ttfa").path] + arguments,
                currentDirectory: elsewhere)
        }
        let version = try await ttfa(["--version"])
        #expect(
            version.status == 0 && version.stdout.contains("commit ") && version.stdout.contains("built 20"),
            "\(version.stdout)\(version.stderr)")
        let json = try await ttfa(["--version", "--json"])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        #expect(
            object["commit"] is String && object["build_date"] is String
                && object["version"] as? String == version.stdout.split(separator: " ").first.map(String.init))
        let dialects = try await ttfa(["dialects"])
        #expect(
            dialects.status == 0
                && dialects.stdout.contains(root.appendingPathComponent("share/ttfa/dialects/openai-tts.yaml").path),
            "\(dialects.stdout)\(dialects.stderr)")
        let run = try await ttfa([
            "run", "--profile", "instant", "--link", "loopback", "--trials", "1", "--audio", "short.wav",
        ])
        #expect(run.status == 0, "\(run.stdout)\(run.stderr)")
        #expect(run.stdout.contains("TTFA p50") && run.stdout.contains("verdict:"), "\(run.stdout)")
        #expect(
            FileManager.default.fileExists(atPath: elsewhere.appendingPathComponent("results/ttfa.sqlite").path),
            "stored where it ran")
        #expect(!run.stderr.contains("ttfa_Replay.resources"))

        // Only the system's own libraries: the Swift runtime is inside the binary.
        let ldd = try await command(
            URL(fileURLWithPath: "/usr/bin/ldd"), [root.appendingPathComponent("bin/ttfa").path])
        #expect(ldd.status == 0 && !ldd.stdout.contains("not found"), "\(ldd.stdout)")
        for runtime in ["libswift", "libFoundation", "libdispatch", "libBlocksRuntime", "lib_Foundation"] {
            #expect(!ldd.stdout.contains(runtime), "\(runtime) in \(ldd.stdout)")
        }
        print("ldd bin/ttfa:\n\(ldd.stdout)")
    }

    /// The GitHub Actions recipe with the release archive (no Swift, no build): a first job
    /// without a baseline, a second that compares against the one the first made, and a pull
    /// request from a fork (no secrets), which measures the reference server and says so.
    @Test func theGitHubActionsRecipeRunsStepForStep() async throws {
        let archive = try Self.archive()
        var runner = try CIRecipeRunner()
        runner.variables = [
            "TTFA_ARCHIVE_URL": "file://" + archive.path, "TTFA_ARCHIVE_SHA256": try Self.sha256(of: archive),
            "TTFA_ARGS":
                "--profile instant --link loopback --audio short.wav --trials 3 --warmup 0 --lag-budget-ms 1000 --threshold 'sse.failed == 0' --header 'Authorization: Bearer $OPENAI_API_KEY'",
            "TTFA_COMPARE_ARGS": "--tolerance 1s",
        ]
        runner.secrets = ["OPENAI_API_KEY": "sk-test-never-stored"]
        let first = try await runner.runGitHubJob("examples/ci/github-actions.yml", job: "time-to-first-audio")
        #expect(!first.failed, "\(first.log)")
        #expect(first.summary.contains("### ttfa run") && first.summary.contains("No baseline at"), "\(first.summary)")
        #expect(first.steps.map(\.name).contains("Install ttfa (the release archive, or a build of this checkout)"))
        #expect(!first.steps.map(\.name).contains("Install Swift"), "no Swift when the archive is given")

        let installed = runner.workspace.deletingLastPathComponent().appendingPathComponent(".local/ttfa/bin/ttfa")
        let save = try await command(
            installed,
            [
                "baseline", "save", "--db", runner.workspace.appendingPathComponent("ci-out/ttfa.sqlite").path,
                "--out", runner.workspace.appendingPathComponent("results/baseline.json").path,
            ])
        #expect(save.status == 0, "\(save.stderr)")
        let second = try await runner.runGitHubJob("examples/ci/github-actions.yml", job: "time-to-first-audio")
        #expect(!second.failed, "\(second.log)")
        #expect(second.summary.contains("### ttfa compare: ✅ no regression"), "\(second.summary)")
        #expect(
            FileManager.default.fileExists(atPath: runner.workspace.appendingPathComponent("ci-out/compare.xml").path))
        let stored = try Data(contentsOf: runner.workspace.appendingPathComponent("ci-out/ttfa.sqlite"))
        #expect(stored.range(of: Data("sk-test-never-stored".utf8)) == nil, "the secret is never stored")

        runner.secrets = [:]
        let fork = try await runner.runGitHubJob("examples/ci/github-actions.yml", job: "time-to-first-audio")
        #expect(!fork.failed, "\(fork.log)")
        #expect(fork.summary.contains("No secrets in this job"), "\(fork.summary)")
    }

    @Test func theGitLabRecipeRunsItsScript() async throws {
        let archive = try Self.archive()
        var runner = try CIRecipeRunner()
        runner.variables = [
            "TTFA_ARCHIVE_URL": "file://" + archive.path, "TTFA_ARCHIVE_SHA256": try Self.sha256(of: archive),
            "TTFA_ARGS":
                "--profile instant --link loopback --audio short.wav --trials 3 --warmup 0 --lag-budget-ms 1000",
        ]
        runner.secrets = ["OPENAI_API_KEY": "sk-test-never-stored"]
        let job = try await runner.runGitLabJob("examples/ci/gitlab-ci.yml", job: "ttfa")
        // compare.xml is listed as a report but only written once a baseline exists.
        #expect(job.steps.allSatisfy { $0.status == 0 }, "\(job.log)")
        #expect(job.artifactProblems == ["artifacts: no JUnit report at ci-out/compare.xml"], "\(job.artifactProblems)")
        #expect(job.summary.contains("### ttfa run"), "\(job.summary)")
        let html = try String(
            contentsOf: runner.workspace.appendingPathComponent("ci-out/report.html"), encoding: .utf8)
        #expect(html.contains("<svg"), "the HTML report has its charts")
    }
}

/// Renames the build folder's copies of ttfa's data files while a test runs, so a binary that
/// reached for them through the build path would fail; `restore()` puts them back.
struct HiddenBuildResources {
    var moved: [(from: URL, to: URL)]

    func restore() {
        for (from, to) in moved { try? FileManager.default.moveItem(at: to, to: from) }
    }
}

func hideBuildResources() throws -> HiddenBuildResources {
    let build = repositoryRoot.appendingPathComponent(".build")
    var moved: [(URL, URL)] = []
    for triple in (try? FileManager.default.contentsOfDirectory(atPath: build.path)) ?? [] {
        let bundle = build.appendingPathComponent(triple).appendingPathComponent("release/ttfa_Replay.resources")
        guard FileManager.default.fileExists(atPath: bundle.path) else { continue }
        let aside = bundle.deletingLastPathComponent().appendingPathComponent(
            "ttfa_Replay.resources.hidden-by-dist-test")
        try FileManager.default.moveItem(at: bundle, to: aside)
        moved.append((bundle, aside))
    }
    return HiddenBuildResources(moved: moved)
}
