import Foundation
import WebRTCMedia

/// What a WebRTC call needs beyond the calls URL.
package struct WebRTCSettings: Sendable, Equatable {
    /// Where the edge mints a client secret (`POST`, JSON session in, `{"value": "ek_…"}` out):
    /// by default beside the calls URL (`…/realtime/client_secrets`); `.none`: the request
    /// headers authorize the call themselves.
    package var secret: SecretSource

    package enum SecretSource: Sendable, Equatable {
        case besideCalls
        case none
        case url(String)
    }
    /// `stun://host:port`, `turn://user:password@host:port` (nil: host candidates only).
    package var stun: String?
    package var turn: String?
    /// The receiver's jitter buffer that `playout_ms` models (a browser's initial target: 40 ms).
    package var jitterBufferNs: Int64

    package init(
        secret: SecretSource = .besideCalls, stun: String? = nil, turn: String? = nil,
        jitterBufferNs: Int64 = 40_000_000
    ) {
        self.secret = secret
        self.stun = stun
        self.turn = turn
        self.jitterBufferNs = jitterBufferNs
    }

    /// The edge's client-secret URL beside a calls URL: `…/realtime/calls` → `…/realtime/client_secrets`.
    package static func secretURL(besideCalls url: String) -> String? {
        guard let range = url.range(of: "/calls", options: .backwards) else { return nil }
        return url.replacingCharacters(in: range, with: "/client_secrets")
    }
}

/// One WebRTC call to an OpenAI Realtime endpoint: the client secret, the SDP offer and
/// answer over HTTP (libcurl), then ICE, DTLS-SRTP and the `oai-events` data channel on
/// GStreamer's webrtcbin. The microphone is the audio track: every 20 ms Opus frame leaves on
/// the replay clock (the loop's timer), frame k of the recording at (k+1) × 20 ms; the end of
/// speech is `input_audio_buffer.commit` + `response.create` on the data channel (manual turns)
/// or the server's own detection.
final class WebRTCClient: TransportClient, IOLoopClient, @unchecked Sendable {
    let endpoint: Endpoint
    private let settings: WebRTCSettings
    private let signaling: WebRTCSignaling
    private let options: RealtimeOptions
    private let model: String?
    private let redactor: SecretRedactor
    private let loop: IOLoop
    /// The emulated link the media crosses, if the run plays one.
    private let mediaLink: (any MediaLink)?
    private let emitEvent: @Sendable (TimedEvent) -> Void
    private let onFinish: @Sendable () -> Void
    private let condition = NSCondition()
    private var state = State()

    private struct Frame {
        var turn: Int
        var pcm: [Int16]
        /// Chunks whose last sample this frame carries: their index and schedule.
        var completes: [(index: Int, scheduled: Int64)]
    }

    private enum Item {
        case frame(Frame)
        case speechEnd(turn: Int, messages: [String])
    }

    private struct State {
        var peer: WebRTCPeer?
        var queue: [(due: Int64, seq: Int, item: Item)] = []
        var seq = 0
        var currentTurn: Int?
        /// Samples of the current turn not yet framed (less than 20 ms), and the chunks whose
        /// last sample they hold.
        var leftover: [Int16] = []
        var leftoverTurn: Int?
        var leftoverChunks: [(index: Int, scheduled: Int64, end: Int)] = []
        var localSDP: String?
        var iceAt: Int64?
        var connectedAt: Int64?
        var channelOpenAt: Int64?
        var channelClosed = false
        var firstRTPAt: Int64?
        var sessionAcknowledged = false
        var failure: TransportError?
        /// The client secret the edge minted: masked in every message, like the run's own secrets.
        var secret: String?
        /// The link emulator's stand-ins for the peer's addresses (closed with the call).
        var relays: [any MediaRelay] = []
        var ready = false
        /// When the call could first carry audio: a frame due earlier is late by the call's set-up,
        /// not by the harness.
        var readyAt: Int64 = .min
        var shuttingDown = false
        var finished = false
        var started = false
    }

    init(
        endpoint: Endpoint, settings: WebRTCSettings, signaling: WebRTCSignaling, options: RealtimeOptions,
        model: String?, redactor: SecretRedactor, loop: IOLoop, mediaLink: (any MediaLink)? = nil,
        emit: @escaping @Sendable (TimedEvent) -> Void, onFinish: @escaping @Sendable () -> Void
    ) {
        self.mediaLink = mediaLink
        self.endpoint = endpoint
        self.settings = settings
        self.signaling = signaling
        self.options = options
        self.model = model
        self.redactor = redactor
        self.loop = loop
        self.emitEvent = emit
        self.onFinish = onFinish
    }

