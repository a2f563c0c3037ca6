import Foundation
import Storage

/// Writes trials as RFC 4180 CSV: a header row, one row per trial, CRLF line ends, fields
/// quoted when they contain a comma, quote or line break. Text cells that a spreadsheet would
/// run as a formula (starting with `=`, `+`, `-`, `@`, tab or CR) get a leading `'`; numbers are
/// left alone.
///
/// The columns are `TrialRecord`'s (`RecordColumns`), in its order, without the row id: a column
/// added to the record is exported without an edit here. Times are milliseconds (`*_ns` becomes
/// `*_ms`); the instants after the end of speech are shown relative to it, so `first_audio_ms`
/// reads as the TTFA does. `audio_ms`, the audio's playing time, follows `audio_bytes`.
package struct CSVRenderer: ReportRenderer {
    package init() {}

    /// The header, then one row per trial.
    package func render(_ report: Report) -> String {
        Self.header + report.trials.map(Self.row).joined()
    }

    /// Instants measured from the trial's start that the CSV shows from the end of speech.
    static let fromSpeechEnd: Set<String> = [
        "upload_done_ns", "response_headers_ns", "first_byte_ns", "first_event_ns", "first_audio_ns", "last_audio_ns",
        "done_ns", "server_request_ns", "server_first_audio_ns", "playout_ns",
    ]

    /// The header's column names.
    package static let columns: [String] = cells(of: sample).map(\.name)

    package static var header: String { columns.joined(separator: ",") + "\r\n" }

    /// One CSV row (with CRLF) for a trial.
    package static func row(_ t: TrialRecord) -> String {
        cells(of: t).map(\.text).joined(separator: ",") + "\r\n"
    }

    /// A trial's cells: its record's columns, converted.
    static func cells(of t: TrialRecord) -> [(name: String, text: String)] {
        // A flat record of primitives always encodes; a failure here is a bug in the record.
        guard let columns = try? RecordColumns.encode(t) else {
            preconditionFailure("TrialRecord does not encode as columns")
        }
        var out: [(name: String, text: String)] = []
        for (name, value) in columns where name != "id" {
            if name.hasSuffix("_ns") {
                let shown = name.dropLast(3) + "_ms"
                guard case .integer(let ns) = value else {
                    out.append((String(shown), ""))
                    continue
                }
                let relative = fromSpeechEnd.contains(name) ? ns - t.speechEndNs : ns
                out.append((String(shown), String(format: "%.3f", Double(relative) / 1e6)))
            } else {
                out.append((name, text(value)))
            }
            // 24 kHz, 16-bit mono: 48 bytes a millisecond.
            if name == "audio_bytes" { out.append(("audio_ms", String(format: "%.3f", Double(t.audioBytes) / 48))) }
        }
        return out
    }

    static func text(_ value: StorageValue) -> String {
        switch value {
        case .null: ""
        case .integer(let v): String(v)
        case .real(let v): String(v)
        case .text(let v): quote(neutralize(v))
        }
    }

    static let sample = TrialRecord(
        runID: 0, seq: 0, transport: "", endpoint: "", connection: "", recording: "", recordingNs: 0,
        trial: 0, warmup: false, status: .ok, startedAt: "", speechEndNs: 0)

    /// Prefixes a `'` to text a spreadsheet would evaluate as a formula.
    package static func neutralize(_ text: String) -> String {
        guard let first = text.unicodeScalars.first, "=+-@\t\r".unicodeScalars.contains(first) else { return text }
        return "'" + text
    }

    /// Quotes a field when it needs it (RFC 4180 §2.6–2.7).
    package static func quote(_ text: String) -> String {
        guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" || $0 == "\r\n" }) else {
            return text
        }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
