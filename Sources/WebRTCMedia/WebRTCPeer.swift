import CWebRTC

#if canImport(Glibc)
    import Glibc
#endif

/// An RTP packet of the remote audio track as it arrived, stamped before decryption, the
/// jitter buffer or the decoder.
package struct RTPArrival: Sendable, Equatable {
    /// Arrival at the socket (monotonic ns).
    package var t: Int64
    package var sequence: UInt16
    /// RTP timestamp (48 kHz clock).
    package var timestamp: UInt32
    /// Samples the packet decoded to (48 kHz; 960 for 20 ms).
    package var samples: Int
    /// Whether the decoded audio is not silence (any sample beyond ±100, about −50 dBFS: the first 20 ms of a spoken onset is above it, the ringing of the codec after an answer below).
    package var loud: Bool

    package init(t: Int64, sequence: UInt16, timestamp: UInt32, samples: Int, loud: Bool) {
        self.t = t
        self.sequence = sequence
        self.timestamp = timestamp
        self.samples = samples
        self.loud = loud
    }
}

/// A WebRTC peer connection (GStreamer's webrtcbin, loaded at run time): one Opus 48 kHz mono
/// track each way and one data channel. Callbacks arrive on GStreamer's threads, each with the
/// monotonic time it was taken at (an RTP packet's: when its datagram left the socket).
package final class WebRTCPeer: @unchecked Sendable {
    package enum Event: Sendable {
        /// The local SDP, complete with its ICE candidates.
        case localDescription(String)
        case iceState(ICEState)
        case connectionState(ConnectionState)
        case channelOpen
        case channelMessage(String)
        case channelClosed
        /// A packet of the remote audio; `pcm` its decoded samples when the peer was asked for them.
        case rtp(RTPArrival, pcm: [Int16]?)
        case error(String)
    }

    /// GstWebRTCICEConnectionState.
    package enum ICEState: Int, Sendable {
        case new = 0
        case checking, connected, completed, failed, disconnected, closed
    }

    /// GstWebRTCPeerConnectionState (ICE and DTLS together).
    package enum ConnectionState: Int, Sendable {
        case new = 0
        case connecting, connected, disconnected, failed, closed
    }

    private final class Box: @unchecked Sendable {
        let handler: @Sendable (Int64, Event) -> Void
        let wantsPCM: Bool
        init(handler: @escaping @Sendable (Int64, Event) -> Void, wantsPCM: Bool) {
            self.handler = handler
            self.wantsPCM = wantsPCM
        }
    }

    private let box: Box
    private var raw: OpaquePointer?
    private let lock = PeerLock()

    /// Why WebRTC cannot run here (GStreamer or a plugin missing, with the package to install),
    /// or nil when it can.
    package static var unavailableReason: String? {
        var buffer = [CChar](repeating: 0, count: 512)
        let result = ttfa_rtc_load(&buffer, buffer.count)
        return result == 0
            ? nil : String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// - Parameters:
    ///   - offerer: creates the data channel `label` and the offer; otherwise it answers one.
    ///   - stun: `stun://host:port`; `turn`: `turn://user:password@host:port`.
    ///   - wantsPCM: hand the decoded samples of every received packet to `handler`.
    package init(
        offerer: Bool, label: String = "oai-events", stun: String? = nil, turn: String? = nil,
        wantsPCM: Bool = false, handler: @escaping @Sendable (Int64, Event) -> Void
    ) throws(WebRTCPeerError) {
        box = Box(handler: handler, wantsPCM: wantsPCM)
        var error = [CChar](repeating: 0, count: 512)
        let context = Unmanaged.passUnretained(box).toOpaque()
        let peer = ttfa_rtc_peer_new(
            offerer ? 1 : 0, label, stun, turn, peerCallback, context, &error, error.count)
        guard let peer else {
            throw WebRTCPeerError(
                String(decoding: error.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        raw = peer
    }

    deinit { close() }

    /// Creates the offer; its SDP arrives as `.localDescription` once ICE gathering is done.
    package func createOffer() {
        lock.withLock { if let raw { _ = ttfa_rtc_create_offer(raw) } }
    }

    /// Sets the remote SDP (an offer is then answered: `.localDescription`). False when it does
    /// not parse.
    package func setRemote(sdp: String, isOffer: Bool) -> Bool {
        lock.withLock { raw.map { ttfa_rtc_set_remote($0, sdp, isOffer ? 1 : 0) == 0 } ?? false }
    }

    /// Queues 20 ms of PCM16 48 kHz mono (960 samples) on the audio track now.
    package func sendAudio(_ pcm: [Int16]) {
        lock.withLock {
            guard let raw else { return }
            pcm.withUnsafeBufferPointer { _ = ttfa_rtc_send_audio(raw, $0.baseAddress, $0.count) }
        }
    }

    /// Sends a text message on the data channel; false when it is not open.
    @discardableResult
    package func sendText(_ text: String) -> Bool {
        lock.withLock { raw.map { ttfa_rtc_send_text($0, text) == 0 } ?? false }
    }

    /// Closes the data channel; the media keeps flowing.
    package func closeChannel() {
        lock.withLock { if let raw { ttfa_rtc_close_channel(raw) } }
    }

    /// Stops the peer: no event is delivered after this returns.
    package func close() {
        let peer = lock.withLock { () -> OpaquePointer? in
            defer { raw = nil }
            return raw
        }
        if let peer { ttfa_rtc_peer_free(peer) }
    }

    fileprivate static func deliver(
        _ context: UnsafeMutableRawPointer, _ event: Int32, _ t: Int64, _ text: UnsafePointer<CChar>?, _ length: Int,
        _ a: Int64, _ b: Int64, _ c: Int64
    ) {
        let box = Unmanaged<Box>.fromOpaque(context).takeUnretainedValue()
        func string() -> String {
            guard let text else { return "" }
            return text.withMemoryRebound(to: UInt8.self, capacity: length) {
                String(decoding: UnsafeBufferPointer(start: $0, count: length), as: UTF8.self)
            }
        }
        let value: Event
        switch UInt32(event) {
        case TTFA_RTC_LOCAL_DESCRIPTION.rawValue: value = .localDescription(string())
        case TTFA_RTC_ICE_STATE.rawValue: value = .iceState(ICEState(rawValue: Int(a)) ?? .new)
        case TTFA_RTC_PEER_STATE.rawValue: value = .connectionState(ConnectionState(rawValue: Int(a)) ?? .new)
        case TTFA_RTC_CHANNEL_OPEN.rawValue: value = .channelOpen
        case TTFA_RTC_CHANNEL_MESSAGE.rawValue: value = .channelMessage(string())
        case TTFA_RTC_CHANNEL_CLOSED.rawValue: value = .channelClosed
        case TTFA_RTC_RTP.rawValue:
            let arrival = RTPArrival(
                t: t, sequence: UInt16(truncatingIfNeeded: a), timestamp: UInt32(truncatingIfNeeded: b),
                samples: Int(c & 0xffff_ffff), loud: (c >> 32) & 1 == 1)
            var pcm: [Int16]?
            if box.wantsPCM, let text {
                pcm = text.withMemoryRebound(to: Int16.self, capacity: length / 2) {
                    Array(UnsafeBufferPointer(start: $0, count: length / 2))
                }
            }
            value = .rtp(arrival, pcm: pcm)
        default: value = .error(string())
        }
        box.handler(t, value)
    }
}

private let peerCallback: ttfa_rtc_callback = { context, event, t, text, length, a, b, c in
    guard let context else { return }
    WebRTCPeer.deliver(context, event, t, text, length, a, b, c)
}

/// WebRTC could not start: what is missing or what failed.
package struct WebRTCPeerError: Error, Sendable, CustomStringConvertible {
    package var description: String
    package init(_ description: String) { self.description = description }
}

/// A plain mutex (the peer's calls into GStreamer are short; they are never made while a
/// callback holds it).
private final class PeerLock: @unchecked Sendable {
    private var mutex = pthread_mutex_t()
    init() { pthread_mutex_init(&mutex, nil) }
    deinit { pthread_mutex_destroy(&mutex) }
    func withLock<T>(_ body: () throws -> T) rethrows -> T {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        return try body()
    }
}
