import DialectSpec
import Foundation
import ReferenceServer
import Storage
import TTFASupport
import VoiceTransport

/// Turns a finished turn into the rows stored for it.
enum TrialRecorder {
    struct Context {
        var runID: Int64
        var seq: Int
        var settings: TransportSettings
        var recording: Recording
        var round: Int
        var warmup: Bool
        var startedAt: Date
        var lagBudgetNs: Int64
        /// The reference server's record of an answer by id (runs against the embedded server).
        var server: (@Sendable (String) -> ServerLog.Answer?)? = nil
    }

    /// Whether the trial failed before its connection existed (so it reused nothing).
    static func neverConnected(_ metrics: TrialMetrics) -> Bool {
        metrics.errorKind.map { [.dns, .connect, .tls, .handshake].contains($0) } ?? false
    }

    static func records(for timeline: TurnTimeline, context: Context) -> (TrialRecord, [TrialEventRecord], TrialMetrics)
    {
        let metrics = TrialMetrics(timeline: timeline, lagBudgetNs: context.lagBudgetNs)
        let redact = context.settings.redactor.redact
        var trial = TrialRecord(
            runID: context.runID, seq: context.seq, transport: context.settings.kind.rawValue,
            endpoint: context.settings.endpoint.redacted, connection: context.settings.connection.rawValue,
            recording: context.recording.name, recordingNs: context.recording.durationNs, trial: context.round,
            warmup: context.warmup, status: metrics.status, startedAt: Timestamp.iso8601(context.startedAt),
            speechEndNs: metrics.speechEndNs)
        trial.errorKind = metrics.errorKind
        trial.errorMessage = metrics.errorMessage.map(redact)
        trial.ttfaNs = metrics.ttfaNs
        trial.dnsNs = metrics.dnsNs
        trial.connectNs = metrics.connectNs
        trial.tlsNs = metrics.tlsNs
        trial.upgradeNs = metrics.upgradeNs
        // A warm WebSocket turn rides the connection opened before it — if that opened.
        trial.connectionReused =
            metrics.connectionReused
            ?? (context.settings.kind.keepsOneConnection && context.settings.connection == .warm
                && !Self.neverConnected(metrics) ? true : nil)
        trial.responseHeadersNs = metrics.responseHeadersNs
        trial.uploadDoneNs = metrics.uploadDoneNs
        trial.firstByteNs = metrics.firstByteNs
        trial.firstEventNs = metrics.firstEventNs
        trial.firstAudioNs = metrics.firstAudioNs
        trial.lastAudioNs = metrics.lastAudioNs
        trial.doneNs = metrics.doneNs
        trial.audioBytes = metrics.audioBytes
        trial.audioEvents = metrics.audioEvents
        trial.maxAudioGapNs = metrics.maxAudioGapNs
        trial.underruns = metrics.underruns
        trial.underrunNs = metrics.underrunNs
        trial.maxSendLagNs = metrics.maxSendLagNs
        trial.chunksSent = metrics.chunksSent
        trial.curlNamelookupNs = metrics.curl?.namelookupNs
        trial.curlConnectNs = metrics.curl?.connectNs
        trial.curlAppconnectNs = metrics.curl?.appconnectNs
        trial.curlPretransferNs = metrics.curl?.pretransferNs
        trial.curlStarttransferNs = metrics.curl?.starttransferNs
        trial.curlTotalNs = metrics.curl?.totalNs
        trial.httpVersion = metrics.curl?.httpVersion
        trial.encodeNs = metrics.encodeNs
        trial.uploadBlockedNs = metrics.uploadBlockedNs
        trial.speechEndLagNs = metrics.speechEndLagNs
        trial.responseID = metrics.responseID
        trial.anomalies = metrics.anomalies
        trial.audioBursts = metrics.audioBursts
        trial.secretNs = metrics.webRTC?.secretNs
        trial.offerAnswerNs = metrics.webRTC?.offerAnswerNs
        trial.iceNs = metrics.webRTC?.iceNs
        trial.dtlsNs = metrics.webRTC?.dtlsNs
        trial.datachannelNs = metrics.webRTC?.dataChannelNs
        trial.firstRtpNs = metrics.webRTC?.firstRTPNs
        trial.playoutNs = metrics.playoutNs
        if let id = metrics.responseID, let answer = context.server?(id) {
            // The same CLOCK_MONOTONIC on both sides: the server's stamps in the trial's frame.
            trial.serverRequestNs = answer.requestCompleteNs - timeline.start
            trial.serverFirstAudioNs = answer.firstAudioSentNs.map { $0 - timeline.start }
            trial.serverEdgeNs = Int64(answer.edgeMs * 1e6)
            trial.serverIngestNs = Int64(answer.ingestMs * 1e6)
            trial.serverModelNs = Int64(answer.modelMs * 1e6)
        }
        var events: [TrialEventRecord] = []
        var setAside = 0
        for event in timeline.events {
            guard let (kind, described, detail) = describe(event.event) else { continue }
            // A playout moment is stored in the trial's frame, like the event's own time.
            let value = kind == "playout" ? described.map { $0 - timeline.start } : described
            if kind == "anomaly" || kind == "stale" {
                // A flood of foreign events is counted in `anomalies`; the first ones say what it was.
                setAside += 1
                if setAside > maxStoredAnomalies { continue }
            }
            events.append(
                TrialEventRecord(
                    trialID: 0, seq: events.count, tNs: event.t - timeline.start, kind: kind, value: value,
                    detail: detail.map(redact)))
        }
        return (trial, events, metrics)
    }

