#ifndef TTFA_WEBRTC_H
#define TTFA_WEBRTC_H

#include <stddef.h>
#include <stdint.h>

/// A WebRTC peer connection on GStreamer's webrtcbin, loaded at run time (dlopen): a binary
/// built with it still starts on a machine without GStreamer, and only the webrtc transport
/// then reports what to install. One Opus 48 kHz mono audio track each way and one data
/// channel. Every callback runs on one of GStreamer's threads; `t_ns` is CLOCK_MONOTONIC,
/// taken at the I/O boundary (an RTP packet: when nicesrc handed the datagram over, before
/// decryption, the jitter buffer or the decoder).
typedef struct ttfa_rtc_peer ttfa_rtc_peer;

enum ttfa_rtc_event {
    /// The local description is complete (ICE gathering done): `text` is the SDP.
    TTFA_RTC_LOCAL_DESCRIPTION = 1,
    /// ICE connection state changed: `a` is GstWebRTCICEConnectionState (2 checking,
    /// 3 connected, 4 completed, 5 failed, 6 disconnected, 7 closed).
    TTFA_RTC_ICE_STATE = 2,
    /// Peer connection state (ICE and DTLS) changed: `a` is GstWebRTCPeerConnectionState
    /// (1 connecting, 2 connected, 3 disconnected, 4 failed, 5 closed).
    TTFA_RTC_PEER_STATE = 3,
    /// The data channel is open (`text` is its label).
    TTFA_RTC_CHANNEL_OPEN = 4,
    /// A text message on the data channel.
    TTFA_RTC_CHANNEL_MESSAGE = 5,
    /// The data channel closed.
    TTFA_RTC_CHANNEL_CLOSED = 6,
    /// An RTP packet of the remote audio track: `a` sequence number, `b` RTP timestamp,
    /// `c` = samples decoded (48 kHz) | 1 << 32 when the decoded audio is not silence;
    /// `text`/`len` the decoded PCM16 (48 kHz mono).
    TTFA_RTC_RTP = 7,
    /// Something failed: `text` says what.
    TTFA_RTC_ERROR = 8,
};

typedef void (*ttfa_rtc_callback)(void *context, int event, int64_t t_ns, const char *text, size_t len, int64_t a,
                                  int64_t b, int64_t c);

/// Loads GStreamer (webrtcbin, nice, opus, app) and libopus; 0 when available, else -1 with
/// a message in `error` naming what is missing.
int ttfa_rtc_load(char *error, size_t error_size);

/// A new peer. `offerer`: creates the data channel `label` and the offer; else answers.
/// `stun`: "stun://host:port" or NULL; `turn`: "turn(s)://user:pass@host:port" or NULL.
ttfa_rtc_peer *ttfa_rtc_peer_new(int offerer, const char *label, const char *stun, const char *turn,
                                 ttfa_rtc_callback callback, void *context, char *error, size_t error_size);
/// Offerer: creates the offer; its SDP arrives as TTFA_RTC_LOCAL_DESCRIPTION.
int ttfa_rtc_create_offer(ttfa_rtc_peer *peer);
/// Sets the remote description (`is_offer`: an offer, then the answer is created and arrives
/// as TTFA_RTC_LOCAL_DESCRIPTION). 0 on success, else -1 (the SDP did not parse).
int ttfa_rtc_set_remote(ttfa_rtc_peer *peer, const char *sdp, int is_offer);
/// Queues 20 ms of PCM16 48 kHz mono (960 samples) on the audio track now.
int ttfa_rtc_send_audio(ttfa_rtc_peer *peer, const int16_t *pcm, size_t samples);
/// Sends a text message on the data channel; -1 when it is not open.
int ttfa_rtc_send_text(ttfa_rtc_peer *peer, const char *text);
/// Closes the data channel (the peer stays up).
void ttfa_rtc_close_channel(ttfa_rtc_peer *peer);
/// Stops everything; no callback runs after it returns. Frees the peer.
void ttfa_rtc_peer_free(ttfa_rtc_peer *peer);

#endif
