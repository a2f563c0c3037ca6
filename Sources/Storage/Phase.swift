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

extension TrialRecord {
    /// The trial's value of `phase`, nanoseconds, as reported under `phases_ms`: a set-up step's
    /// or `encode`'s duration, or the instant since the scheduled end of speech; nil when the
    /// trial has none (its transport does not go through it, or it failed before).
    package func phaseNs(_ phase: Phase) -> Int64? {
        func afterSpeech(_ value: Int64?) -> Int64? { value.map { $0 - speechEndNs } }
        return switch phase {
        case .dns: dnsNs
        case .connect: connectNs
        case .tls: tlsNs
        case .upgrade: upgradeNs
        case .secret: secretNs
        case .offerAnswer: offerAnswerNs
        case .ice: iceNs
        case .dtls: dtlsNs
        case .datachannel: datachannelNs
        case .firstRTP: firstRtpNs
        case .playout: afterSpeech(playoutNs)
        case .encode: encodeNs
        case .upload: afterSpeech(uploadDoneNs)
        case .uploadBlocked: uploadBlockedNs
        case .responseHeaders: afterSpeech(responseHeadersNs)
        case .firstByte: afterSpeech(firstByteNs)
        case .firstEvent: afterSpeech(firstEventNs)
        case .firstAudio: afterSpeech(firstAudioNs)
        case .lastAudio: afterSpeech(lastAudioNs)
        case .done: afterSpeech(doneNs)
        }
    }
}
