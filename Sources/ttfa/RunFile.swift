import ArgumentParser
import Foundation
import Replay
import RunSession
import TTFASupport
import VoiceTransport
import Yams

/// A committed benchmark definition (`ttfa run --config ttfa.yaml`, YAML or JSON): whatever a
/// command line can say, as keys. Top-level keys are `ttfa run`'s long options without the
/// dashes (`trials: 10`, `link: 4g`, `json: true`); a list repeats the option (`audio: [a.wav,
/// b.wav]`, `threshold: [...]`; `headers`, `recordings` and a `thresholds` list are accepted
/// too); a section per transport (`websocket`, `sse`, `sse-stream`, …) takes `url`, `header(s)`,
/// `model`, `voice`, `profile` and `dialect` for it. Options given on the command line override
/// the file's.
///
/// The file becomes arguments, so it can never say something the command line cannot, and
/// every value is checked by the same parser — whose complaints are traced back to the key
/// and line they came from.
enum RunFile {
    typealias Entry = RunFileParser.Entry

    /// The transport a per-transport value names (`sse=…`, `sse:Name: value`), if any.
    static func transportPrefix(_ value: String) -> String? { RunFileParser.transportPrefix(value) }

    /// `arguments` with `--config FILE` replaced by the file's options (those the command line
    /// does not set itself), or nil when there is no `--config`. `run` (named or default) and
    /// `monitor` (whose rounds are runs) take a run file.
    static func expand(_ arguments: [String]) throws -> (arguments: [String], entries: [Entry], path: String)? {
        var rest = arguments
        let subcommand = rest.first == "monitor" ? "monitor" : "run"
        let named = rest.first == subcommand
        if named { rest.removeFirst() }
        guard named || rest.first.map({ $0.hasPrefix("-") }) ?? false else { return nil }
        var path: String?
        var cli: [String] = []
        var index = 0
        while index < rest.count {
            let argument = rest[index]
            if argument == "--config" {
                guard index + 1 < rest.count else {
                    throw CommandFailure(
                        message: "--config needs a file: --config ttfa.yaml", exitCode: ExitCodes.usage)
                }
                path = rest[index + 1]
                index += 2
                continue
            }
            if argument.hasPrefix("--config=") {
                path = String(argument.dropFirst("--config=".count))
            } else {
                cli.append(argument)
            }
            index += 1
        }
        guard let path else { return nil }
        var given = Set<String>()
        for (index, argument) in cli.enumerated() where argument.hasPrefix("--") {
            let parts = argument.split(separator: "=", maxSplits: 1).map(String.init)
            let value = parts.count == 2 ? parts[1] : (index + 1 < cli.count ? cli[index + 1] : "")
            given.insert(parts[0])
            if let kind = transportPrefix(value) { given.insert("\(parts[0]) \(kind)") }
        }
        let entries = try load(path)
        var fileArguments: [String] = []
        // A generic option on the command line overrides the file's entries of the same
        // transport only (`--url sse=…` leaves the file's websocket URL).
        func overridden(_ entry: Entry) -> Bool {
            given.contains(entry.overrideKey) || (entry.overrideKey == entry.flag && given.contains(entry.flag))
        }
        for entry in entries where !overridden(entry) {
            fileArguments.append(entry.flag)
            if let value = entry.value { fileArguments.append(value) }
        }
        // A value of the file the parser rejects (a wrong type, a missing value) is reported
        // with its key and line; other complaints are the command line's as a whole.
        do {
            if subcommand == "monitor" {
                _ = try MonitorCommand.parse(fileArguments + cli)
            } else {
                _ = try RunCommand.parse(fileArguments + cli)
            }
        } catch {
            let message = RunCommand.message(for: error)
            let aboutOneValue =
                message.contains("The value '") || message.contains("Missing value for")
                || message.contains("Unknown option")
            if aboutOneValue,
                let entry = entries.first(where: {
                    !overridden($0) && (message.contains("'\($0.flag)'") || message.contains("'\($0.flag) "))
                })
            {
                throw CommandFailure(
                    message:
                        "\(path):\(entry.line): \(entry.key): \(message.replacingOccurrences(of: "Error: ", with: ""))",
                    exitCode: ExitCodes.usage)
            }
        }
        return ([subcommand] + fileArguments + cli, entries, path)
    }

    /// The file's options, in order, each with its key and line.
    static func load(_ path: String) throws -> [Entry] {
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8)
        else {
            throw CommandFailure(message: "--config \(path): no readable file there", exitCode: ExitCodes.usage)
        }
        do {
            return try RunFileParser.entries(text, path: path, optionNames: RunCommand.optionNames)
        } catch {
            throw CommandFailure(message: error.message, exitCode: ExitCodes.usage)
        }
    }
}

