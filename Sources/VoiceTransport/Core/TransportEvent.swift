@_exported import WebRTCMedia

/// One event with the monotonic time (nanoseconds) at which it happened, and the turn it
/// belongs to.
///
/// For received data, `t` is taken inside the libcurl callback or right after `curl_easy_recv`
/// returned, before any hop to another thread. Dialect events derived from a wire event carry
/// the wire event's `t` and `turn`.
package struct TimedEvent: Sendable {
    package var t: Int64
    package var event: TransportEvent
    /// The turn whose request produced the event: the replay's own events (chunks, end of
    /// speech) and everything an SSE request brings back carry it. Nil for connection-level
    /// events — connection set-up, pings and WebSocket messages, which share one connection and
    /// are attributed by the dialect (response ids) instead.
    package var turn: Int?

    package init(t: Int64, _ event: TransportEvent, turn: Int? = nil) {
        self.t = t
        self.event = event
        self.turn = turn
    }
}

/// Phase durations of connection setup, from libcurl (`CURLINFO_*_TIME_T`).
package struct ConnectTimings: Sendable, Equatable {
    /// Name resolution, nanoseconds.
    package var dnsNs: Int64
    /// TCP connect after name resolution, nanoseconds.
    package var connectNs: Int64
    /// TLS handshake after TCP connect, nanoseconds; nil for plain `http`/`ws`.
    package var tlsNs: Int64?
    /// Whether an existing keep-alive connection was reused (then all durations are zero).
    package var reused: Bool

    package init(dnsNs: Int64, connectNs: Int64, tlsNs: Int64?, reused: Bool) {
        self.dnsNs = dnsNs
        self.connectNs = connectNs
        self.tlsNs = tlsNs
        self.reused = reused
    }
}

/// libcurl's own cumulative timers for one transfer, in nanoseconds since the transfer started
/// (`CURLINFO_NAMELOOKUP_TIME_T` … `CURLINFO_TOTAL_TIME_T`), recorded beside our stamps.
package struct CurlTimes: Sendable, Equatable, Codable {
    package var namelookupNs: Int64
    package var connectNs: Int64
    package var appconnectNs: Int64
    package var pretransferNs: Int64
    package var starttransferNs: Int64
    package var totalNs: Int64
    /// HTTP version libcurl used ("1.1", "2").
    package var httpVersion: String

    /// No transfer happened (a request aborted before it started).
    package static let zero = CurlTimes(
        namelookupNs: 0, connectNs: 0, appconnectNs: 0, pretransferNs: 0, starttransferNs: 0, totalNs: 0,
        httpVersion: "")
}

/// How long each step of setting up a WebRTC call took, nanoseconds.
package struct WebRTCTimings: Sendable, Equatable, Codable {
    /// The client-secret request to the edge (nil: no secret was minted for this call).
    package var secretNs: Int64?
    /// Offer created (with its ICE candidates), POSTed to the calls URL, answer received.
    package var offerAnswerNs: Int64
    /// Answer applied → ICE connected.
    package var iceNs: Int64
    /// ICE connected → DTLS done (the peer connection connected).
    package var dtlsNs: Int64
    /// DTLS done → the data channel open.
    package var dataChannelNs: Int64
    /// DTLS done → the first RTP packet of the remote track (nil: none before the session was ready).
    package var firstRTPNs: Int64?

    package init(
        secretNs: Int64?, offerAnswerNs: Int64, iceNs: Int64, dtlsNs: Int64, dataChannelNs: Int64, firstRTPNs: Int64?
    ) {
        self.secretNs = secretNs
        self.offerAnswerNs = offerAnswerNs
        self.iceNs = iceNs
        self.dtlsNs = dtlsNs
        self.dataChannelNs = dataChannelNs
        self.firstRTPNs = firstRTPNs
    }
}

/// A complete WebSocket message as delivered to the application.
package enum WebSocketMessage: Sendable, Equatable {
    case text(String)
    case binary([UInt8])
}

/// Which side started a WebSocket close handshake.
package enum CloseInitiator: String, Sendable, Codable {
    case server, client
}

