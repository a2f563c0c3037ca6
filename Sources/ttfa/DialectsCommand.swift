import ArgumentParser
import DialectSpec
import Foundation
import Replay
import VoiceTransport

/// `--ws-dialect` / `--sse-dialect`: a dialect file (or a shipped one by name) in place of a
/// transport's built-in dialect.
struct DialectOptions: ParsableArguments {
    @Option(
        name: .customLong("ws-dialect"),
        help: ArgumentHelp(
            "A WebSocket dialect file (YAML or JSON), or a shipped dialect's name, in place of OpenAI Realtime (`ttfa dialects`).",
            valueName: "file"))
    var wsDialect: String?

    @Option(
        name: .customLong("sse-dialect"),
        help: ArgumentHelp(
            "An SSE dialect file (YAML or JSON), or a shipped dialect's name (openai-tts), in place of Chat Completions audio (`ttfa dialects`).",
            valueName: "file"))
    var sseDialect: String?

    /// The files, validated (exit 2 naming the file, the field and what to do).
    func load() throws -> (websocket: DialectFile?, sse: DialectFile?) {
        do throws(TransportError) {
            let ws = try wsDialect.map { (path) throws(TransportError) in
                try DialectCatalog.load(path, flag: "--ws-dialect")
            }
            let sse = try sseDialect.map { (path) throws(TransportError) in
                try DialectCatalog.load(path, flag: "--sse-dialect")
            }
            if let ws, ws.transport != .websocket {
                throw TransportError(
                    .input,
                    "--ws-dialect \(ws.source): dialect \"\(ws.name)\" is an \(ws.transport.rawValue) dialect; give it to --sse-dialect"
                )
            }
            if let sse, sse.transport != .sse {
                throw TransportError(
                    .input,
                    "--sse-dialect \(sse.source): dialect \"\(sse.name)\" is a \(sse.transport.rawValue) dialect; give it to --ws-dialect"
                )
            }
            return (ws, sse)
        } catch {
            throw CommandFailure.input(error)
        }
    }
}

/// `ttfa dialects [FILE …]`: what ttfa can speak, or whether dialect files are valid.
struct DialectsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dialects",
        abstract: "List the dialects ttfa speaks, or check dialect files.",
        discussion: """
            Without a file: the built-in dialects and the dialect files that ship with ttfa (use them \
            by name: --sse-dialect openai-tts). With files: each is validated as --ws-dialect or \
            --sse-dialect would (exit 2 naming the file, line and field of the first problem), and \
            summarized: what it sends, which events carry audio, what ends the answer. The format is \
            in the README, "Measure your own endpoint".
            """
    )

    @Argument(help: "Dialect files to check.")
    var files: [String] = []

    func run() async throws {
        guard !files.isEmpty else {
            // Without its data files only the built-in dialects can be listed: say so, and fail.
            do {
                _ = try ResourceLocator.directory(.dialects)
            } catch {
                throw CommandFailure.input(error)
            }
            let entries = DialectCatalog.entries()
            let width = entries.map(\.name.count).max() ?? 0
            for entry in entries {
                print(
                    "\(entry.name.padding(toLength: width, withPad: " ", startingAt: 0))  \(entry.transport.padding(toLength: 9, withPad: " ", startingAt: 0))  \(entry.summary)"
                )
                if let path = entry.path { print(String(repeating: " ", count: width + 13) + "file: \(path)") }
            }
            return
        }
        for file in files {
            let dialect: DialectFile
            do {
                dialect = try DialectCatalog.load(file, flag: "")
            } catch {
                throw CommandFailure(
                    message: error.message.trimmingCharacters(in: .whitespaces), exitCode: ExitCodes.usage)
            }
            print("\(dialect.source): ok — \(dialect.transport.rawValue) dialect \"\(dialect.name)\"")
            print(
                "  input: \(dialect.input)\(dialect.sendsAudio ? "" : " (it sends no audio: TTFA runs from the request at the end of speech)")"
            )
            if let request = dialect.request {
                let body: String
                switch request.body {
                case .none: body = "no body"
                case .json: body = "a JSON body"
                case .raw(let t):
                    body =
                        t.sole == .audioWAV
                        ? "the WAV file as the body" : t.sole == .audioRaw ? "the raw audio as the body" : "a text body"
                case .multipart(let parts): body = "multipart (\(parts.map(\.name).joined(separator: ", ")))"
                }
                print(
                    "  request: \(request.method) with \(body)\(request.headers.isEmpty ? "" : ", headers \(request.headers.map(\.name).joined(separator: ", "))")"
                )
            } else {
                print(
                    "  set-up: \(dialect.setup.count) message(s)\(dialect.ready.isEmpty ? "" : ", then waits for \(DialectInterpreter.describe(dialect.ready))")"
                )
                if case .binaryAudio = dialect.audioMessage {
                    print("  audio: binary messages")
                } else {
                    print("  audio: a text message per chunk")
                }
                print("  end of speech: \(dialect.endOfSpeech.count) message(s)")
            }
            let e = dialect.events
            if !e.audio.isEmpty { print("  audio events: \(DialectInterpreter.describe(e.audio))") }
            if let binary = e.binaryAudio { print("  audio events: binary messages, \(binary)") }
            print("  end: \(e.end.isEmpty ? "the end of the response" : DialectInterpreter.describe(e.end))")
            if !e.error.isEmpty { print("  errors: \(DialectInterpreter.describe(e.error))") }
            print(
                "  served by `ttfa serve --\(dialect.transport == .sse ? "sse" : "ws")-dialect \(file)` at \(dialect.path)"
            )
        }
    }
}
