import Foundation
import Logging
import SpeechDetection
import Synchronization
import WebRTCMedia

#if canImport(Glibc)
    import Glibc
#endif

/// One WebRTC call of the reference server: OpenAI Realtime's events on the `oai-events` data
/// channel and the synthetic answer as Opus on the audio track. The track never stops: a
/// speaker thread sends a 20 ms frame every 20 ms — silence between answers — and an answer's
/// first frame exactly when its plan says, with `output_audio_buffer.started` before it and
/// `output_audio_buffer.stopped` after its last frame.
final class WebRTCCall: @unchecked Sendable {
    let id = Wire.id("rtc_")
    private let peer: WebRTCPeer
    private let profile: DeploymentProfile
    private let options: RequestOptions
    private let target: String
    private let log: ServerLog
    private let answerFrames: [[Int16]]
    private let transcriptPieces: [String]
    private let state = Mutex(State())
    private let wake = NSCondition()

    private enum Out {
        case frame([Int16])
        case message(String)
        /// Stop the track (fault `rtp-stops`).
        case silence
    }

    private struct State {
        var queue: [Out] = []
        /// When the queued answer's first frame is due (monotonic ns).
        var answerAt: Int64?
        var responding = false
        var previousResponse: String?
        var items: [String] = []
        var stopped = false
        var trackStopped = false
        var closed = false
        /// server_vad, when the session asked for it, fed with the microphone track.
        var vad: EnergyVAD?
        /// Microphone packets since the last commit.
        var micPackets = 0
    }

    /// The answer to `offer`, or why there is none. The call lives until `close()`.
    init(offer: String, profile: DeploymentProfile, options: RequestOptions, target: String, log: ServerLog)
        throws(WebRTCPeerError)
    {
        self.profile = profile
        self.options = options
        self.target = target
        self.log = log
        let (pcm, words) = SyntheticAnswer.make(pacing: profile.answer, sampleRate: 48_000)
        let bytes: [UInt8] = Array(pcm.joined())
        var samples = [Int16](repeating: 0, count: bytes.count / 2)
        for i in samples.indices {
            samples[i] = Int16(bitPattern: UInt16(bytes[2 * i]) | UInt16(bytes[2 * i + 1]) << 8)
        }
        var frames: [[Int16]] = []
        var start = 0
        while start < samples.count {
            var frame = Array(samples[start..<min(start + 960, samples.count)])
            frame += [Int16](repeating: 0, count: 960 - frame.count)
            frames.append(frame)
            start += 960
        }
        answerFrames = frames
        // The transcript pieces spread over the frames.
        let perFrame = max(1, answerFrames.count / max(1, words.count))
        transcriptPieces = answerFrames.indices.map { i in
            i % perFrame == 0 && i / perFrame < words.count ? words[i / perFrame] : ""
        }
        let box = LockedReference<WebRTCCall>()
        let answer = Mutex<String?>(nil)
        let ready = NSCondition()
        peer = try WebRTCPeer(offerer: false, wantsPCM: true) { t, event in
            switch event {
            case .localDescription(let sdp):
                ready.lock()
                answer.withLock { $0 = sdp }
                ready.broadcast()
                ready.unlock()
            default:
                box.value?.handle(t, event)
            }
        }
        box.value = self
        guard peer.setRemote(sdp: offer, isOffer: true) else {
            peer.close()
            throw WebRTCPeerError("the SDP offer does not parse")
        }
        let deadline = Date(timeIntervalSinceNow: 10)
        ready.lock()
        while answer.withLock({ $0 }) == nil, ready.wait(until: deadline) {}
        ready.unlock()
        guard let sdp = answer.withLock({ $0 }) else {
            peer.close()
            throw WebRTCPeerError("no SDP answer within 10 s")
        }
        self.answer = sdp
        let speaker = Thread { [self] in speak() }
        speaker.name = "ttfa-serve-webrtc"
        speaker.start()
    }

    /// The SDP answer.
    private(set) var answer = ""

    /// Called once the call is over.
    let onClose = LockedBox<(@Sendable () -> Void)?>(nil)