/// Everything a transport reports while it runs: connection phases, wire events, replay
/// progress, and what the dialect made of the wire events.
package indirect enum TransportEvent: Sendable {
    // MARK: connection
    /// DNS/TCP/TLS finished (or a keep-alive connection was reused).
    case connected(ConnectTimings)
    /// HTTP response headers arrived (SSE responses; WebSocket upgrades that were refused).
    case httpResponse(status: Int, contentType: String?)
    /// The WebSocket upgrade completed; `upgradeNs` is request sent → 101 received.
    case webSocketOpen(upgradeNs: Int64)
    /// The session is configured: the set-up messages (`session.update`) went out and the
    /// server acknowledged them (`timedOut`: it did not within the connect timeout). Audio
    /// flows from here.
    case sessionReady(timedOut: Bool)
    /// libcurl's timers for a finished connect (WebSocket).
    case curlTimes(CurlTimes)
    /// A WebRTC call is set up: how long each step took.
    case webRTCSetup(WebRTCTimings)
    /// A request's transfer is over (SSE), always its last event: libcurl's timers, and the
    /// transport-level failure if it did not end normally (nil: the response ended cleanly).
    case transferEnd(CurlTimes, TransportError?)

    // MARK: wire
    case sse(SSEEvent)
    case webSocketMessage(WebSocketMessage)
    case webSocketPing([UInt8])
    case webSocketPong([UInt8])
    case webSocketClose(code: UInt16?, reason: String, by: CloseInitiator)
    /// A text message on a WebRTC data channel (the Realtime events of `oai-events`).
    case dataChannelMessage(String)
    /// A packet of a WebRTC call's remote audio track; `t` is its arrival at the socket.
    case rtp(RTPArrival)

    // MARK: replay
    /// Audio chunk `index` left on the connection (WebSocket). `t` is when its write started;
    /// `lagNs` is the harness's lateness — start − max(scheduled, when the connection could
    /// take it) — and `blockedNs` the time the write waited for a full socket (the network's).
    case chunkSent(index: Int, scheduled: Int64, lagNs: Int64, blockedNs: Int64)
    /// Audio chunk `index` was captured (SSE records the microphone and uploads later);
    /// `lagNs` is capture time − scheduled.
    case chunkCaptured(index: Int, scheduled: Int64, lagNs: Int64)
    /// The end of speech was acted on: `t` is when the client's work for it began (building
    /// the request body; building commit + `response.create`), `lagNs` the harness's lateness
    /// and `blockedNs` time spent waiting for a full socket.
    case speechEnd(scheduled: Int64, lagNs: Int64, blockedNs: Int64)
    /// The client's work after the end of speech is done (SSE: WAV + base64 + JSON body;
    /// WebSocket: commit and `response.create` framed); `ns` is how long it took.
    case encoded(ns: Int64)
    /// The request body was fully handed to the socket (SSE).
    case uploadDone(bytes: Int)
    /// The first byte of the HTTP response arrived (SSE).
    case firstByte

    // MARK: dialect
    /// The answer this turn is bound to: the Realtime response created after this turn's
    /// `response.create`, or the Chat Completions stream's id.
    case responseStarted(id: String)
    /// A dialect event of this turn's answer that carried a non-empty audio payload; `bytes` is
    /// the decoded size, `response` the id of the answer it belongs to.
    case audio(bytes: Int, response: String?)
    /// Transcript text of the spoken answer.
    case transcript(String)
    /// The endpoint reported an error inside the protocol. Not fatal by itself.
    case serverError(message: String, code: String?)
    /// A Realtime `response.done` arrived (any response, this turn's or not).
    case responseDone(id: String?)
    /// When a receiver with the configured jitter buffer would start playing this turn's
    /// answer (WebRTC): monotonic ns.
    case playout(at: Int64)
    /// The answer is complete (`response.done`, `data: [DONE]`).
    case turnEnd
    /// The items a turn added to the conversation were deleted (`ok`), or could not be.
    case contextCleared(ok: Bool, detail: String)
    /// The turn (and, for WebSocket, the connection) failed.
    case failure(TransportError)

    // MARK: attribution
    /// Something the peer sent that broke the protocol's rules without failing the turn — audio
    /// of another response, a response nobody asked for, an error after the answer was
    /// complete. Recorded with the trial, never counted as its audio.
    case anomaly(String)
    /// An event of another turn's request (a stale SSE event): dropped, counted, shown in
    /// `trace`, never interpreted.
    case stale(turn: Int, event: TransportEvent)
}
