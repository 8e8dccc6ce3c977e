-- Scheduling: named queues (pause, concurrency limit), dependencies, unique keys, tags,
-- per-job retry policy, recurring schedules. The rules themselves live in the claim statement
-- (sqlite.sql, claim_ready_jobs), so they hold for every process. waiting_on is kept by the
-- store in the transaction that finishes a dependency (no trigger: every claim and every
-- result updates state, and a trigger would cost each of them).
ALTER TABLE jobs ADD COLUMN queue TEXT NOT NULL DEFAULT 'default';
ALTER TABLE jobs ADD COLUMN unique_key TEXT;
ALTER TABLE jobs ADD COLUMN tags TEXT;                 -- JSON list, shown with the job
ALTER TABLE jobs ADD COLUMN depends_on TEXT;           -- JSON list of job ids, shown with the job
ALTER TABLE jobs ADD COLUMN waiting_on INTEGER NOT NULL DEFAULT 0;  -- dependencies not completed
ALTER TABLE jobs ADD COLUMN backoff_base REAL;         -- NULL: the configured value
ALTER TABLE jobs ADD COLUMN backoff_max REAL;
ALTER TABLE jobs ADD COLUMN jitter REAL;

-- At most one live job per unique key: a job that completed, died or was canceled frees it.
CREATE UNIQUE INDEX jobs_unique_key ON jobs (unique_key)
WHERE unique_key IS NOT NULL AND state IN ('pending', 'failed', 'processing');

-- Only queues that are paused or limited have a row: the claim probes this table per job it
-- considers, and an empty table costs nothing.
CREATE TABLE queues (
    name         TEXT    PRIMARY KEY,
    paused       INTEGER NOT NULL DEFAULT 0,
    max_running  INTEGER                         -- NULL: no limit
) WITHOUT ROWID;

CREATE TABLE job_dependencies (
    depends_on  TEXT NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    job_id      TEXT NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    PRIMARY KEY (depends_on, job_id)
) WITHOUT ROWID;
CREATE INDEX job_dependencies_of_job ON job_dependencies (job_id);

CREATE TABLE job_tags (
    tag     TEXT NOT NULL,
    job_id  TEXT NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    PRIMARY KEY (tag, job_id)
) WITHOUT ROWID;
CREATE INDEX job_tags_of_job ON job_tags (job_id);

-- Recurring jobs. next_run_at is the tick key: a worker enqueues a tick only by moving it on
-- from the exact value it read (compare and set), in the transaction that inserts the job, so
-- every tick is enqueued once however many workers race for it.
CREATE TABLE schedules (
    name         TEXT    PRIMARY KEY,
    job          TEXT    NOT NULL,               -- the job's JSON, validated when added
    cron         TEXT,                           -- a cron expression, or
    every        REAL,                           -- a fixed interval in seconds
    tz           TEXT,                           -- cron's time zone (NULL: UTC)
    paused       INTEGER NOT NULL DEFAULT 0,
    next_run_at  REAL    NOT NULL,
    last_run_at  REAL,                           -- the last tick enqueued
    last_job_id  TEXT,
    created_at   REAL    NOT NULL
) WITHOUT ROWID;
