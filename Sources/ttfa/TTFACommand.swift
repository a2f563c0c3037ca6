import ArgumentParser
import CPosix
import Foundation
import Logging
import Storage
import TTFASupport
import VoiceTransport

/// The `ttfa` executable: time to first audio, WebSocket versus HTTP POST + SSE.
@main
struct TTFACommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ttfa",
        abstract: "Measure time to first audio of a voice assistant over WebSocket and HTTP POST + SSE.",
        discussion: """
            With no subcommand, `ttfa` runs the default comparison against the embedded reference server.

            Exit codes: 0 success; 1 a threshold or regression check failed; 2 usage or input error \
            (nothing was measured); 3 measured, but some trials failed or were invalid; 130 interrupted.
            """,
        version: TTFAInfo.versionLine,
        subcommands: [
            RunCommand.self, MonitorCommand.self, TraceCommand.self, ServeCommand.self, RunsCommand.self,
            ReportCommand.self,
            ExportCommand.self, CompareCommand.self, BaselineCommand.self, DatabaseCommand.self, ConfigCommand.self,
            ProfileCommand.self, LinkCommand.self, DialectsCommand.self,
        ],
        defaultSubcommand: RunCommand.self
    )

    /// Runs the command line, mapping errors to the documented exit codes (ArgumentParser's
    /// own usage errors would exit with 64; the contract says 2).
    static func main() async {
        ttfa_line_buffer_stdout()  // machine output line by line, even into a pipe
        // A write past the file-size limit (ulimit -f) fails with EFBIG, which the store reports
        // and the run stops on, keeping its trials — instead of SIGXFSZ ending the process.
        signal(SIGXFSZ, SIG_IGN)
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel =
                ProcessInfo.processInfo.environment["TTFA_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .warning
            return handler
        }
        do {
            // A run file becomes arguments before parsing (`ttfa run --config ttfa.yaml`).
            let given = Array(CommandLine.arguments.dropFirst())
            // `ttfa --version --json`: the version, the commit and the build date as one object.
            if Set(given) == ["--version", "--json"] {
                print(TTFAInfo.versionJSON.serialized())
                return
            }
            var command = try parseAsRoot(try RunFile.expand(given)?.arguments ?? given)
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch let exit as ExitCode {
            Foundation.exit(exit.rawValue)
        } catch let error as CommandFailure {
            FileHandle.standardError.write(Data("ttfa: \(error.message)\n".utf8))
            Foundation.exit(error.exitCode)
        } catch let error as StoreError {
            // A store that cannot be opened, read or written: nothing more can be done.
            FileHandle.standardError.write(Data("ttfa: \(error.message)\n".utf8))
            Foundation.exit(ExitCodes.usage)
        } catch {
            let code = exitCode(for: error)
            if code == .success {
                self.exit(withError: error)  // --help, --version
            }
            FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
            Foundation.exit(ExitCodes.usage)
        }
    }
}

/// The documented exit codes.
enum ExitCodes {
    static let success: Int32 = 0
    static let checkFailed: Int32 = 1
    static let usage: Int32 = 2
    static let trialsFailed: Int32 = 3
    static let interrupted: Int32 = 130
}

/// An error that ends the program with a message and an exit code.
struct CommandFailure: Error {
    var message: String
    var exitCode: Int32

    static func input(_ error: TransportError) -> CommandFailure {
        CommandFailure(message: error.message, exitCode: ExitCodes.usage)
    }
}
