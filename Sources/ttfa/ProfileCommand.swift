import ArgumentParser
import Foundation
import ReferenceServer
import Statistics
import TTFASupport

/// `ttfa profile list|show|fit`: the deployment profiles the reference server plays.
struct ProfileCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "profile",
        abstract: "List, show and fit deployment profiles of the reference server.",
        discussion: """
            A profile models what an endpoint does between a complete request and its first audio \
            (edge function invocation, cold starts, upstream TLS, ingest, model time) and how it \
            paces the answer. Give a preset's name or a JSON/YAML file to --profile.
            """,
        subcommands: [List.self, Show.self, Fit.self]
    )

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the preset profiles.")

        func run() {
            for preset in DeploymentProfile.presets {
                print("\(preset.name.padding(toLength: 10, withPad: " ", startingAt: 0))  \(preset.description)")
            }
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Print a profile (preset or file) as YAML, every parameter spelled out: a starting point for your own.",
            discussion: "Example: ttfa profile show edge-sse > my-edge.yaml")

        @Argument(help: "A preset's name or a profile file.")
        var profile: String

        @Flag(help: "JSON instead of YAML.")
        var json = false

        func run() throws {
            let loaded: DeploymentProfile
            do {
                loaded = try DeploymentProfile.load(profile)
            } catch {
                throw CommandFailure(message: error.message, exitCode: ExitCodes.usage)
            }
            print(json ? loaded.jsonText : loaded.yamlText, terminator: json ? "\n" : "")
        }
    }

    struct Fit: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Derive a profile from a run measured against a real endpoint.",
            discussion: """
                Server time (first audio − the moment the request had left the client) of every ok \
                trial becomes the model's time to first audio (log-normal), minus an ingest cost per \
                second of audio when the run had recordings of different lengths; the audio events \
                give the answer's pacing. The server time includes the round trip of the network the \
                run was measured on: pass --rtt-ms to subtract a known one.

                The round trip: measure your endpoint, fit, replay it under another network:
                  ttfa run --transport sse --sse-url https://my-edge.example.com/v1/chat/completions --trials 20
                  ttfa profile fit --run latest --transport sse --out my-edge.yaml
                  ttfa run --sse-profile my-edge.yaml --link 4g
                """)

        @OptionGroup var database: DatabaseOptions
        @OptionGroup var selection: RunSelection

        @Option(help: "The transport whose endpoint to fit (needed when the run measured several).")
        var transport: String?

        @Option(help: "Where to write the profile: .yaml/.yml or .json.")
        var out: String

        @Option(help: "Name of the fitted profile (default: the output file's name).")
        var name: String?

        @Option(
            name: .customLong("rtt-ms"),
            help: "A known round-trip time to the endpoint, subtracted from every server time.")
        var rttMs: Double = 0

        func validate() throws {
            guard out.hasSuffix(".yaml") || out.hasSuffix(".yml") || out.hasSuffix(".json") else {
                throw ValidationError("--out \(out): give a file ending in .yaml, .yml or .json")
            }
            guard rttMs >= 0 else { throw ValidationError("--rtt-ms cannot be negative, got \(rttMs)") }
        }

        func run() async throws {
            let (run, trials) = try await database.withStore(create: false) { store in
                let run = try await selection.resolve(in: store)
                return (run, try await store.trials(runID: run.id!))
            }
            let measured = Array(Set(trials.map(\.transport))).sorted()
            let chosen: String
            if let transport {
                guard measured.contains(transport) else {
                    throw CommandFailure(
                        message:
                            "run \(run.id!) has no \(transport) trials; it measured \(measured.joined(separator: ", "))",
                        exitCode: ExitCodes.usage)
                }
                chosen = transport
            } else {
                guard measured.count == 1 else {
                    throw CommandFailure(
                        message:
                            "run \(run.id!) measured \(measured.joined(separator: " and ")); say which with --transport",
                        exitCode: ExitCodes.usage)
                }
                chosen = measured[0]
            }
            let fit: ProfileFit
            do {
                fit = try ProfileFit(
                    trials: trials, transport: chosen,
                    name: name ?? URL(fileURLWithPath: out).deletingPathExtension().lastPathComponent, rttMs: rttMs)
            } catch {
                throw CommandFailure(message: "run \(run.id!): \(error)", exitCode: ExitCodes.usage)
            }
            let text = out.hasSuffix(".json") ? fit.profile.jsonText + "\n" : fit.profile.yamlText
            do {
                try Data(text.utf8).write(to: URL(fileURLWithPath: out), options: .atomic)
            } catch {
                throw CommandFailure(
                    message:
                        "--out \(out): cannot write (\(error.localizedDescription)); check the folder exists and is writable",
                    exitCode: ExitCodes.usage)
            }
            let model = fit.profile.firstAudio
            Terminal.error(
                "wrote \(out): \(fit.trials) \(chosen) trials; server time median \(Format.ms(fit.serverMedianMs)), p95 \(Format.ms(fit.serverP95Ms)); model \(model); ingest \(fit.profile.ingestMsPerAudioSecond) ms per s of audio\n"
            )
        }
    }
}