    func close() {
        let first = state.withLock { s -> Bool in
            defer { s.closed = true }
            return !s.closed
        }
        guard first else { return }
        onClose.withLock { $0 }?()
        wake.lock()
        wake.broadcast()
        wake.unlock()
        peer.close()
    }

    // MARK: the data channel

    private func handle(_ t: Int64, _ event: WebRTCPeer.Event) {
        switch event {
        case .channelOpen:
            send([
                "type": "session.created", "event_id": Wire.id("event_"), "session": Self.session(id: Wire.id("sess_")),
            ])
        case .channelMessage(let text):
            message(text, at: t)
        case .rtp(_, let pcm):
            microphone(pcm ?? [], at: t)
        case .connectionState(.failed), .connectionState(.closed), .iceState(.failed), .iceState(.disconnected),
            .channelClosed:
            // The client hung up: the call ends (off GStreamer's thread, which closing waits for).
            let thread = Thread { [self] in close() }
            thread.start()
        default:
            break
        }
    }

    private func message(_ text: String, at received: Int64) {
        guard let event = Wire.object(text) else {
            sendError(code: "invalid_json", message: "The message could not be parsed as JSON.")
            return
        }
        switch event["type"] as? String ?? "" {
        case "session.update":
            let vad = (event["session"] as? [String: Any]).flatMap(RealtimeSession.serverVAD(in:))
            state.withLock { $0.vad = vad.map { EnergyVAD(parameters: $0) } }
            send([
                "type": "session.updated", "event_id": Wire.id("event_"), "session": Self.session(id: Wire.id("sess_")),
            ])
        case "input_audio_buffer.commit":
            commit()
        case "conversation.item.delete":
            let itemID = event["item_id"] as? String ?? ""
            let found = state.withLock { s -> Bool in
                guard let index = s.items.firstIndex(of: itemID) else { return false }
                s.items.remove(at: index)
                return true
            }
            if found {
                send(["type": "conversation.item.deleted", "event_id": Wire.id("event_"), "item_id": itemID])
            } else {
                sendError(code: "item_not_found", message: "Item with item_id not found: \(itemID)")
            }
        case "response.create":
            respond(metadata: (event["response"] as? [String: Any])?["metadata"] as? [String: String], at: received)
        default:
            break
        }
    }

    /// The microphone's audio so far becomes a user item.
    private func commit() {
        let itemID = Wire.id("item_")
        let previous = state.withLock { s -> String? in
            defer { s.items.append(itemID) }
            return s.items.last
        }
        send([
            "type": "input_audio_buffer.committed", "event_id": Wire.id("event_"),
            "previous_item_id": previous as Any? ?? NSNull(), "item_id": itemID,
        ])
        send([
            "type": "conversation.item.added", "event_id": Wire.id("event_"),
            "previous_item_id": previous as Any? ?? NSNull(),
            "item": ["id": itemID, "object": "realtime.item", "type": "message", "role": "user", "content": []],
        ])
        state.withLock { $0.micPackets = 0 }
    }

    /// A packet of the microphone track: server_vad ends the turn by itself, and
    /// `fault=early-audio` answers before the user is done.
    private func microphone(_ pcm: [Int16], at t: Int64) {
        var bytes = Data(capacity: pcm.count)
        for i in stride(from: 0, to: pcm.count, by: 2) {
            let sample = UInt16(bitPattern: pcm[i])
            bytes.append(UInt8(truncatingIfNeeded: sample))
            bytes.append(UInt8(truncatingIfNeeded: sample >> 8))
        }
        let (packets, events) = state.withLock { s -> (Int, [EnergyVAD.Event]) in
            s.micPackets += 1
            return (s.micPackets, s.vad?.feed(bytes) ?? [])
        }
        if packets == Self.earlyAudioAfterPackets,
            options.fault(forRequest: log.peekSequence(for: target)) == .earlyAudio
        {
            playUnsolicitedResponse()
        }
        for event in events {
            switch event {
            case .speechStarted(let atMs):
                send([
                    "type": "input_audio_buffer.speech_started", "event_id": Wire.id("event_"), "audio_start_ms": atMs,
                    "item_id": NSNull(),
                ])
            case .speechStopped(let atMs, _):
                send([
                    "type": "input_audio_buffer.speech_stopped", "event_id": Wire.id("event_"), "audio_end_ms": atMs,
                    "item_id": NSNull(),
                ])
                commit()
                respond(metadata: nil, at: t)
            }
        }
    }

