import Foundation

/// Failures the reference server reproduces on request (`?fault=NAME`), each one seen in real
/// deployments.
public enum Fault: String, Sendable, CaseIterable {
    /// Answers the WebSocket upgrade with a plain HTTP 200 page, as an edge platform without
    /// WebSocket support does.
    case rejectUpgrade = "reject-upgrade"
    /// Drops the TCP connection after reading the request, before any response ("WebSocket is
    /// closed before the connection is established").
    case closeBeforeUpgrade = "close-before-upgrade"
    /// Sends part of the answer (two audio deltas), then drops the connection.
    case dropMidStream = "drop-mid-stream"
    /// Sends the first event, then nothing.
    case stall
    /// HTTP 500 with the API's JSON error.
    case http500 = "http-500"
    /// HTTP 429 rate limit with the API's JSON error and `Retry-After`.
    case http429 = "http-429"
    /// A malformed JSON event in the middle of the answer.
    case badJSON = "bad-json"
    /// A complete answer with transcript but no audio.
    case noAudio = "no-audio"
    /// The API reports an error inside the protocol (`error` event / failed response; an
    /// `error` SSE chunk).
    case serverError = "server-error"

    /// Faults that happen before a WebSocket upgrade, in front of the server (as an edge
    /// platform or proxy would produce them).
    var isUpgradeFault: Bool {
        switch self {
        case .rejectUpgrade, .closeBeforeUpgrade, .http500, .http429: true
        default: false
        }
    }

    static var names: String { allCases.map(\.rawValue).joined(separator: ", ") }
}

/// Per-request options from the query string.
struct RequestOptions: Sendable, Equatable {
    var firstAudioMs: Int?
    var fault: Fault?

    enum Problem: Error, Equatable {
        case badFirstAudio(String)
        case unknownFault(String)

        var message: String {
            switch self {
            case .badFirstAudio(let value):
                "first_audio_ms=\(value) is not a whole number of milliseconds between 0 and 600000"
            case .unknownFault(let value):
                "fault=\(value) is not a known fault; known faults: \(Fault.names)"
            }
        }
    }

    /// Parses `first_audio_ms` and `fault` from a request target's query (other parameters,
    /// such as `model`, are ignored).
    init(target: String) throws(Problem) {
        guard let question = target.firstIndex(of: "?") else { return }
        for pair in target[target.index(after: question)...].split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = String(parts[0])
            let value = parts.count > 1 ? (String(parts[1]).removingPercentEncoding ?? String(parts[1])) : ""
            switch name {
            case "first_audio_ms":
                guard let ms = Int(value), (0...600_000).contains(ms) else { throw .badFirstAudio(value) }
                firstAudioMs = ms
            case "fault":
                guard let fault = Fault(rawValue: value) else { throw .unknownFault(value) }
                self.fault = fault
            default:
                continue
            }
        }
    }

    init() {}
}

