/// Why a trial failed, as a short stable word. These words are stored in the database and
/// exported to CSV, so they never change meaning.
package enum ErrorKind: String, Sendable, Codable, CaseIterable, Hashable {
    /// The host name did not resolve.
    case dns
    /// TCP connect failed or timed out (refused, unreachable).
    case connect
    /// TLS handshake or certificate verification failed.
    case tls
    /// The WebSocket upgrade was refused, or the connection closed before it completed.
    case handshake
    /// The endpoint answered with an HTTP error status (4xx, 5xx).
    case httpStatus = "http_status"
    /// The endpoint spoke, but not the expected protocol or dialect (bad frames, bad JSON,
    /// wrong content type, events out of order).
    case `protocol`
    /// No complete answer within the timeout.
    case timeout
    /// The connection closed before the answer was complete.
    case closed
    /// The endpoint reported an error inside the protocol (an `error` event, a failed response).
    case serverError = "server_error"
    /// The answer completed without any audio.
    case noAudio = "no_audio"
    /// Our input was unusable (recording, flag, URL).
    case input
    /// A bug or resource failure in ttfa itself.
    case `internal`
}

/// A failure with its stable kind and a message a person can act on.
///
/// The message names what failed (URL, file, status) and, where we know it, what to do.
/// It never contains secrets: transports pass their messages through `SecretRedactor`.
package struct TransportError: Error, Sendable, CustomStringConvertible, Equatable {
    package var kind: ErrorKind
    package var message: String

    package init(_ kind: ErrorKind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    package var description: String { "\(kind.rawValue): \(message)" }
}