    private func locked<T>(_ body: (inout State) -> T) -> T {
        condition.lock()
        defer {
            condition.broadcast()
            condition.unlock()
        }
        return body(&state)
    }

    /// Events come from the loop's thread (the microphone) and GStreamer's (packets, messages,
    /// states); the transport's batcher takes one thread at a time.
    private let emitLock = NSLock()

    private func emit(_ event: TransportEvent, at t: Int64 = MonotonicClock.now(), turn: Int? = nil) {
        emitLock.withLock { emitEvent(TimedEvent(t: t, event, turn: turn)) }
    }

    var connectionLost: Bool { locked { $0.failure != nil || $0.shuttingDown } }

    // MARK: set-up

    func open(ready: @escaping @Sendable (TransportError?) -> Void) {
        locked { $0.started = true }
        let thread = Thread { [self] in
            do throws(TransportError) {
                try setUp()
                ready(nil)
            } catch {
                fail(error)
                ready(redacted(error))
            }
        }
        thread.name = "ttfa-webrtc-setup"
        thread.start()
    }

    private func setUp() throws(TransportError) {
        let timeout = signaling.connectTimeout
        let start = MonotonicClock.now()
        var callHeaders = signaling.headers
        var secretNs: Int64?
        let secretURL: String?
        switch settings.secret {
        case .besideCalls: secretURL = WebRTCSettings.secretURL(besideCalls: endpoint.url.absoluteString)
        case .none: secretURL = nil
        case .url(let url): secretURL = url
        }
        if let secretURL {
            var session: [String: Any] = ["type": "realtime", "model": model ?? "gpt-realtime"]
            session["audio"] = ["output": ["voice": options.voice]]
            let body =
                (try? JSONSerialization.data(withJSONObject: ["session": session], options: [.sortedKeys]))
                .map { String(decoding: $0, as: UTF8.self) } ?? "{}"
            let response = try signaling.post(
                secretURL, body: body, contentType: "application/json", headers: [], timeoutNs: timeout)
            let secret = try WebRTCSignaling.secret(from: response, url: secretURL)
            locked { $0.secret = secret }
            secretNs = MonotonicClock.now() - start
            callHeaders = callHeaders.filter { $0.name.lowercased() != "authorization" }
            callHeaders.append(("Authorization", "Bearer \(secret)"))
        }
        let offerStart = MonotonicClock.now()
        let peer: WebRTCPeer
        do throws(WebRTCPeerError) {
            peer = try WebRTCPeer(offerer: true, stun: settings.stun, turn: settings.turn) { [weak self] t, event in
                self?.handle(t, event)
            }
        } catch {
            throw TransportError(.internal, "WebRTC is not available: \(error.description)")
        }
        let cancelled = locked { s -> Bool in
            s.peer = peer
            return s.shuttingDown
        }
        if cancelled { throw TransportError(.closed, "the transport was closed while the call was set up") }
        peer.createOffer()
        // The offer is this machine's work alone (GStreamer's start, the DTLS certificate, host
        // candidates): it gets the connect timeout or 30 s, whichever is longer, so a busy
        // machine's first call is not failed as if the endpoint had not answered.
        let localBudget = max(timeout, 30_000_000_000)
        var offer = try wait(
            until: offerStart + localBudget, "the local SDP offer (ICE gathering) was not ready", limitNs: localBudget
        ) {
            $0.localSDP
        }
        // Behind an emulated link the peer learns our address from the checks that cross it.
        if mediaLink != nil { offer = SDPCandidates.removingCandidates(offer) }
        let calls = WebRTCSignaling(
            headers: callHeaders, connectTimeout: signaling.connectTimeout, verifyTLS: signaling.verifyTLS,
            caFile: signaling.caFile, connectVia: signaling.connectVia)
        let response = try calls.post(
            endpoint.url.absoluteString, body: offer, contentType: "application/sdp", headers: [], timeoutNs: timeout)
        var answer = try WebRTCSignaling.answer(from: response, url: endpoint.url.absoluteString)
        if let mediaLink { answer = try relay(answer, through: mediaLink) }
        let answered = MonotonicClock.now()
        guard peer.setRemote(sdp: answer, isOffer: false) else {
            throw TransportError(.protocol, "the SDP answer from \(endpoint.redacted) does not parse")
        }
        let deadline = answered + timeout
        let iceAt = try wait(until: deadline, "ICE did not connect (no candidate pair worked)") { $0.iceAt }
        let connectedAt = try wait(until: deadline, "DTLS did not complete after ICE connected") { $0.connectedAt }
        let openAt = try wait(until: deadline, "the data channel oai-events did not open") { $0.channelOpenAt }
        peer.sendText(Self.sessionUpdate(options))
        let acknowledged =
            (try? wait(until: MonotonicClock.now() + timeout, "") { $0.sessionAcknowledged ? true : nil })
            ?? false
        let now = MonotonicClock.now()
        let firstRTP = locked { s -> Int64? in
            s.ready = true
            s.readyAt = MonotonicClock.now()
            return s.firstRTPAt
        }
        // What the microphone captured while the call was set up leaves now.
        loop.schedule(self, at: .min)
        emit(
            .webRTCSetup(
                WebRTCTimings(
                    secretNs: secretNs, offerAnswerNs: answered - offerStart, iceNs: iceAt - answered,
                    dtlsNs: connectedAt - iceAt, dataChannelNs: openAt - connectedAt,
                    firstRTPNs: firstRTP.map { $0 - connectedAt })), at: now)
        emit(.sessionReady(timedOut: !acknowledged), at: now)
    }

