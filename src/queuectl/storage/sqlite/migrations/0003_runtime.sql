-- The worker runtime: per-job retry rules and output limit, cancel requests, streamed output.
ALTER TABLE jobs ADD COLUMN fatal_exit_codes TEXT;            -- JSON list of exit codes
ALTER TABLE jobs ADD COLUMN retry_on_timeout INTEGER NOT NULL DEFAULT 1;
ALTER TABLE jobs ADD COLUMN output_limit INTEGER;             -- NULL: the configured limit
ALTER TABLE jobs ADD COLUMN cancel_requested INTEGER NOT NULL DEFAULT 0;

-- Output of runs still going, appended every half second; folded into attempts.output (and
-- deleted) when the run ends, in the same transaction as its result.
CREATE TABLE output_chunks (
    job_id  TEXT    NOT NULL,
    number  INTEGER NOT NULL,
    offset  INTEGER NOT NULL,
    data    BLOB    NOT NULL,
    PRIMARY KEY (job_id, number, offset)
) WITHOUT ROWID;