    /// Microphone packets after which `fault=early-audio` starts a response of its own.
    static let earlyAudioAfterPackets = 5

    /// `fault=early-audio`: a response nobody asked for, played while the user still speaks.
    private func playUnsolicitedResponse() {
        let responseID = Wire.id("resp_")
        send([
            "type": "response.created", "event_id": Wire.id("event_"),
            "response": ["id": responseID, "object": "realtime.response", "status": "in_progress", "output": []],
        ])
        var out: [Out] = [.message(Self.buffer("started", responseID))]
        out += answerFrames.prefix(3).map { .frame($0) }
        out.append(.message(Self.buffer("stopped", responseID)))
        out.append(
            .message(
                Wire.json([
                    "type": "response.done", "event_id": Wire.id("event_"),
                    "response": ["id": responseID, "object": "realtime.response", "status": "completed", "output": []],
                ])))
        wake.lock()
        state.withLock { s in
            s.queue += out
            s.answerAt = MonotonicServerClock.now()
        }
        wake.broadcast()
        wake.unlock()
    }

    private func respond(metadata: [String: String]?, at requested: Int64) {
        let responseID = Wire.id("resp_")
        let started = state.withLock { s -> (Bool, String?) in
            guard !s.responding else { return (false, nil) }
            s.responding = true
            defer { s.previousResponse = responseID }
            return (true, s.previousResponse)
        }
        guard started.0 else {
            sendError(
                code: "conversation_already_has_active_response",
                message: "Conversation already has an active response in progress.")
            return
        }
        let sequence = log.nextSequence(for: target)
        let fault = options.fault(forRequest: sequence)
        let plan = options.plan(profile, sequence: log.nextSequence(for: "profile /v1/realtime/calls"), audioSeconds: 0)
        log.record(
            ServerLog.Answer(
                id: responseID, transport: "webrtc", target: target, sequence: sequence, connection: 0,
                fault: fault?.rawValue, plan: plan, conversationItems: state.withLock { $0.items.count },
                metadata: metadata, requestCompleteNs: requested, firstAudioSentNs: nil))
        let itemID = Wire.id("item_")
        var response: [String: Any] = [
            "id": responseID, "object": "realtime.response", "status": "in_progress", "output": [],
        ]
        if let metadata { response["metadata"] = metadata }
        var out: [Out] = []
        if fault == .staleDelta, let previous = started.1 {
            // The previous answer's audio plays once more before this one starts.
            out.append(.message(Self.buffer("started", previous)))
            out += answerFrames.prefix(5).map { .frame($0) }
            out.append(.message(Self.buffer("stopped", previous)))
        }
        let opening: [[String: Any]] = [
            ["type": "response.created", "event_id": Wire.id("event_"), "response": response],
            [
                "type": "response.output_item.added", "event_id": Wire.id("event_"), "response_id": responseID,
                "output_index": 0,
                "item": [
                    "id": itemID, "object": "realtime.item", "type": "message", "role": "assistant", "content": [],
                ],
            ],
        ]
        for event in opening { send(event) }
        state.withLock { $0.items.append(itemID) }
        out.append(.message(Self.buffer("started", responseID)))
        for (index, frame) in answerFrames.enumerated() {
            if !transcriptPieces[index].isEmpty {
                out.append(
                    .message(
                        Wire.json([
                            "type": "response.output_audio_transcript.delta", "event_id": Wire.id("event_"),
                            "response_id": responseID, "item_id": itemID, "output_index": 0, "content_index": 0,
                            "delta": transcriptPieces[index],
                        ])))
            }
            if fault == .noAudio { continue }
            out.append(.frame(frame))
            if index == 2 && fault == .rtpStops {
                out.append(.silence)
                break
            }
            if index == 2 && fault == .closeDataChannel {
                out.append(.message("close"))
                break
            }
        }
        out.append(.message(Self.buffer("stopped", responseID)))
        out.append(
            .message(
                Wire.json([
                    "type": "response.done", "event_id": Wire.id("event_"),
                    "response": [
                        "id": responseID, "object": "realtime.response", "status": "completed",
                        "metadata": metadata as Any? ?? NSNull(),
                        "output": [["id": itemID, "object": "realtime.item", "type": "message", "role": "assistant"]],
                    ],
                ])))
        wake.lock()
        state.withLock { s in
            s.queue += out
            s.answerAt = requested + Int64(plan.totalMs * 1_000_000)
        }
        wake.broadcast()
        wake.unlock()
    }