extension RunCommand {
    /// The long option names `ttfa run` takes, read from its own help (so the run file can
    /// never fall behind the command line).
    static var optionNames: Set<String> {
        let help = RunCommand.helpMessage(includeHidden: true, columns: 400)
        var names = Set<String>()
        for word in help.split(whereSeparator: { " ,\n()[]<>|".contains($0) })
        where word.hasPrefix("--") && word.count > 2 {
            names.insert(String(word.dropFirst(2).prefix { $0.isLetter || $0.isNumber || $0 == "-" }))
        }
        names.subtract(["help", "version", "config"])
        return names
    }
}

/// `ttfa config check FILE`: validates a run file and says what it would run.
struct ConfigCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config",
        abstract: "Work with run files (ttfa run --config FILE).",
        subcommands: [Check.self]
    )

    struct Check: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "check",
            abstract: "Validate a run file and print what `ttfa run --config FILE` would run.",
            discussion: """
                Exit 0 only when a run would go; 2 when anything found would stop it (each problem \
                is printed, and a summary goes to stderr).

                Example ttfa.yaml:
                  websocket:
                    url: wss://proxy.example.com/v1/realtime
                    headers: ["Authorization: Bearer $PROXY_TOKEN"]
                  sse:
                    url: https://edge.example.com/functions/v1/voice
                    headers: ["Authorization: Bearer $SUPABASE_KEY"]
                  recordings: [speech/short.wav, speech/long.wav]
                  trials: 10
                  connection: warm
                  timeout: 20
                  thresholds: ["websocket.ttfa.p95 < 700ms", "sse.failed < 5%"]
                """
        )

        @Argument(help: "The run file.")
        var file: String

        func run() async throws {
            guard let expanded = try RunFile.expand(["run", "--config", file]) else { return }
            let command: RunCommand
            do {
                command = try RunCommand.parse(Array(expanded.arguments.dropFirst()))
            } catch {
                throw CommandFailure(message: "\(file): \(RunCommand.message(for: error))", exitCode: ExitCodes.usage)
            }
            let request = try command.options.request()
            // What a run would stop at: every header's $VARIABLE and recording, each reported;
            // then the rest of the plan (profiles, link, thresholds, dialects, URLs) as a run checks it.
            var problems: [String] = []
            for header in request.headers {
                do throws(TransportError) {
                    _ = try HeaderParser.parse(header.value, flag: header.flag)
                } catch {
                    problems.append(error.message)
                }
            }
            for path in request.audio where !FileManager.default.fileExists(atPath: path) {
                if !path.contains("/"), BundledRecordings.names.contains(path.hasSuffix(".wav") ? path : path + ".wav")
                {
                    continue
                }
                problems.append("recording \(path): no such file (relative paths start where ttfa runs)")
            }
            var plan: RunPlan?
            if problems.isEmpty {
                do throws(RunInputError) {
                    plan = try RunPlan.make(request)
                } catch {
                    problems.append(error.message)
                }
            }
            var redactor = SecretRedactor()
            for url in request.urls.values { redactor.addCredentials(fromURL: url) }
            let shown = expanded.arguments.map { $0.contains("://") ? redactor.redactURL($0) : $0 }
            let options = "\(expanded.entries.count) option\(expanded.entries.count == 1 ? "" : "s")"
            print(
                problems.isEmpty
                    ? "\(file): ok — \(options)"
                    : "\(file): \(options), \(problems.count) problem\(problems.count == 1 ? "" : "s")")
            print("would run: ttfa " + CommandLineRedaction.redacted(shown, redactor: redactor))
            let kinds =
                plan?.kinds ?? request.transports
                ?? TransportKind.all.filter { !$0.isVariant || request.urls[$0] != nil }
            print(
                "transports: "
                    + kinds.map { kind in
                        "\(kind.rawValue) → \(request.urls[kind].map { redactor.redactURL($0) } ?? "the embedded reference server")"
                    }.joined(separator: ", "))
            for kind in kinds {
                if let dialect = plan?.dialectFiles[kind] {
                    print("dialect: \(kind) speaks \(dialect.name) (\(dialect.source))")
                }
            }
            print(
                "recordings: \(request.audio.isEmpty ? "the bundled ones (short, medium, long)" : request.audio.joined(separator: ", "))"
            )
            print(
                "trials: \(request.trials) measured + \(request.warmup) warm-up per transport and recording, \(request.connection) connections, timeout \(Format.number(request.timeoutSeconds)) s"
            )
            for problem in problems { print("problem: \(problem) (a run would stop here)") }
            if !problems.isEmpty {
                throw CommandFailure(
                    message:
                        "\(file): \(problems.count) problem\(problems.count == 1 ? "" : "s") would stop a run (see above)",
                    exitCode: ExitCodes.usage)
            }
        }
    }
}
