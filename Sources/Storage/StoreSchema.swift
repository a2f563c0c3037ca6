import Foundation

/// The results schema: ordered, never-edited migrations, in SQLite's dialect. The SQLite store
/// runs them as written; the PostgreSQL store runs the same migrations under the same names,
/// with the column types spelled PostgreSQL's way (`postgresSQL`). Add new ones at the end;
/// never change an old one.
public enum StoreSchema {
    public static let migrations: [(id: String, sql: String)] = [
        ("v1-runs-trials-events", """
                CREATE TABLE runs (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    status TEXT NOT NULL CHECK (status IN ('running', 'complete', 'interrupted')),
                    started_at TEXT NOT NULL,
                    ended_at TEXT,
                    label TEXT,
                    hostname TEXT NOT NULL,
                    os TEXT NOT NULL,
                    cpu_model TEXT NOT NULL,
                    cpu_count INTEGER NOT NULL,
                    swift_version TEXT NOT NULL,
                    curl_version TEXT NOT NULL,
                    openssl_version TEXT NOT NULL,
                    sqlite_version TEXT NOT NULL,
                    ttfa_version TEXT NOT NULL,
                    git_commit TEXT,
                    command_line TEXT NOT NULL,
                    config_json TEXT NOT NULL,
                    seed INTEGER NOT NULL
                );
                CREATE TABLE trials (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
                    seq INTEGER NOT NULL,
                    transport TEXT NOT NULL,
                    endpoint TEXT NOT NULL,
                    connection TEXT NOT NULL,
                    recording TEXT NOT NULL,
                    recording_ns INTEGER NOT NULL,
                    trial INTEGER NOT NULL,
                    warmup INTEGER NOT NULL,
                    status TEXT NOT NULL,
                    error_kind TEXT,
                    error_message TEXT,
                    started_at TEXT NOT NULL,
                    speech_end_ns INTEGER NOT NULL,
                    ttfa_ns INTEGER,
                    dns_ns INTEGER,
                    connect_ns INTEGER,
                    tls_ns INTEGER,
                    upgrade_ns INTEGER,
                    connection_reused INTEGER,
                    response_headers_ns INTEGER,
                    upload_done_ns INTEGER,
                    first_byte_ns INTEGER,
                    first_event_ns INTEGER,
                    first_audio_ns INTEGER,
                    last_audio_ns INTEGER,
                    done_ns INTEGER,
                    audio_bytes INTEGER NOT NULL,
                    audio_events INTEGER NOT NULL,
                    max_audio_gap_ns INTEGER,
                    underruns INTEGER NOT NULL,
                    underrun_ns INTEGER NOT NULL,
                    max_send_lag_ns INTEGER,
                    chunks_sent INTEGER NOT NULL,
                    curl_namelookup_ns INTEGER,
                    curl_connect_ns INTEGER,
                    curl_appconnect_ns INTEGER,
                    curl_pretransfer_ns INTEGER,
                    curl_starttransfer_ns INTEGER,
                    curl_total_ns INTEGER,
                    http_version TEXT
                );
                CREATE INDEX trials_by_run ON trials(run_id, seq);
                CREATE TABLE trial_events (
                    trial_id INTEGER NOT NULL REFERENCES trials(id) ON DELETE CASCADE,
                    seq INTEGER NOT NULL,
                    t_ns INTEGER NOT NULL,
                    kind TEXT NOT NULL,
                    value INTEGER,
                    detail TEXT,
                    PRIMARY KEY (trial_id, seq)
                ) WITHOUT ROWID;
                """),
        ("v2-trial-attribution", """
                ALTER TABLE trials ADD COLUMN encode_ns INTEGER;
                ALTER TABLE trials ADD COLUMN upload_blocked_ns INTEGER;
                ALTER TABLE trials ADD COLUMN speech_end_lag_ns INTEGER;
                ALTER TABLE trials ADD COLUMN response_id TEXT;
                ALTER TABLE trials ADD COLUMN anomalies INTEGER NOT NULL DEFAULT 0;
                """),
        ("v3-audio-bursts", "ALTER TABLE trials ADD COLUMN audio_bursts INTEGER"),
        ("v4-server-phases", """
                ALTER TABLE trials ADD COLUMN server_request_ns INTEGER;
                ALTER TABLE trials ADD COLUMN server_first_audio_ns INTEGER;
                ALTER TABLE trials ADD COLUMN server_edge_ns INTEGER;
                ALTER TABLE trials ADD COLUMN server_ingest_ns INTEGER;
                ALTER TABLE trials ADD COLUMN server_model_ns INTEGER;
                """),
        ("v5-load", """
                ALTER TABLE runs ADD COLUMN group_name TEXT;
                ALTER TABLE trials ADD COLUMN start_late_ns INTEGER;
                CREATE TABLE run_series (
                    run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
                    transport TEXT NOT NULL,
                    second INTEGER NOT NULL,
                    offered INTEGER NOT NULL,
                    started INTEGER NOT NULL,
                    late INTEGER NOT NULL,
                    active INTEGER NOT NULL,
                    completed INTEGER NOT NULL,
                    ok INTEGER NOT NULL,
                    errors INTEGER NOT NULL,
                    invalid INTEGER NOT NULL,
                    ttfa_p50_ns INTEGER,
                    ttfa_p99_ns INTEGER,
                    max_send_lag_ns INTEGER,
                    PRIMARY KEY (run_id, transport, second)
                );
                CREATE INDEX runs_by_group ON runs(group_name);
                """),
    ]

    /// A migration's SQL for PostgreSQL: 64-bit integers (SQLite's INTEGER), identity keys,
    /// no `WITHOUT ROWID`; one statement per element.
    public static func postgresSQL(_ sql: String) -> [String] {
        var text = sql.replacingOccurrences(of: "INTEGER PRIMARY KEY AUTOINCREMENT", with: "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY")
        text = text.replacingOccurrences(of: ") WITHOUT ROWID", with: ")")
        text = text.replacingOccurrences(of: #"\bINTEGER\b"#, with: "BIGINT", options: .regularExpression)
        text = text.replacingOccurrences(of: #"\bREAL\b"#, with: "DOUBLE PRECISION", options: .regularExpression)
        return text.split(separator: ";").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }.filter { !$0.isEmpty }
    }
}