    static func buffer(_ what: String, _ response: String) -> String {
        Wire.json(["type": "output_audio_buffer.\(what)", "event_id": Wire.id("event_"), "response_id": response])
    }

    private func send(_ event: [String: Any]) { peer.sendText(Wire.json(event)) }

    private func sendError(code: String, message: String) {
        send([
            "type": "error", "event_id": Wire.id("event_"),
            "error": Wire.errorObject(message: message, type: "invalid_request_error", code: code),
        ])
    }

    static func session(id: String) -> [String: Any] {
        [
            "id": id, "object": "realtime.session", "type": "realtime", "model": "gpt-realtime",
            "output_modalities": ["audio"], "audio": ["output": ["voice": "marin"]],
        ]
    }

    // MARK: the track

    /// Every 20 ms a frame: the answer's when one is due, silence otherwise. An answer starts
    /// on its own time, not on the silence's grid.
    private func speak() {
        let silence = [Int16](repeating: 0, count: 960)
        var next = MonotonicServerClock.now()
        var inAnswer = false
        while true {
            let (closed, answerAt) = state.withLock { ($0.closed, $0.answerAt) }
            if closed { return }
            if !inAnswer, let answerAt, answerAt <= next + 20_000_000 {
                next = max(answerAt, MonotonicServerClock.now())
                inAnswer = true
                state.withLock {
                    $0.answerAt = nil
                    $0.trackStopped = false
                }
            }
            Self.sleep(until: next)
            if !inAnswer {
                if !state.withLock({ $0.trackStopped }) { peer.sendAudio(silence) }
                next += 20_000_000
                continue
            }
            // Messages up to the next frame go out now, then the frame.
            var sentFrame = false
            while !sentFrame {
                let item = state.withLock { s -> Out? in s.queue.isEmpty ? nil : s.queue.removeFirst() }
                guard let item else {
                    // The answer is over: the track carries silence again.
                    inAnswer = false
                    state.withLock {
                        $0.responding = false
                        $0.trackStopped = false
                    }
                    break
                }
                switch item {
                case .frame(let pcm):
                    if !state.withLock({ $0.trackStopped }) {
                        peer.sendAudio(pcm)
                        if let id = state.withLock({ $0.previousResponse }) {
                            log.firstAudioSent(answer: id, at: MonotonicServerClock.now())
                        }
                    }
                    sentFrame = true
                case .message("close"):
                    peer.closeChannel()
                case .message(let text):
                    peer.sendText(text)
                case .silence:
                    state.withLock { $0.trackStopped = true }
                }
            }
            next += 20_000_000
        }
    }

    private static func sleep(until deadline: Int64) {
        var ts = timespec(tv_sec: Int(deadline / 1_000_000_000), tv_nsec: Int(deadline % 1_000_000_000))
        while clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nil) == EINTR {}
    }
}

/// A value shared between threads.
final class LockedBox<Value: Sendable>: Sendable {
    private let mutex: Mutex<Value>
    init(_ value: Value) { mutex = Mutex(value) }
    func withLock<R: Sendable>(_ body: (inout sending Value) -> sending R) -> R { mutex.withLock(body) }
}

/// A reference set once, after the object it names exists (the peer's callbacks need the call).
final class LockedReference<T: AnyObject>: @unchecked Sendable {
    private let lock = NSLock()
    private weak var stored: T?
    var value: T? {
        get { lock.withLock { stored } }
        set { lock.withLock { stored = newValue } }
    }
}
