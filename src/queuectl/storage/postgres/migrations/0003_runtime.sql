-- The worker runtime: per-job retry rules and output limit, cancel requests, streamed output.
ALTER TABLE jobs ADD COLUMN fatal_exit_codes integer[];        -- NULL: none
ALTER TABLE jobs ADD COLUMN retry_on_timeout boolean NOT NULL DEFAULT true;
ALTER TABLE jobs ADD COLUMN output_limit bigint;               -- NULL: the configured limit
ALTER TABLE jobs ADD COLUMN cancel_requested boolean NOT NULL DEFAULT false;

-- Output of runs still going, appended every half second; folded into attempts.output (and
-- deleted) when the run ends, in the same transaction as its result.
CREATE TABLE output_chunks (
    job_id       text    NOT NULL,
    number       integer NOT NULL,
    byte_offset  bigint  NOT NULL,
    data         bytea   NOT NULL,
    PRIMARY KEY (job_id, number, byte_offset)
);
