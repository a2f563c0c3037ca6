/// A moment of a trial that ttfa times, as stored (`trials.<phase>_ns`) and reported
/// (`phases_ms.<phase>`): durations of the connection's set-up (`dns`, `connect`, `tls`,
/// `upgrade`, `encode`, `upload_blocked`) and instants after the end of speech (the others).
package enum Phase: String, Sendable, CaseIterable, Codable {
    case dns, connect, tls, upgrade
    // WebRTC's call set-up.
    case secret
    case offerAnswer = "offer_answer"
    case ice, dtls, datachannel
    case firstRTP = "first_rtp"
    case encode, upload
    case uploadBlocked = "upload_blocked"
    case responseHeaders = "response_headers"
    case firstByte = "first_byte"
    case firstEvent = "first_event"
    case firstAudio = "first_audio"
    /// WebRTC: when a receiver's jitter buffer would start playing the first audio.
    case playout
    case lastAudio = "last_audio"
    case done

    /// A part of opening the connection inside the trial (a duration), rather than a moment
    /// after the end of speech.
    package var isConnectionSetup: Bool {
        switch self {
        case .dns, .connect, .tls, .upgrade, .secret, .offerAnswer, .ice, .dtls, .datachannel, .firstRTP: true
        default: false
        }
    }
}
