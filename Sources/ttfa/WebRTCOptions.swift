import ArgumentParser
import Replay
import VoiceTransport

/// What a WebRTC call needs beyond its URL: where the edge mints the client secret, STUN/TURN
/// servers, and the jitter buffer `playout_ms` models.
struct WebRTCOptions: ParsableArguments {
    @Option(
        name: .customLong("webrtc-secret-url"),
        help: ArgumentHelp(
            "Where the edge mints the WebRTC client secret (POST, answer {\"value\": \"ek_...\"}); default: beside the calls URL (.../realtime/client_secrets); none: the call is authorized by the request headers themselves.",
            valueName: "url|none"))
    var secretURL: String?

    @Option(
        name: .customLong("stun"),
        help: ArgumentHelp(
            "STUN server for the webrtc transport (default: host candidates only).", valueName: "stun://host:port"))
    var stun: String?

    @Option(
        name: .customLong("turn-server"),
        help: ArgumentHelp(
            "TURN server for the webrtc transport (its password is masked everywhere ttfa writes).",
            valueName: "turn://user:password@host:port"))
    var turnServer: String?

    @Option(
        name: .customLong("jitter-buffer"),
        help: ArgumentHelp(
            "The receiver's jitter buffer that webrtc's playout time models (a browser's initial target).",
            valueName: "duration"))
    var jitterBuffer = "40ms"

    func settings() throws -> WebRTCSettings {
        var settings = WebRTCSettings()
        switch secretURL {
        case nil: settings.secret = .besideCalls
        case "none"?: settings.secret = .none
        case let url?:
            guard url.hasPrefix("http://") || url.hasPrefix("https://") else {
                throw CommandFailure(
                    message: "--webrtc-secret-url \(url) is neither an http(s) URL nor none", exitCode: ExitCodes.usage)
            }
            settings.secret = .url(url)
        }
        if let stun, !stun.hasPrefix("stun://") {
            throw CommandFailure(message: "--stun \(stun) must look like stun://host:port", exitCode: ExitCodes.usage)
        }
        if let turnServer, !(turnServer.hasPrefix("turn://") || turnServer.hasPrefix("turns://")) {
            throw CommandFailure(
                message: "--turn-server must look like turn://user:password@host:port", exitCode: ExitCodes.usage)
        }
        settings.stun = stun
        settings.turn = turnServer
        let ns: Int64
        do throws(ArrivalSchedule.ScheduleError) {
            ns = try ArrivalSchedule.parseDuration(jitterBuffer, flag: "--jitter-buffer")
        } catch {
            throw CommandFailure(message: error.description, exitCode: ExitCodes.usage)
        }
        guard ns <= 2_000_000_000 else {
            throw CommandFailure(
                message: "--jitter-buffer \(jitterBuffer) is longer than 2 s; a receiver plays sooner than that",
                exitCode: ExitCodes.usage)
        }
        settings.jitterBufferNs = ns
        return settings
    }
}
