-- The first schema. Times are POSIX seconds (REAL, UTC).
CREATE TABLE jobs (
    seq          INTEGER PRIMARY KEY,      -- insertion order: first in, first out
    id           TEXT    NOT NULL UNIQUE,
    command      TEXT    NOT NULL,
    state        TEXT    NOT NULL,
    attempts     INTEGER NOT NULL DEFAULT 0,
    runs         INTEGER NOT NULL DEFAULT 0,
    max_retries  INTEGER NOT NULL,
    priority     INTEGER NOT NULL DEFAULT 0,
    run_at       REAL    NOT NULL,
    created_at   REAL    NOT NULL,
    updated_at   REAL    NOT NULL,
    cwd          TEXT,
    env          TEXT,                      -- JSON object
    timeout      REAL,
    worker_id    TEXT,
    lease_until  REAL,
    exit_code    INTEGER,
    last_error   TEXT
);

-- Serves the claim's ORDER BY directly, over ready-state rows only.
CREATE INDEX jobs_ready ON jobs (priority DESC, run_at, seq) WHERE state IN ('pending', 'failed');
CREATE INDEX jobs_by_state ON jobs (state, seq);
CREATE INDEX jobs_held ON jobs (worker_id, lease_until) WHERE state = 'processing';

CREATE TABLE attempts (
    job_id          TEXT    NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    number          INTEGER NOT NULL,
    worker_id       TEXT    NOT NULL,
    started_at      REAL    NOT NULL,
    finished_at     REAL,
    exit_code       INTEGER,
    error           TEXT,
    output          BLOB,
    output_dropped  INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (job_id, number)
) WITHOUT ROWID;

CREATE TABLE workers (
    id              TEXT    PRIMARY KEY,
    host            TEXT    NOT NULL,
    pid             INTEGER NOT NULL,
    pid_started     TEXT,                   -- guards against pid reuse on the same host
    slots           INTEGER NOT NULL,
    started_at      REAL    NOT NULL,
    heartbeat_at    REAL    NOT NULL,
    stop_requested  TEXT                    -- NULL, 'graceful' or 'now'
);

CREATE TABLE config (
    key    TEXT PRIMARY KEY,
    value  TEXT NOT NULL
);
