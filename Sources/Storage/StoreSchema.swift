import Foundation

/// What differs between the databases ttfa stores in, answered as questions — the column types,
/// the auto-numbered key, the parameter placeholders — so the schema and the statements are
/// written once (as sql-kit's `SQLDialect` answers them).
package protocol SQLDialect: Sendable {
    /// "SQLite", "PostgreSQL".
    var name: String { get }
    /// A 64-bit integer column.
    var integer: String { get }
    /// An auto-numbered 64-bit primary key, the whole column definition after its name.
    var autoIncrementPrimaryKey: String { get }
    /// What follows the closing parenthesis of a table whose rows are found by their primary key
    /// only (SQLite's `WITHOUT ROWID`).
    var keyOnlyTableOptions: String { get }
    /// The placeholder of the `index`th parameter (from 1): `?` or `$1`.
    func placeholder(_ index: Int) -> String
}

/// The results schema: ordered, never-edited migrations, each written once for every dialect.
/// The SQLite store runs them through GRDB's migrator, the PostgreSQL store under an advisory
/// lock; both record applied migrations in `grdb_migrations` by name. Add new ones at the end;
/// never change what an old one does.
package enum StoreSchema {
    package struct Migration: Sendable {
        package var id: String
        /// The statements in `dialect`, in order.
        package var statements: @Sendable (any SQLDialect) -> [String]
    }

    package static let migrations: [Migration] = [
        Migration(id: "v1-runs-trials-events") { d in
            [
                """
                CREATE TABLE runs (
                    id \(d.autoIncrementPrimaryKey),
                    status TEXT NOT NULL CHECK (status IN ('running', 'complete', 'interrupted')),
                    started_at TEXT NOT NULL,
                    ended_at TEXT,
                    label TEXT,
                    hostname TEXT NOT NULL,
                    os TEXT NOT NULL,
                    cpu_model TEXT NOT NULL,
                    cpu_count \(d.integer) NOT NULL,
                    swift_version TEXT NOT NULL,
                    curl_version TEXT NOT NULL,
                    openssl_version TEXT NOT NULL,
                    sqlite_version TEXT NOT NULL,
                    ttfa_version TEXT NOT NULL,
                    git_commit TEXT,
                    command_line TEXT NOT NULL,
                    config_json TEXT NOT NULL,
                    seed \(d.integer) NOT NULL
                )
                """,
                """
                CREATE TABLE trials (
                    id \(d.autoIncrementPrimaryKey),
                    run_id \(d.integer) NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
                    seq \(d.integer) NOT NULL,
                    transport TEXT NOT NULL,
                    endpoint TEXT NOT NULL,
                    connection TEXT NOT NULL,
                    recording TEXT NOT NULL,
                    recording_ns \(d.integer) NOT NULL,
                    trial \(d.integer) NOT NULL,
                    warmup \(d.integer) NOT NULL,
                    status TEXT NOT NULL,
                    error_kind TEXT,
                    error_message TEXT,
                    started_at TEXT NOT NULL,
                    speech_end_ns \(d.integer) NOT NULL,
                    ttfa_ns \(d.integer),
                    dns_ns \(d.integer),
                    connect_ns \(d.integer),
                    tls_ns \(d.integer),
                    upgrade_ns \(d.integer),
                    connection_reused \(d.integer),
                    response_headers_ns \(d.integer),
                    upload_done_ns \(d.integer),
                    first_byte_ns \(d.integer),
                    first_event_ns \(d.integer),
                    first_audio_ns \(d.integer),
                    last_audio_ns \(d.integer),
                    done_ns \(d.integer),
                    audio_bytes \(d.integer) NOT NULL,
                    audio_events \(d.integer) NOT NULL,
                    max_audio_gap_ns \(d.integer),
                    underruns \(d.integer) NOT NULL,
                    underrun_ns \(d.integer) NOT NULL,
                    max_send_lag_ns \(d.integer),
                    chunks_sent \(d.integer) NOT NULL,
                    curl_namelookup_ns \(d.integer),
                    curl_connect_ns \(d.integer),
                    curl_appconnect_ns \(d.integer),
                    curl_pretransfer_ns \(d.integer),
                    curl_starttransfer_ns \(d.integer),
                    curl_total_ns \(d.integer),
                    http_version TEXT
                )
                """,
                "CREATE INDEX trials_by_run ON trials(run_id, seq)",
                """
                CREATE TABLE trial_events (
                    trial_id \(d.integer) NOT NULL REFERENCES trials(id) ON DELETE CASCADE,
                    seq \(d.integer) NOT NULL,
                    t_ns \(d.integer) NOT NULL,
                    kind TEXT NOT NULL,
                    value \(d.integer),
                    detail TEXT,
                    PRIMARY KEY (trial_id, seq)
                )\(d.keyOnlyTableOptions)
                """,
            ]
        },
        Migration(id: "v2-trial-attribution") { d in
            [
                "ALTER TABLE trials ADD COLUMN encode_ns \(d.integer)",
                "ALTER TABLE trials ADD COLUMN upload_blocked_ns \(d.integer)",
                "ALTER TABLE trials ADD COLUMN speech_end_lag_ns \(d.integer)",
                "ALTER TABLE trials ADD COLUMN response_id TEXT",
                "ALTER TABLE trials ADD COLUMN anomalies \(d.integer) NOT NULL DEFAULT 0",
            ]
        },
        Migration(id: "v3-audio-bursts") { d in ["ALTER TABLE trials ADD COLUMN audio_bursts \(d.integer)"] },
        Migration(id: "v4-server-phases") { d in
            [
                "ALTER TABLE trials ADD COLUMN server_request_ns \(d.integer)",
                "ALTER TABLE trials ADD COLUMN server_first_audio_ns \(d.integer)",
                "ALTER TABLE trials ADD COLUMN server_edge_ns \(d.integer)",
                "ALTER TABLE trials ADD COLUMN server_ingest_ns \(d.integer)",
                "ALTER TABLE trials ADD COLUMN server_model_ns \(d.integer)",
            ]
        },
        Migration(id: "v5-load") { d in
            [
                "ALTER TABLE runs ADD COLUMN group_name TEXT",
                "ALTER TABLE trials ADD COLUMN start_late_ns \(d.integer)",
                """
                CREATE TABLE run_series (
                    run_id \(d.integer) NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
                    transport TEXT NOT NULL,
                    second \(d.integer) NOT NULL,
                    offered \(d.integer) NOT NULL,
                    started \(d.integer) NOT NULL,
                    late \(d.integer) NOT NULL,
                    active \(d.integer) NOT NULL,
                    completed \(d.integer) NOT NULL,
                    ok \(d.integer) NOT NULL,
                    errors \(d.integer) NOT NULL,
                    invalid \(d.integer) NOT NULL,
                    ttfa_p50_ns \(d.integer),
                    ttfa_p99_ns \(d.integer),
                    max_send_lag_ns \(d.integer),
                    PRIMARY KEY (run_id, transport, second)
                )
                """,
                "CREATE INDEX runs_by_group ON runs(group_name)",
            ]
        },
        // PostgreSQL's version was stored in sqlite_version: the column says what it holds now.
        Migration(id: "v6-database-version") { _ in
            ["ALTER TABLE runs RENAME COLUMN sqlite_version TO database_version"]
        },
        // The webrtc transport: its call's set-up steps and the modelled playout of its first audio.
        Migration(id: "v7-webrtc") { d in
            ["secret_ns", "offer_answer_ns", "ice_ns", "dtls_ns", "datachannel_ns", "first_rtp_ns", "playout_ns"].map {
                "ALTER TABLE trials ADD COLUMN \($0) \(d.integer)"
            }
        },
    ]

    /// `INSERT INTO table (columns) VALUES (placeholders)` for a record's columns (an id left
    /// to the database is not among them), with the values in order.
    package static func insert(
        into table: String, _ columns: [(name: String, value: StorageValue)], dialect: any SQLDialect,
        returningID: Bool = false
    ) -> (sql: String, values: [StorageValue]) {
        let stored = columns.filter { !($0.name == "id" && $0.value == .null) }
        let placeholders = stored.indices.map { dialect.placeholder($0 + 1) }.joined(separator: ", ")
        let sql =
            "INSERT INTO \(table) (\(stored.map(\.name).joined(separator: ", "))) VALUES (\(placeholders))"
            + (returningID ? " RETURNING id" : "")
        return (sql, stored.map(\.value))
    }
}