    /// The answer with the peer's candidates replaced by the link emulator's stand-ins.
    private func relay(_ answer: String, through link: any MediaLink) throws(TransportError) -> String {
        var byAddress: [String: (host: String, port: Int)] = [:]
        let rewritten: (sdp: String, relayed: Int)
        do {
            rewritten = try SDPCandidates.relaying(answer) { host, port in
                if let known = byAddress["\(host):\(port)"] { return known }
                let relay = try link.relay(toHost: host, port: port)
                locked { $0.relays.append(relay) }
                byAddress["\(host):\(port)"] = (relay.host, relay.port)
                return (relay.host, relay.port)
            }
        } catch {
            throw TransportError(.internal, "the link emulator could not relay the call's media: \(error)")
        }
        guard rewritten.relayed > 0 else {
            throw TransportError(
                .protocol,
                "the SDP answer from \(endpoint.redacted) has no UDP IPv4 candidate, which the link emulator needs to carry the media; run without --link"
            )
        }
        return rewritten.sdp
    }

    /// Waits until `value` has one, the call failed, or `deadline` passed.
    private func wait<T>(
        until deadline: Int64, _ what: String, limitNs: Int64? = nil, _ value: (State) -> T?
    ) throws(TransportError) -> T {
        condition.lock()
        defer { condition.unlock() }
        while true {
            if let failure = state.failure { throw failure }
            if state.shuttingDown {
                throw TransportError(.closed, "the transport was closed while the call was set up")
            }
            if let found = value(state) { return found }
            let now = MonotonicClock.now()
            if now >= deadline {
                throw TransportError(.timeout, "\(what) within \(Double(limitNs ?? signaling.connectTimeout) / 1e9) s")
            }
            _ = condition.wait(until: Date(timeIntervalSinceNow: Double(deadline - now) / 1e9))
        }
    }

    /// `session.update` for a WebRTC session: the voice and the turn detection (the audio
    /// formats are the tracks').
    static func sessionUpdate(_ options: RealtimeOptions) -> String {
        let turnDetection: Any =
            options.turnDetection.map { vad -> [String: Any] in
                [
                    "type": "server_vad", "threshold": vad.threshold, "prefix_padding_ms": vad.prefixPaddingMs,
                    "silence_duration_ms": vad.silenceDurationMs, "create_response": true,
                ]
            } ?? NSNull()
        var session: [String: Any] = [
            "type": "realtime",
            "audio": ["input": ["turn_detection": turnDetection], "output": ["voice": options.voice]],
        ]
        if let instructions = options.instructions { session["instructions"] = instructions }
        let data =
            (try? JSONSerialization.data(
                withJSONObject: ["type": "session.update", "session": session], options: [.sortedKeys])) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }

    // MARK: the peer's events (GStreamer's threads)

