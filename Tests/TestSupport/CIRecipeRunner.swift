import Foundation
import Statistics
import Yams

/// Runs the CI recipes in `examples/ci` on this machine, step for step, the way their CI systems
/// would on a Linux runner — so a recipe that is copied works.
///
/// What a hosted runner provides is played here: a workspace holding a copy of the repository's
/// `examples/` and `results/` (the checkout), the variables and secrets a project would set, the
/// files GitHub passes between steps (`GITHUB_ENV`, `GITHUB_STEP_SUMMARY`), and — because the
/// job's image would have them — an `apt-get` that checks the packages asked for are installed
/// instead of installing them. Actions (`uses:`) are not run; what they would consume is
/// checked: every artifact path exists, every JUnit report validates against the schema.
package struct CIRecipeRunner {
    /// The folder the recipe runs in (a fresh copy of the checkout's examples and results).
    package let workspace: URL
    /// The project's CI/CD variables and secrets (`vars.X`, `secrets.X`; GitLab: both are variables).
    package var variables: [String: String] = [:]
    package var secrets: [String: String] = [:]
    /// Prepended to PATH: the fake `apt-get`.
    private let shims: URL

    package struct StepResult: Sendable {
        package var name: String
        package var status: Int32
        package var output: String
    }

    package struct Outcome: Sendable {
        package var steps: [StepResult]
        /// Problems with what the job left for its actions: missing artifacts, invalid JUnit.
        package var artifactProblems: [String]
        /// What the job wrote to its summary (GitHub's `GITHUB_STEP_SUMMARY`).
        package var summary: String
        package var failed: Bool { steps.contains { $0.status != 0 } || !artifactProblems.isEmpty }
        package var log: String {
            steps.map { "## \($0.name) (exit \($0.status))\n\($0.output)" }.joined(separator: "\n") + "\n"
                + artifactProblems.joined(separator: "\n")
        }
    }

    package init() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("ttfa-ci-\(UUID().uuidString)")
        workspace = root.appendingPathComponent("workspace")
        shims = root.appendingPathComponent("shims")
        let files = FileManager.default
        try files.createDirectory(at: workspace, withIntermediateDirectories: true)
        try files.createDirectory(at: shims, withIntermediateDirectories: true)
        try files.copyItem(
            at: repositoryRoot.appendingPathComponent("examples"), to: workspace.appendingPathComponent("examples"))
        try files.createDirectory(at: workspace.appendingPathComponent("results"), withIntermediateDirectories: true)
        let aptGet = shims.appendingPathComponent("apt-get")
        try """
        #!/bin/sh
        # The job's image would install these; here they must already be installed.
        [ "$1" = update ] && exit 0
        status=0
        for arg in "$@"; do
          case "$arg" in -*|install) continue ;; esac
          dpkg -s "$arg" >/dev/null 2>&1 || { echo "apt-get (CI shim): $arg is not installed on this machine" >&2; status=100; }
        done
        exit $status
        """.write(to: aptGet, atomically: true, encoding: .utf8)
        try files.setAttributes([.posixPermissions: 0o755], ofItemAtPath: aptGet.path)
    }

    // MARK: GitHub Actions

    /// Runs every step of `job` in the workflow at `path` (relative to the repository).
    package func runGitHubJob(_ path: String, job: String) async throws -> Outcome {
        let workflow = try Self.loadYAML(path)
        guard let jobs = workflow["jobs"] as? [String: Any], let definition = jobs[job] as? [String: Any],
            let steps = definition["steps"] as? [[String: Any]]
        else {
            throw CocoaError(
                .fileReadCorruptFile, userInfo: [NSLocalizedDescriptionKey: "\(path): no job \(job) with steps"])
        }
        let runnerFiles = workspace.deletingLastPathComponent()
        let githubEnv = runnerFiles.appendingPathComponent("github_env")
        let summary = runnerFiles.appendingPathComponent("step_summary.md")
        FileManager.default.createFile(atPath: githubEnv.path, contents: nil)
        FileManager.default.createFile(atPath: summary.path, contents: nil)
        var env: [String: String] = [
            "GITHUB_ENV": githubEnv.path, "GITHUB_STEP_SUMMARY": summary.path, "GITHUB_WORKSPACE": workspace.path,
            "CI": "true", "GITHUB_ACTIONS": "true", "RUNNER_OS": "Linux",
        ]
        for (key, value) in (workflow["env"] as? [String: Any] ?? [:]).merging(
            definition["env"] as? [String: Any] ?? [:], uniquingKeysWith: { $1 })
        {
            env[key] = expand("\(value)", env: env)
        }
        var results: [StepResult] = []
        var problems: [String] = []
        var failed = false
        for (index, step) in steps.enumerated() {
            let name = step["name"] as? String ?? step["uses"] as? String ?? "step \(index + 1)"
            let condition = step["if"] as? String ?? "success()"
            guard try evaluate(condition, env: env, failed: failed) else { continue }
            var stepEnv = env
            for (key, value) in step["env"] as? [String: Any] ?? [:] { stepEnv[key] = expand("\(value)", env: env) }
            if let script = step["run"] as? String {
                let result = try await shell(expand(script, env: stepEnv), env: stepEnv)
                results.append(StepResult(name: name, status: result.status, output: result.stdout + result.stderr))
                if result.status != 0 { failed = true }
                // What a step appends to GITHUB_ENV is in the environment of the steps after it.
                for line in (try? String(contentsOf: githubEnv, encoding: .utf8))?.split(separator: "\n") ?? [] {
                    if let equals = line.firstIndex(of: "=") {
                        env[String(line[..<equals])] = String(line[line.index(after: equals)...])
                    }
                }
            } else if let uses = step["uses"] as? String {
                let with = step["with"] as? [String: Any] ?? [:]
                if uses.hasPrefix("actions/upload-artifact") {
                    let paths = "\(with["path"] ?? "")".split(separator: "\n").map {
                        $0.trimmingCharacters(in: .whitespaces)
                    }.filter { !$0.isEmpty }
                    for pattern in paths where try glob(pattern).isEmpty {
                        problems.append("\(name): no file matches \(pattern)")
                    }
                } else if uses.contains("junit") {
                    let reports = try glob("\(with["report_paths"] ?? "")")
                    if reports.isEmpty { problems.append("\(name): no JUnit report at \(with["report_paths"] ?? "")") }
                    for report in reports {
                        let validation = try validateJUnit(report)
                        if !validation.valid {
                            problems.append("\(name): \(report) is not valid JUnit: \(validation.output)")
                        }
                    }
                }
            }
        }
        return Outcome(
            steps: results, artifactProblems: problems,
            summary: (try? String(contentsOf: summary, encoding: .utf8)) ?? "")
    }

    /// `${{ vars.X }}`, `${{ secrets.X }}`, `${{ env.X }}`, `${{ runner.os }}` and
    /// `${{ hashFiles(...) }}` — the expressions the recipe uses — replaced by their values.
    func expand(_ text: String, env: [String: String]) -> String {
        var out = text
        while let open = out.range(of: "${{"), let close = out.range(of: "}}", range: open.upperBound..<out.endIndex) {
            let expression = out[open.upperBound..<close.lowerBound].trimmingCharacters(in: .whitespaces)
            out.replaceSubrange(open.lowerBound..<close.upperBound, with: value(of: expression, env: env))
        }
        return out
    }

    private func value(of expression: String, env: [String: String]) -> String {
        let parts = expression.split(separator: ".", maxSplits: 1).map(String.init)
        switch parts.first {
        case "vars": return variables[parts.last ?? ""] ?? ""
        case "secrets": return secrets[parts.last ?? ""] ?? ""
        case "env": return env[parts.last ?? ""] ?? ""
        case "runner": return parts.last == "os" ? "Linux" : ""
        default: return expression.hasPrefix("hashFiles(") ? "hash" : ""
        }
    }

    /// The step conditions the recipe uses: `always()`, `success()`, `env.X == ''`, `env.X != ''`.
    private func evaluate(_ condition: String, env: [String: String], failed: Bool) throws -> Bool {
        let c = condition.replacingOccurrences(of: "${{", with: "").replacingOccurrences(of: "}}", with: "")
            .trimmingCharacters(in: .whitespaces)
        switch c {
        case "always()": return true
        case "success()": return !failed
        case "failure()": return failed
        default: break
        }
        for op in ["==", "!="] {
            let sides = c.components(separatedBy: " \(op) ").map { $0.trimmingCharacters(in: .whitespaces) }
            guard sides.count == 2, sides[0].hasPrefix("env.") else { continue }
            let left = env[String(sides[0].dropFirst(4))] ?? ""
            let right = sides[1].trimmingCharacters(in: CharacterSet(charactersIn: "'"))
            return !failed && (op == "==" ? left == right : left != right)
        }
        throw CocoaError(
            .featureUnsupported,
            userInfo: [NSLocalizedDescriptionKey: "a step condition the local runner does not know: \(condition)"])
    }

    // MARK: GitLab CI

    /// Runs `job` of the GitLab file at `path`: `before_script` and `script` in one shell (as the
    /// runner does), the job's variables and the project's, then checks `artifacts`.
    package func runGitLabJob(_ path: String, job: String) async throws -> Outcome {
        let file = try Self.loadYAML(path)
        guard let definition = file[job] as? [String: Any] else {
            throw CocoaError(.fileReadCorruptFile, userInfo: [NSLocalizedDescriptionKey: "\(path): no job \(job)"])
        }
        var env: [String: String] = ["CI": "true", "GITLAB_CI": "true", "CI_PROJECT_DIR": workspace.path]
        for (key, value) in file["variables"] as? [String: Any] ?? [:] { env[key] = "\(value)" }
        for (key, value) in definition["variables"] as? [String: Any] ?? [:] { env[key] = "\(value)" }
        env.merge(variables) { $1 }
        env.merge(secrets) { $1 }
        let lines = (definition["before_script"] as? [String] ?? []) + (definition["script"] as? [String] ?? [])
        let result = try await shell(lines.joined(separator: "\n"), env: env)
        var problems: [String] = []
        let artifacts = definition["artifacts"] as? [String: Any] ?? [:]
        for pattern in artifacts["paths"] as? [String] ?? [] where try glob(pattern).isEmpty {
            problems.append("artifacts: no file matches \(pattern)")
        }
        for report in (artifacts["reports"] as? [String: Any])?["junit"] as? [String] ?? [] {
            guard FileManager.default.fileExists(atPath: workspace.appendingPathComponent(report).path) else {
                problems.append("artifacts: no JUnit report at \(report)")
                continue
            }
            let validation = try validateJUnit(workspace.appendingPathComponent(report).path)
            if !validation.valid { problems.append("\(report) is not valid JUnit: \(validation.output)") }
        }
        let summary =
            (try? String(contentsOf: workspace.appendingPathComponent("ci-out/summary.md"), encoding: .utf8)) ?? ""
        return Outcome(
            steps: [StepResult(name: "script", status: result.status, output: result.stdout + result.stderr)],
            artifactProblems: problems, summary: summary)
    }

    // MARK: helpers

    static func loadYAML(_ path: String) throws -> [String: Any] {
        let text = try String(contentsOf: repositoryRoot.appendingPathComponent(path), encoding: .utf8)
        guard let object = try Yams.load(yaml: text) as? [String: Any] else {
            throw CocoaError(.fileReadCorruptFile, userInfo: [NSLocalizedDescriptionKey: "\(path): not a YAML mapping"])
        }
        return object
    }

    private func shell(_ script: String, env: [String: String]) async throws -> Command {
        var environment = env
        environment["PATH"] = shims.path + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")
        environment["HOME"] = workspace.deletingLastPathComponent().path
        return try await command(
            URL(fileURLWithPath: "/bin/bash"), ["-e", "-o", "pipefail", "-c", script],
            environment: environment, currentDirectory: workspace)
    }

    /// Files in the workspace matching a shell pattern.
    private func glob(_ pattern: String) throws -> [String] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = [
            "-c", "shopt -s nullglob; cd \"$0\" && for f in \(pattern); do echo \"$PWD/$f\"; done", workspace.path,
        ]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self).split(separator: "\n").map(String.init)
    }
}
