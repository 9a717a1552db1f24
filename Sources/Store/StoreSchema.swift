import GRDB

/// Table layout, versioned with GRDB's `DatabaseMigrator`. Add new migrations at the end;
/// never edit a shipped one (existing result files were created with it).
enum StoreSchema {
    static var migrator: DatabaseMigrator {
        var m = DatabaseMigrator()
        m.registerMigration("v1") { db in
            try db.execute(sql: """
                CREATE TABLE runs (
                    id INTEGER PRIMARY KEY,
                    run_key TEXT NOT NULL UNIQUE,
                    config_json TEXT NOT NULL,
                    model_id TEXT NOT NULL,
                    checkpoint_fingerprint TEXT NOT NULL,
                    method TEXT NOT NULL,
                    tokens INTEGER,
                    important_ratio REAL NOT NULL,
                    dataset TEXT NOT NULL,
                    split TEXT NOT NULL,
                    max_new_tokens INTEGER NOT NULL,
                    seed INTEGER NOT NULL,
                    tool_version TEXT NOT NULL,
                    git_commit TEXT NOT NULL,
                    host TEXT NOT NULL,
                    started_at TEXT NOT NULL,
                    finished_at TEXT,
                    status TEXT NOT NULL CHECK (status IN ('running', 'complete', 'incomplete', 'failed')),
                    expected_items INTEGER
                );
                -- question_id is declared without a type so SQLite keeps each value's own storage
                -- class: integer ids stay INTEGER, string ids stay TEXT (7 and '7' are different ids).
                -- An item is (question_id, occurrence): MME asks two questions per image under one
                -- question_id, so occurrence counts earlier items with the same id in the question file.
                CREATE TABLE predictions (
                    id INTEGER PRIMARY KEY,
                    run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
                    question_id NOT NULL CHECK (typeof(question_id) IN ('integer', 'text')),
                    occurrence INTEGER NOT NULL DEFAULT 0 CHECK (occurrence >= 0),
                    item_index INTEGER NOT NULL,
                    prompt TEXT NOT NULL,
                    raw_output TEXT NOT NULL,
                    parsed_answer TEXT NOT NULL,
                    answer_id TEXT NOT NULL,
                    visual_tokens INTEGER NOT NULL,
                    generated_tokens INTEGER NOT NULL,
                    kept_json TEXT NOT NULL,
                    load_ms REAL NOT NULL,
                    preprocess_ms REAL NOT NULL,
                    vision_ms REAL NOT NULL,
                    prune_ms REAL NOT NULL,
                    prefill_ms REAL NOT NULL,
                    decode_ms REAL NOT NULL,
                    total_ms REAL NOT NULL,
                    created_at TEXT NOT NULL,
                    UNIQUE (run_id, question_id, occurrence)
                );
                CREATE INDEX predictions_by_order ON predictions(run_id, item_index);
                CREATE TABLE item_errors (
                    run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
                    question_id NOT NULL CHECK (typeof(question_id) IN ('integer', 'text')),
                    occurrence INTEGER NOT NULL DEFAULT 0,
                    item_index INTEGER NOT NULL,
                    message TEXT NOT NULL,
                    at TEXT NOT NULL,
                    PRIMARY KEY (run_id, question_id, occurrence)
                );
                CREATE TABLE scores (
                    run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
                    metric TEXT NOT NULL,
                    value REAL NOT NULL,
                    position INTEGER NOT NULL,
                    PRIMARY KEY (run_id, metric)
                );
                """)
        }
        m.registerMigration("v2-projector-ms") { db in
            // The projector was counted inside vision_ms before; rows written then keep 0 here.
            try db.execute(sql: "ALTER TABLE predictions ADD COLUMN projector_ms REAL NOT NULL DEFAULT 0")
        }
        m.registerMigration("v3-benchmark-items") { db in
            // The size of the benchmark's question file, to tell `--limit` subsets from whole runs.
            try db.execute(sql: "ALTER TABLE runs ADD COLUMN benchmark_items INTEGER")
        }
        m.registerMigration("v4-stop-reason") { db in
            // Why a run stopped before completing (e.g. "interrupted by SIGTERM"); NULL otherwise.
            try db.execute(sql: "ALTER TABLE runs ADD COLUMN stop_reason TEXT")
        }
        m.registerMigration("v5-checksum") { db in
            // NULL marks a row written before checksums existed; every row written since carries one
            // (see `AnswerChecksum`).
            try db.execute(sql: "ALTER TABLE predictions ADD COLUMN checksum TEXT")
        }
        m.registerMigration("v6-claims") { db in
            // Who is working on an item right now, so that two processes evaluating one run split
            // the items instead of both answering all of them. expires_at is Unix time in seconds.
            // WITHOUT ROWID: one b-tree, so taking and releasing a claim dirties one page, not two.
            try db.execute(sql: """
                CREATE TABLE claims (
                    run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
                    question_id NOT NULL CHECK (typeof(question_id) IN ('integer', 'text')),
                    occurrence INTEGER NOT NULL DEFAULT 0,
                    owner TEXT NOT NULL,
                    expires_at REAL NOT NULL,
                    PRIMARY KEY (run_id, question_id, occurrence)
                ) WITHOUT ROWID
                """)
        }
        m.registerMigration("v7-item-cost") { db in
            // Analytic FLOPs and KV-cache bytes per answer (`ItemCost`); NULL for rows written before they
            // were kept, and for engines that do not know them. peak_rss_bytes: the largest resident set
            // of the processes that worked on the run, NULL when not recorded.
            try db.execute(sql: """
                ALTER TABLE predictions ADD COLUMN vision_flops INTEGER;
                ALTER TABLE predictions ADD COLUMN projector_flops INTEGER;
                ALTER TABLE predictions ADD COLUMN prefill_flops INTEGER;
                ALTER TABLE predictions ADD COLUMN decode_flops INTEGER;
                ALTER TABLE predictions ADD COLUMN kv_cache_bytes INTEGER;
                ALTER TABLE runs ADD COLUMN peak_rss_bytes INTEGER;
                """)
        }
        m.registerMigration("v8-image-path") { db in
            // Which preprocessing path an image opened unconverted took ('plain', 'quirk', 'fallback');
            // NULL for images converted to RGB, text-only items and rows written before it was kept.
            try db.execute(sql: "ALTER TABLE predictions ADD COLUMN image_path TEXT")
            // The selection's margin (`SelectionMargin`): how close its cuts came to a tie; NULL when nothing was
            // ranked and in rows written before it was kept.
            try db.execute(sql: "ALTER TABLE predictions ADD COLUMN selection_margin REAL")
            // The resampling units of a scored run (`UnitScores` as JSON), from which `report` computes intervals;
            // replaced and cleared together with the run's scores.
            try db.execute(sql: """
                CREATE TABLE score_units (
                    run_id INTEGER PRIMARY KEY REFERENCES runs(id) ON DELETE CASCADE,
                    units_json TEXT NOT NULL
                )
                """)
        }
        return m
    }

    /// Tables a results database has once every migration above ran. A file holding other tables
    /// but not these is someone else's database.
    static let ownTables: Set<String> = ["grdb_migrations", "runs", "predictions", "item_errors", "scores"]
}
