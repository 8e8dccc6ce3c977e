-- Scheduling: named queues (pause, concurrency limit), dependencies, unique keys, tags,
-- per-job retry policy, recurring schedules. As in the SQLite store, the rules live in the
-- claim statement (postgres.sql, claim_ready_jobs) and in the trigger below, so that they hold
-- for every process on every host.
ALTER TABLE jobs ADD COLUMN queue text NOT NULL DEFAULT 'default';
ALTER TABLE jobs ADD COLUMN unique_key text;
ALTER TABLE jobs ADD COLUMN tags text[];               -- NULL: none
ALTER TABLE jobs ADD COLUMN depends_on text[];         -- ids of the jobs it waits for
ALTER TABLE jobs ADD COLUMN waiting_on integer NOT NULL DEFAULT 0;  -- not completed yet
-- Set on a job once another depends on it: only such jobs pay for the trigger below.
ALTER TABLE jobs ADD COLUMN has_dependents boolean NOT NULL DEFAULT false;
ALTER TABLE jobs ADD COLUMN backoff_base double precision;          -- NULL: the configured one
ALTER TABLE jobs ADD COLUMN backoff_max double precision;
ALTER TABLE jobs ADD COLUMN jitter double precision;

-- At most one live job per unique key: a job that completed, died or was canceled frees it.
CREATE UNIQUE INDEX jobs_unique_key ON jobs (unique_key)
WHERE unique_key IS NOT NULL AND state IN ('pending', 'failed', 'processing');
-- How many jobs of a queue run now (the concurrency limit), without reading finished ones.
CREATE INDEX jobs_running_in_queue ON jobs (queue) WHERE state = 'processing';
-- Arrays searched by element: the jobs with a tag, the dependents of a job.
CREATE INDEX jobs_tags ON jobs USING gin (tags) WHERE tags IS NOT NULL;
CREATE INDEX jobs_dependents ON jobs USING gin (depends_on) WHERE depends_on IS NOT NULL;

-- Only queues that are paused or limited have a row.
CREATE TABLE queues (
    name         text    PRIMARY KEY,
    paused       boolean NOT NULL DEFAULT false,
    max_running  integer                         -- NULL: no limit
);

-- A dependency that completes: its dependents wait on one job fewer. One that ends dead or
-- canceled: its waiting dependents die, visible in the dead letter queue, and theirs in turn
-- (the UPDATE fires this trigger again). Whatever path finishes a job (a worker, a rescue, a
-- cancel), the database keeps the counts right.
CREATE FUNCTION jobs_dependency_changed() RETURNS trigger LANGUAGE plpgsql
-- The store's schema, whatever the search_path of the session that fires the trigger.
SET search_path FROM CURRENT AS $$
DECLARE
    ready integer;
BEGIN
    IF NEW.state = 'completed' AND OLD.state <> 'completed' THEN
        UPDATE jobs SET waiting_on = waiting_on - 1
        WHERE depends_on @> ARRAY[NEW.id];
        -- A dependent with nothing left to wait for: wake the workers (at commit).
        SELECT COUNT(*) INTO ready FROM jobs
        WHERE depends_on @> ARRAY[NEW.id] AND waiting_on = 0 AND state = 'pending';
        IF ready > 0 THEN
            PERFORM pg_notify(current_schema() || '.wake', 'j');
        END IF;
    ELSIF NEW.state IN ('dead', 'canceled') AND OLD.state NOT IN ('dead', 'canceled') THEN
        UPDATE jobs
        SET state = 'dead', last_error = 'dependency ' || NEW.id || ' dead',
            updated_at = NEW.updated_at
        WHERE depends_on @> ARRAY[NEW.id] AND state IN ('pending', 'failed');
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER jobs_dependency_changed AFTER UPDATE OF state ON jobs
FOR EACH ROW WHEN (NEW.has_dependents AND NEW.state IS DISTINCT FROM OLD.state)
EXECUTE FUNCTION jobs_dependency_changed();

-- Recurring jobs. next_run_at is the tick key: a worker enqueues a tick only by moving it on
-- from the exact value it read (compare and set), in the transaction that inserts the job.
-- A second worker racing for the same tick waits on the row lock, then finds next_run_at
-- moved and enqueues nothing: every tick once, however many hosts run workers.
CREATE TABLE schedules (
    name         text    PRIMARY KEY,
    job          text    NOT NULL,               -- the job's JSON, validated when added
    cron         text,                           -- a cron expression, or
    every        double precision,               -- a fixed interval in seconds
    tz           text,                           -- cron's time zone (NULL: UTC)
    paused       boolean NOT NULL DEFAULT false,
    next_run_at  double precision NOT NULL,
    last_run_at  double precision,               -- the last tick enqueued
    last_job_id  text,
    created_at   double precision NOT NULL
);