    private func handle(_ t: Int64, _ event: WebRTCPeer.Event) {
        switch event {
        case .localDescription(let sdp):
            locked { $0.localSDP = sdp }
        case .iceState(let ice):
            switch ice {
            case .connected, .completed: locked { $0.iceAt = $0.iceAt ?? t }
            case .failed: fail(TransportError(.connect, "ICE failed: no candidate pair reaches \(endpoint.host)"))
            default: break
            }
        case .connectionState(let connection):
            switch connection {
            case .connected:
                // A connected peer connection has connected ICE, but webrtcbin can deliver the
                // two notifications in either order (microseconds apart, on different threads):
                // ICE counts as connected no later than this, so no phase is ever negative.
                locked { s in
                    s.connectedAt = s.connectedAt ?? t
                    s.iceAt = s.iceAt ?? t
                }
            case .failed: fail(TransportError(.tls, "the WebRTC connection failed (DTLS or ICE)"))
            case .closed: fail(TransportError(.closed, "the WebRTC connection closed"))
            default: break
            }
        case .channelOpen:
            // Likewise an open data channel runs over a connected DTLS association.
            locked { s in
                s.channelOpenAt = s.channelOpenAt ?? t
                s.connectedAt = s.connectedAt ?? t
                s.iceAt = s.iceAt ?? t
            }
        case .channelMessage(let text):
            locked { s in
                if !s.ready && RealtimeDialect.isSessionAcknowledgement(text) { s.sessionAcknowledged = true }
            }
            emit(.dataChannelMessage(text), at: t)
        case .channelClosed:
            let hangingUp = locked { s -> Bool in
                s.channelClosed = true
                return s.shuttingDown
            }
            if !hangingUp { fail(TransportError(.closed, "the data channel oai-events closed")) }
        case .rtp(let packet, _):
            let ready = locked { s -> Bool in
                s.firstRTPAt = s.firstRTPAt ?? t
                return s.ready
            }
            if ready { emit(.rtp(packet), at: t) }
        case .error(let message):
            fail(TransportError(.protocol, "WebRTC: \(redactor.redact(message))"))
        }
    }

    /// `error` with the run's secrets and the minted client secret masked.
    private func redacted(_ error: TransportError) -> TransportError {
        var redactor = redactor
        if let secret = locked({ $0.secret }) { redactor.add(secret) }
        return TransportError(error.kind, redactor.redact(error.message))
    }

    /// Fails the call once: reported as `.failure`, then the peer is closed.
    private func fail(_ error: TransportError) {
        let first = locked { s -> Bool in
            guard s.failure == nil, !s.finished else { return false }
            s.failure = error
            return true
        }
        guard first else { return }
        emit(.failure(redacted(error)))
        shutdown()
    }

    // MARK: the microphone and the end of speech

    func send(_ chunk: AudioChunk) {
        let samples = Self.upsample(chunk.pcm)
        let chunkStart = chunk.due - Int64(samples.count) * 1_000_000_000 / 48_000
        let frames = locked { s -> [(due: Int64, frame: Frame)] in
            if s.leftoverTurn != chunk.turn {
                s.leftover = []
                s.leftoverChunks = []
                s.leftoverTurn = chunk.turn
            }
            s.currentTurn = chunk.turn
            let before = s.leftover.count
            s.leftover += samples
            s.leftoverChunks.append((chunk.index, chunk.due, s.leftover.count))
            var out: [(Int64, Frame)] = []
            var cut = 0
            while s.leftover.count - cut >= 960 {
                let end = cut + 960
                let due = chunkStart + Int64(end - before) * 1_000_000_000 / 48_000
                let completes = s.leftoverChunks.filter { $0.end <= end }.map { ($0.index, $0.scheduled) }
                s.leftoverChunks.removeAll { $0.end <= end }
                out.append((due, Frame(turn: chunk.turn, pcm: Array(s.leftover[cut..<end]), completes: completes)))
                cut = end
            }
            s.leftover.removeFirst(cut)
            s.leftoverChunks = s.leftoverChunks.map { ($0.index, $0.scheduled, $0.end - cut) }
            for (due, frame) in out { enqueue(&s, due: due, .frame(frame)) }
            return out
        }
        for (due, _) in frames { loop.schedule(self, at: due) }
    }

    func endSpeech(turn: Int, at due: Int64, deadline: Int64) {
        let messages =
            options.turnDetection == nil ? [RealtimeDialect.commit, RealtimeDialect.responseCreate(turn: turn)] : []
        locked { s in
            s.currentTurn = turn
            // What the microphone still holds (less than a frame) leaves with the end of speech.
            if s.leftoverTurn == turn, !s.leftover.isEmpty || !s.leftoverChunks.isEmpty {
                let pcm = s.leftover + [Int16](repeating: 0, count: 960 - s.leftover.count % 960)
                enqueue(
                    &s, due: due,
                    .frame(
                        Frame(
                            turn: turn, pcm: Array(pcm.prefix(960)),
                            completes: s.leftoverChunks.map { ($0.index, $0.scheduled) })))
                s.leftover = []
                s.leftoverChunks = []
            }
            enqueue(&s, due: due, .speechEnd(turn: turn, messages: messages))
        }
        loop.schedule(self, at: due)
    }