    /// Anomaly and stale events stored per trial (all are counted).
    static let maxStoredAnomalies = 50

    /// The stored form of an event: kind, number, short text. Payloads are never stored.
    static func describe(_ event: TransportEvent) -> (String, Int64?, String?)? {
        switch event {
        case .connected(let c):
            return (
                "connect", c.dnsNs + c.connectNs + (c.tlsNs ?? 0),
                "dns_ns=\(c.dnsNs) connect_ns=\(c.connectNs) tls_ns=\(c.tlsNs.map(String.init) ?? "none") reused=\(c.reused)"
            )
        case .webSocketOpen(let upgrade): return ("ws.open", upgrade, nil)
        case .httpResponse(let status, let type): return ("http.response", Int64(status), type)
        case .chunkSent(let index, _, let lag, let blocked):
            return ("chunk", lag, blocked > 0 ? "\(index) blocked_ns=\(blocked)" : String(index))
        case .chunkCaptured(let index, _, let lag): return ("chunk", lag, String(index))
        case .speechEnd(_, let lag, let blocked):
            return ("speech.end", lag, blocked > 0 ? "blocked_ns=\(blocked)" : nil)
        case .encoded(let ns): return ("encoded", ns, nil)
        case .sessionReady(let timedOut):
            return ("session.ready", nil, timedOut ? "no acknowledgement within the connect timeout" : nil)
        case .responseStarted(let id): return ("response", nil, id)
        case .anomaly(let text): return ("anomaly", nil, text)
        case .stale(let turn, let event): return ("stale", Int64(turn), describe(event)?.0 ?? "event")
        case .transferEnd(_, let error):
            return ("transfer.end", nil, error.map { "\($0.kind.rawValue): \($0.message)" })
        case .contextCleared(let ok, let detail): return ("context.cleared", ok ? 1 : 0, detail)
        case .uploadDone(let bytes): return ("upload.done", Int64(bytes), nil)
        case .firstByte: return ("first.byte", nil, nil)
        case .sse(let sse): return ("sse.event", Int64(sse.data.utf8.count), sse.type == "message" ? nil : sse.type)
        case .webSocketMessage(.text(let text)): return ("ws.message", Int64(text.utf8.count), messageType(text))
        case .webSocketMessage(.binary(let bytes)): return ("ws.message", Int64(bytes.count), "binary")
        case .webSocketPing(let p): return ("ws.ping", Int64(p.count), nil)
        case .webSocketPong(let p): return ("ws.pong", Int64(p.count), nil)
        case .webSocketClose(let code, let reason, let by):
            return ("ws.close", code.map(Int64.init), "by=\(by.rawValue)\(reason.isEmpty ? "" : " reason=\(reason)")")
        case .audio(let bytes, _): return ("audio", Int64(bytes), nil)
        case .serverError(let message, let code):
            return ("server.error", nil, code.map { "\($0): \(message)" } ?? message)
        case .turnEnd: return ("turn.end", nil, nil)
        case .failure(let error): return ("failure", nil, "\(error.kind.rawValue): \(error.message)")
        case .webRTCSetup(let w):
            return (
                "webrtc.setup", nil,
                "secret_ns=\(w.secretNs.map(String.init) ?? "none") offer_answer_ns=\(w.offerAnswerNs) ice_ns=\(w.iceNs) dtls_ns=\(w.dtlsNs) datachannel_ns=\(w.dataChannelNs) first_rtp_ns=\(w.firstRTPNs.map(String.init) ?? "none")"
            )
        case .dataChannelMessage(let text): return ("dc.message", Int64(text.utf8.count), messageType(text))
        case .rtp(let p):
            return ("rtp", Int64(p.samples), "seq=\(p.sequence) ts=\(p.timestamp) loud=\(p.loud ? 1 : 0)")
        case .playout(let at): return ("playout", at, nil)
        case .transcript, .curlTimes, .responseDone: return nil
        }
    }

    /// The `type` of a Realtime JSON message, for the timeline.
    static func messageType(_ text: String) -> String? {
        if let type = JSONSkim.type(text) { return type }
        guard let data = text.data(using: .utf8),
            let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
        else { return nil }
        return object["type"] as? String
    }
}
