import TTFASupport
import VoiceTransport

/// Formats transport events as the JSON lines of `ttfa trace` (see README, "ttfa trace"):
/// each line has `t_ms` since the trace began and `type`, then the type's fields.
package struct TraceWriter: Sendable {
    /// Monotonic ns at which the trace began.
    package let origin: Int64

    package init(origin: Int64) {
        self.origin = origin
    }

    private func line(_ t: Int64, _ type: String, _ fields: [(String, JSONValue)] = []) -> String {
        JSONValue.object([("t_ms", .ms(t - origin)), ("type", .string(type))] + fields).serialized()
    }

    /// The line for `event`, or nil for events the trace does not show (replay bookkeeping).
    /// An event of another request is shown as what it was, with `"stale": true` and its turn.
    package func line(for event: TimedEvent) -> String? {
        if case .stale(let turn, let inner) = event.event {
            guard let line = line(for: TimedEvent(t: event.t, inner, turn: turn)) else { return nil }
            return String(line.dropLast()) + ",\"stale\":true,\"turn\":\(turn)}"
        }
        let t = event.t
        switch event.event {
        case .connected(let timings):
            return line(
                t, "connect",
                [
                    ("dns_ms", .ms(timings.dnsNs)), ("connect_ms", .ms(timings.connectNs)),
                    ("tls_ms", .ms(timings.tlsNs)), ("reused", .bool(timings.reused)),
                ])
        case .httpResponse(let status, let contentType):
            return line(
                t, "http.response", [("status", .int(Int64(status))), ("content_type", .optional(contentType))])
        case .speechEnd(let scheduled, let lag, _):
            return line(scheduled, "speech.end", [("lag_ms", .ms(lag))])
        case .sessionReady(let timedOut):
            return line(t, "session.ready", [("timed_out", .bool(timedOut))])
        case .anomaly(let message):
            return line(t, "anomaly", [("message", .string(message))])
        case .webSocketOpen(let upgradeNs):
            return line(t, "ws.open", [("upgrade_ms", .ms(upgradeNs))])
        case .sse(let sse):
            return line(
                t, "sse.event",
                [("event", .string(sse.type)), ("data", .string(sse.data)), ("id", .string(sse.lastEventID))])
        case .webSocketMessage(.text(let text)):
            return line(
                t, "ws.message", [("opcode", "text"), ("text", .string(text)), ("size", .int(Int64(text.utf8.count)))])
        case .webSocketMessage(.binary(let bytes)):
            return line(t, "ws.message", [("opcode", "binary"), ("size", .int(Int64(bytes.count)))])
        case .webSocketPing(let payload):
            return line(t, "ws.ping", [("size", .int(Int64(payload.count)))])
        case .webSocketPong(let payload):
            return line(t, "ws.pong", [("size", .int(Int64(payload.count)))])
        case .webSocketClose(let code, let reason, let by):
            return line(
                t, "ws.close",
                [("code", .optional(code.map(Int.init))), ("reason", .string(reason)), ("by", .string(by.rawValue))])
        case .audio(let bytes, _):
            return line(t, "audio", [("bytes", .int(Int64(bytes)))])
        case .webRTCSetup(let w):
            return line(
                t, "webrtc.setup",
                [
                    ("secret_ms", .ms(w.secretNs)), ("offer_answer_ms", .ms(w.offerAnswerNs)), ("ice_ms", .ms(w.iceNs)),
                    ("dtls_ms", .ms(w.dtlsNs)), ("datachannel_ms", .ms(w.dataChannelNs)),
                    ("first_rtp_ms", .ms(w.firstRTPNs)),
                ])
        case .dataChannelMessage(let text):
            return line(t, "dc.message", [("text", .string(text)), ("size", .int(Int64(text.utf8.count)))])
        case .rtp(let packet):
            // The track's silence between answers is left out; its sound is shown packet by packet.
            guard packet.loud else { return nil }
            return line(
                t, "rtp",
                [
                    ("seq", .int(Int64(packet.sequence))), ("timestamp", .int(Int64(packet.timestamp))),
                    ("samples", .int(Int64(packet.samples))),
                ])
        case .playout(let at):
            return line(t, "playout", [("plays_in_ms", .ms(at - t))])
        case .failure(let error):
            return line(t, "error", [("kind", .string(error.kind.rawValue)), ("message", .string(error.message))])
        case .chunkSent, .chunkCaptured, .encoded, .uploadDone, .firstByte, .curlTimes, .transferEnd, .transcript,
            .serverError,
            .turnEnd, .responseStarted, .responseDone, .contextCleared, .stale:
            return nil
        }
    }

    /// The final line.
    package func doneLine(at t: Int64, ttfaNs: Int64?, status: String) -> String {
        line(t, "done", [("ttfa_ms", .ms(ttfaNs)), ("status", .string(status))])
    }
}