    private func enqueue(_ s: inout State, due: Int64, _ item: Item) {
        s.seq += 1
        let entry = (due: due, seq: s.seq, item: item)
        let index = s.queue.firstIndex { $0.due > due } ?? s.queue.endIndex
        s.queue.insert(entry, at: index)
    }

    func sendControl(_ messages: [String]) {
        guard let peer = locked({ $0.peer }) else { return }
        for message in messages { peer.sendText(message) }
    }

    func discard(turn: Int) {
        locked { s in
            s.queue.removeAll { entry in
                switch entry.item {
                case .frame(let frame): frame.turn == turn
                case .speechEnd(let owner, _): owner == turn
                }
            }
            if s.leftoverTurn == turn {
                s.leftover = []
                s.leftoverChunks = []
            }
        }
    }

    func abort(_ error: TransportError, turn: Int?) {
        let current = locked { $0.currentTurn }
        guard turn == nil || turn == current else { return }
        fail(error)
    }

    /// Sends what is due (the loop's thread).
    func service(now: Int64) {
        let (due, peer) = locked { s -> ([(due: Int64, could: Int64, item: Item)], WebRTCPeer?) in
            guard s.ready, !s.shuttingDown else { return ([], nil) }
            let count = s.queue.prefix { $0.due <= now }.count
            defer { s.queue.removeFirst(count) }
            return (s.queue.prefix(count).map { ($0.due, max($0.due, s.readyAt), $0.item) }, s.peer)
        }
        guard let peer else { return }
        for (scheduled, could, item) in due {
            let start = MonotonicClock.now()
            switch item {
            case .frame(let frame):
                peer.sendAudio(frame.pcm)
                for chunk in frame.completes {
                    emit(
                        .chunkSent(index: chunk.index, scheduled: chunk.scheduled, lagNs: start - could, blockedNs: 0),
                        at: start, turn: frame.turn)
                }
            case .speechEnd(let turn, let messages):
                for message in messages { peer.sendText(message) }
                let sent = MonotonicClock.now()
                emit(.speechEnd(scheduled: scheduled, lagNs: start - could, blockedNs: 0), at: start, turn: turn)
                emit(.encoded(ns: sent - start), at: sent, turn: turn)
            }
        }
    }

    /// Ends the call: the peer is closed on a thread of its own (GStreamer waits for its
    /// threads), then the owner hears that the client is done.
    func shutdown() {
        let (first, peer, started) = locked { s -> (Bool, WebRTCPeer?, Bool) in
            defer { s.shuttingDown = true }
            return (!s.shuttingDown, s.peer, s.started)
        }
        guard first else { return }
        guard started else {
            finish()
            return
        }
        let thread = Thread { [self] in
            // Hang up as a browser does: the data channel's close reaches the server (so it ends
            // the call at once instead of waiting for ICE to time out), then the peer goes. The
            // channel says when its close is done (the server reset its stream too: 50 ms on
            // loopback, a round trip more through a link); a channel that never opened is not
            // waited for, and a close that is not answered (seen now and then through the link
            // emulator: the server may tear the call down first) gets 250 ms; the reset has left.
            if let peer {
                peer.closeChannel()
                let deadline = Date(timeIntervalSinceNow: 0.25)
                condition.lock()
                while state.channelOpenAt != nil && !state.channelClosed && condition.wait(until: deadline) {}
                condition.unlock()
                peer.close()
            }
            for relay in locked({ $0.relays }) { relay.close() }
            finish()
        }
        thread.name = "ttfa-webrtc-close"
        thread.start()
    }

    private func finish() {
        let first = locked { s -> Bool in
            defer {
                s.finished = true
                s.peer = nil
                s.queue = []
            }
            return !s.finished
        }
        if first { emitLock.withLock { onFinish() } }
    }

    /// PCM16 24 kHz little-endian bytes as 48 kHz samples (linear interpolation).
    static func upsample(_ pcm: [UInt8]) -> [Int16] {
        let count = pcm.count / 2
        var input = [Int16](repeating: 0, count: count)
        for i in 0..<count { input[i] = Int16(bitPattern: UInt16(pcm[2 * i]) | UInt16(pcm[2 * i + 1]) << 8) }
        var out = [Int16](repeating: 0, count: count * 2)
        for i in 0..<count {
            let a = Int32(input[i])
            let b = i + 1 < count ? Int32(input[i + 1]) : a
            out[2 * i] = Int16(a)
            out[2 * i + 1] = Int16((a + b) / 2)
        }
        return out
    }
}
