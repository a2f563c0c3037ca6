import ArgumentParser
import Checks
import Foundation
import LinkEmulator
import ReferenceServer
import Replay
import Reports
import RunSession
import Storage
import Synchronization
import TTFASupport
import VoiceTransport

struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract:
            "Replay recordings through both transports, store every trial, print the comparison (the default command).",
        discussion: """
            With no --ws-url/--sse-url, ttfa starts its reference server in-process and measures \
            against it. Trials are interleaved (websocket, sse, websocket, …); warm-up rounds come \
            first and are stored but left out of the statistics. Every trial is stored in the \
            results database the moment it finishes.

            Examples:
              The default comparison against the embedded server:
                ttfa
              More trials, a machine-readable summary on stdout:
                ttfa run --trials 20 --json
              Real endpoints (the key is read from the environment, never stored):
                ttfa run --ws-url 'wss://api.openai.com/v1/realtime?model=gpt-realtime' \\
                  --sse-url https://my-edge.example.com/v1/chat/completions \\
                  --header 'Authorization: Bearer $OPENAI_API_KEY'

            Thresholds and A/B (see the README's CI section):
              ttfa run --threshold 'websocket.ttfa.p95 < 700ms' --threshold 'sse.failed < 5%' --junit ttfa.xml
              ttfa run --sse-profile edge-sse --candidate-sse-profile my-edge-v2.yaml

            Exit codes: 0 no trial failed (invalid trials within --max-invalid are only reported); \
            1 a threshold failed, or the A/B candidate regressed (ahead of 3); \
            2 bad input, nothing measured; 3 trials failed, too many were invalid, or every warm-up \
            of a transport failed; 130 interrupted (completed trials are kept).
            """
    )

    @OptionGroup var options: RunOptions

    func run() async throws {
        let plan: RunPlan
        do {
            plan = try RunPlan.make(try options.request())
        } catch let error as RunInputError {
            throw CommandFailure(message: error.message, exitCode: ExitCodes.usage)
        }
        let status: RunOutcome.Status
        do {
            let outcome = try await options.database.withStore(create: true) { store in
                try await RunSession(plan: plan, store: store, progress: Terminal.stderrIsTTY ? .bar : .lines).run()
            }
            status = try outcome.write()
        } catch let error as RunInputError {
            throw CommandFailure(message: error.message, exitCode: ExitCodes.usage)
        }
        switch status {
        case .success: return
        case .checkFailed: throw ExitCode(ExitCodes.checkFailed)
        case .trialsFailed: throw ExitCode(ExitCodes.trialsFailed)
        case .interrupted: throw ExitCode(ExitCodes.interrupted)
        case .storeFailed: throw ExitCode(ExitCodes.usage)
        }
    }
}
