import Foundation

/// Failures the reference server reproduces on request (`?fault=NAME`), each one seen in real
/// deployments. With `fault_every=N` only every N-th request of the same URL misbehaves, so a
/// multi-trial run meets the fault between good answers.
package enum Fault: String, Sendable, CaseIterable {
    /// Answers the WebSocket upgrade with a plain HTTP 200 page, as an edge platform without
    /// WebSocket support does.
    case rejectUpgrade = "reject-upgrade"
    /// Drops the TCP connection after reading the request, before any response ("WebSocket is
    /// closed before the connection is established").
    case closeBeforeUpgrade = "close-before-upgrade"
    /// Sends part of the answer (two audio deltas), then drops the connection.
    case dropMidStream = "drop-mid-stream"
    /// Sends the whole answer (`data: [DONE]`; `response.done`), then drops the connection
    /// without ending the HTTP response (no terminating zero-length chunk) or the WebSocket (no
    /// close frame).
    case dropAfterDone = "drop-after-done"
    /// Sends the first event, then nothing.
    case stall
    /// HTTP 500 with the API's JSON error.
    case http500 = "http-500"
    /// HTTP 429 rate limit with the API's JSON error and `Retry-After`.
    case http429 = "http-429"
    /// A malformed JSON event in the middle of the answer, then the end of the answer.
    case badJSON = "bad-json"
    /// An event that is not JSON at all in the middle of the answer; the answer then goes on
    /// as if nothing happened.
    case garbageEvent = "garbage-event"
    /// An error chunk / `error` event after the first audio; the answer then goes on.
    case errorMidStream = "error-mid-stream"
    /// A complete answer with transcript but no audio.
    case noAudio = "no-audio"
    /// The API reports an error inside the protocol (`error` event / failed response; an
    /// `error` SSE chunk).
    case serverError = "server-error"
    /// `OPTIONS` on the SSE endpoint is answered 405 with a JSON body (many APIs do).
    case optionsBody = "options-body"
    /// The POST is refused with 413 and nginx's HTML error page (CRLF line ends), as a proxy
    /// with a 1 MB `client_max_body_size` answers a long recording.
    case bodyTooLarge = "body-too-large"
    /// The server closes the kept-alive connection shortly (100 ms) after each answer, as a
    /// short keep-alive timeout or a recycling edge function does.
    case closeIdle = "close-idle"
    /// WebSocket: before answering a `response.create`, an audio delta of the previous
    /// response arrives (a late delta of the last answer).
    case staleDelta = "stale-delta"
    /// WebSocket: while the user is still speaking, the server starts a response of its own
    /// and streams audio, before any commit.
    case earlyAudio = "early-audio"
    /// WebRTC: the calls endpoint refuses the SDP offer (HTTP 400).
    case sdpRefused = "sdp-refused"
    /// WebRTC: the SDP answer carries no ICE candidates and its peer is gone, so ICE never
    /// completes.
    case iceNever = "ice-never"
    /// WebRTC: the answer rejects the data channel's m-line, so `oai-events` never opens.
    case noDataChannel = "no-datachannel"
    /// WebRTC: the data channel closes after the answer's first audio.
    case closeDataChannel = "close-datachannel"
    /// WebRTC: the audio track stops sending mid-answer (no more packets, no `stopped`).
    case rtpStops = "rtp-stops"

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
