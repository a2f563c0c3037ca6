/// The two transports ttfa compares. The raw values are stored and printed.
public enum TransportKind: String, Sendable, Codable, CaseIterable, Hashable {
    /// OpenAI Realtime over WebSocket: audio streams while the user speaks.
    case websocket
    /// OpenAI Chat Completions audio over HTTP POST + Server-Sent Events: the recording is
    /// POSTed at speech end, audio streams back as SSE.
    case sse
}

/// One event with the monotonic time (nanoseconds) at which it happened.
///
/// For received data, `t` is taken inside the libcurl callback or right after `curl_easy_recv`
/// returned, before any hop to another thread. Dialect events derived from a wire event carry
/// the wire event's `t`.
public struct TimedEvent: Sendable {
    public var t: Int64
    public var event: TransportEvent

    public init(t: Int64, _ event: TransportEvent) {
        self.t = t
        self.event = event
    }
}

/// Phase durations of connection setup, from libcurl (`CURLINFO_*_TIME_T`).
public struct ConnectTimings: Sendable, Equatable {
    /// Name resolution, nanoseconds.
    public var dnsNs: Int64
    /// TCP connect after name resolution, nanoseconds.
    public var connectNs: Int64
    /// TLS handshake after TCP connect, nanoseconds; nil for plain `http`/`ws`.
    public var tlsNs: Int64?
    /// Whether an existing keep-alive connection was reused (then all durations are zero).
    public var reused: Bool

    public init(dnsNs: Int64, connectNs: Int64, tlsNs: Int64?, reused: Bool) {
        self.dnsNs = dnsNs
        self.connectNs = connectNs
        self.tlsNs = tlsNs
        self.reused = reused
    }
}

/// libcurl's own cumulative timers for one transfer, in nanoseconds since the transfer started
/// (`CURLINFO_NAMELOOKUP_TIME_T` … `CURLINFO_TOTAL_TIME_T`), recorded beside our stamps.
public struct CurlTimes: Sendable, Equatable, Codable {
    public var namelookupNs: Int64
    public var connectNs: Int64
    public var appconnectNs: Int64
    public var pretransferNs: Int64
    public var starttransferNs: Int64
    public var totalNs: Int64
    /// HTTP version libcurl used ("1.1", "2").
    public var httpVersion: String
}

/// A complete WebSocket message as delivered to the application.
public enum WebSocketMessage: Sendable, Equatable {
    case text(String)
    case binary([UInt8])
}

/// Which side started a WebSocket close handshake.
public enum CloseInitiator: String, Sendable, Codable {
    case server, client
}

/// Everything a transport reports while it runs: connection phases, wire events, replay
/// progress, and what the dialect made of the wire events.
public enum TransportEvent: Sendable {
    // MARK: connection
    /// DNS/TCP/TLS finished (or a keep-alive connection was reused).
    case connected(ConnectTimings)
    /// HTTP response headers arrived (SSE responses; WebSocket upgrades that were refused).
    case httpResponse(status: Int, contentType: String?)
    /// The WebSocket upgrade completed; `upgradeNs` is request sent → 101 received.
    case webSocketOpen(upgradeNs: Int64)
    /// libcurl's timers for a finished transfer or connect.
    case curlTimes(CurlTimes)

    // MARK: wire
    case sse(SSEEvent)
    case webSocketMessage(WebSocketMessage)
    case webSocketPing([UInt8])
    case webSocketPong([UInt8])
    case webSocketClose(code: UInt16?, reason: String, by: CloseInitiator)

    // MARK: replay
    /// Audio chunk `index` left (WebSocket) or was captured (SSE); lag is actual − scheduled.
    case chunkSent(index: Int, scheduled: Int64, lagNs: Int64)
    /// End of speech was signalled (WebSocket: commit + response.create sent; SSE: POST begun).
    case speechEnd(scheduled: Int64, lagNs: Int64)
    /// The request body was fully handed to the socket (SSE).
    case uploadDone(bytes: Int)
    /// The first byte of the HTTP response arrived (SSE).
    case firstByte
    /// The HTTP response body ended normally (SSE).
    case streamEnd

    // MARK: dialect
    /// A dialect event that carried a non-empty audio payload; `bytes` is the decoded size.
    case audio(bytes: Int)
    /// Transcript text of the spoken answer.
    case transcript(String)
    /// The endpoint reported an error inside the protocol. Not fatal by itself.
    case serverError(message: String, code: String?)
    /// The answer is complete (`response.done`, `data: [DONE]`).
    case turnEnd
    /// The turn (and, for WebSocket, the connection) failed.
    case failure(TransportError)
}
