import Foundation
import Storage

/// Writes trials as RFC 4180 CSV: a header row, one row per trial, CRLF line ends, fields
/// quoted when they contain a comma, quote or line break. Times are milliseconds (the unit is
/// in each column name). Text cells that a spreadsheet would run as a formula (starting with
/// `=`, `+`, `-`, `@`, tab or CR) get a leading `'`; numbers are left alone.
public enum CSVExporter {
    public static let columns = [
        "run_id", "seq", "transport", "endpoint", "connection", "recording", "recording_ms", "trial", "warmup",
        "status", "error_kind", "error_message", "started_at", "ttfa_ms", "speech_end_ms",
        "dns_ms", "connect_ms", "tls_ms", "upgrade_ms", "connection_reused",
        "upload_done_ms", "response_headers_ms", "first_byte_ms", "first_event_ms", "first_audio_ms", "last_audio_ms", "done_ms",
        "audio_bytes", "audio_ms", "audio_events", "max_audio_gap_ms", "underruns", "underrun_ms", "max_send_lag_ms", "chunks_sent",
        "curl_namelookup_ms", "curl_connect_ms", "curl_appconnect_ms", "curl_pretransfer_ms", "curl_starttransfer_ms", "curl_total_ms",
        "http_version", "encode_ms", "upload_blocked_ms", "speech_end_lag_ms", "response_id", "anomalies", "audio_bursts",
        "server_request_ms", "server_first_audio_ms", "server_edge_ms", "server_ingest_ms", "server_model_ms",
    ]

    public static var header: String { columns.joined(separator: ",") + "\r\n" }

    /// One CSV row (with CRLF) for a trial.
    public static func row(_ t: TrialRecord) -> String {
        enum Cell {
            case text(String?)
            case number(String?)
        }
        func ms(_ ns: Int64?) -> Cell { .number(ns.map { String(format: "%.3f", Double($0) / 1e6) }) }
        func int(_ v: Int?) -> Cell { .number(v.map(String.init)) }
        func rel(_ ns: Int64?) -> Cell { ms(ns.map { $0 - t.speechEndNs }) }
        let cells: [Cell] = [
            .number(t.runID.description), int(t.seq), .text(t.transport), .text(t.endpoint), .text(t.connection),
            .text(t.recording), ms(t.recordingNs), int(t.trial), .number(t.warmup ? "1" : "0"),
            .text(t.status), .text(t.errorKind), .text(t.errorMessage), .text(t.startedAt), ms(t.ttfaNs), ms(t.speechEndNs),
            ms(t.dnsNs), ms(t.connectNs), ms(t.tlsNs), ms(t.upgradeNs), .number(t.connectionReused.map { $0 ? "1" : "0" }),
            rel(t.uploadDoneNs), rel(t.responseHeadersNs), rel(t.firstByteNs), rel(t.firstEventNs), rel(t.firstAudioNs),
            rel(t.lastAudioNs), rel(t.doneNs),
            int(t.audioBytes), .number(String(format: "%.3f", Double(t.audioBytes) / 48)), int(t.audioEvents), ms(t.maxAudioGapNs),
            int(t.underruns), ms(t.underrunNs), ms(t.maxSendLagNs), int(t.chunksSent),
            ms(t.curlNamelookupNs), ms(t.curlConnectNs), ms(t.curlAppconnectNs), ms(t.curlPretransferNs),
            ms(t.curlStarttransferNs), ms(t.curlTotalNs), .text(t.httpVersion),
            ms(t.encodeNs), ms(t.uploadBlockedNs), ms(t.speechEndLagNs), .text(t.responseID), int(t.anomalies), int(t.audioBursts),
            rel(t.serverRequestNs), rel(t.serverFirstAudioNs), ms(t.serverEdgeNs), ms(t.serverIngestNs), ms(t.serverModelNs),
        ]
        return cells.map { cell in
            switch cell {
            case .number(let value): return value ?? ""
            case .text(let value): return value.map { quote(neutralize($0)) } ?? ""
            }
        }.joined(separator: ",") + "\r\n"
    }

    /// Prefixes a `'` to text a spreadsheet would evaluate as a formula.
    public static func neutralize(_ text: String) -> String {
        guard let first = text.unicodeScalars.first, "=+-@\t\r".unicodeScalars.contains(first) else { return text }
        return "'" + text
    }

    /// Quotes a field when it needs it (RFC 4180 §2.6–2.7).
    public static func quote(_ text: String) -> String {
        guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" || $0 == "\r\n" }) else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
