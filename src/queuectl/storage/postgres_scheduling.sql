-- Named statements of the PostgreSQL store for scheduling: dependencies, unique keys, tags,
-- named queues, recurring schedules and retention. Names match sqlite_scheduling.sql. The
-- claim rule itself is claim_ready_jobs in postgres.sql; the dependency trigger is in
-- migrations/postgres/0004_scheduling.sql.

-- name: insert_job
-- A job whose unique_key matches a live job is not inserted (no row returned): see enqueue.
INSERT INTO jobs (id, command, state, max_retries, run_at, created_at, updated_at, cwd, env,
                  timeout, fatal_exit_codes, retry_on_timeout, output_limit,
                  priority, queue, unique_key, tags, depends_on, waiting_on, last_error,
                  backoff_base, backoff_max, jitter)
VALUES (%(id)s, %(command)s, %(state)s, %(max_retries)s, %(run_at)s, %(now)s, %(now)s, %(cwd)s,
        %(env)s, %(timeout)s, %(fatal_exit_codes)s, %(retry_on_timeout)s, %(output_limit)s,
        %(priority)s, %(queue)s, %(unique_key)s, %(tags)s, %(depends_on)s, %(waiting_on)s,
        %(last_error)s, %(backoff_base)s, %(backoff_max)s, %(jitter)s)
ON CONFLICT (unique_key)
    WHERE unique_key IS NOT NULL AND state IN ('pending', 'failed', 'processing') DO NOTHING
RETURNING id;

-- name: dependency_states
-- Marks the dependencies (their trigger now has work to do) and reads their states. The row
-- locks also keep a dependency from completing (or dying) until this enqueue commits, so that
-- its trigger sees the new dependent and counts it; else the dependent could wait forever.
UPDATE jobs SET has_dependents = true WHERE id = ANY(%(ids)s)
RETURNING id, state;

-- name: mark_dependencies
-- queuectl import: the jobs that imported jobs depend on.
UPDATE jobs SET has_dependents = true
WHERE id IN (SELECT unnest(depends_on) FROM jobs WHERE id = ANY(%(ids)s)) AND NOT has_dependents;

-- name: live_job_with_unique_key
SELECT * FROM jobs
WHERE unique_key = %(unique_key)s AND state IN ('pending', 'failed', 'processing');

-- name: redo_dependency_deaths
-- Jobs a person retried while a dependency is still dead or canceled die again at once, so
-- that no waiting job can wait forever on a job that will never complete.
UPDATE jobs
SET state = 'dead', updated_at = %(now)s,
    last_error = 'dependency ' || (
        SELECT p.id FROM jobs AS p
        WHERE p.id = ANY(jobs.depends_on) AND p.state IN ('dead', 'canceled')
        ORDER BY p.id LIMIT 1) || ' dead'
WHERE id = ANY(%(ids)s) AND state = 'pending'
  AND EXISTS (SELECT 1 FROM jobs AS p
              WHERE p.id = ANY(jobs.depends_on) AND p.state IN ('dead', 'canceled'));

-- name: list_jobs_with_tag
SELECT * FROM jobs
WHERE tags @> ARRAY[%(tag)s::text] AND (%(state)s::text IS NULL OR state = %(state)s)
ORDER BY seq DESC LIMIT %(limit)s OFFSET %(offset)s;

-- name: pending_breakdown
SELECT COUNT(*) AS pending,
       COUNT(*) FILTER (WHERE run_at > %(now)s) AS scheduled,
       COUNT(*) FILTER (WHERE run_at <= %(now)s AND waiting_on > 0) AS blocked
FROM jobs WHERE state = 'pending';

-- Named queues. A queue exists while it has jobs or a setting; only settings are stored.

-- name: jobs_per_queue
SELECT queue, state, COUNT(*) AS n FROM jobs GROUP BY queue, state;

-- name: queue_settings
SELECT name, paused, max_running FROM queues ORDER BY name;

-- name: set_queue_paused
INSERT INTO queues (name, paused) VALUES (%(name)s, %(paused)s)
ON CONFLICT (name) DO UPDATE SET paused = excluded.paused;

-- name: set_queue_limit
INSERT INTO queues (name, max_running) VALUES (%(name)s, %(max_running)s)
ON CONFLICT (name) DO UPDATE SET max_running = excluded.max_running;

-- name: drop_plain_queues
DELETE FROM queues WHERE NOT paused AND max_running IS NULL;

-- name: lock_limited_queues
-- Claims that may take a limited queue's jobs run one at a time (they wait here for each
-- other), so that each counts the jobs the others took: the limit holds across hosts.
SELECT name FROM queues WHERE max_running IS NOT NULL ORDER BY name FOR UPDATE;

-- Recurring schedules.

-- name: insert_schedule
INSERT INTO schedules (name, job, cron, every, tz, paused, next_run_at, created_at)
VALUES (%(name)s, %(job)s, %(cron)s, %(every)s, %(tz)s, false, %(next_run_at)s, %(now)s)
ON CONFLICT (name) DO NOTHING;

-- name: list_schedules
SELECT * FROM schedules ORDER BY name;

-- name: get_schedule
SELECT * FROM schedules WHERE name = %(name)s;

-- name: delete_schedule
DELETE FROM schedules WHERE name = %(name)s;

-- name: set_schedule_paused
UPDATE schedules SET paused = %(paused)s, next_run_at = COALESCE(%(next_run_at)s, next_run_at)
WHERE name = %(name)s;

-- name: due_schedules
SELECT * FROM schedules WHERE NOT paused AND next_run_at <= %(now)s ORDER BY next_run_at;

-- name: next_schedule_at
SELECT MIN(next_run_at) AS next FROM schedules WHERE NOT paused;

-- name: take_tick
-- The tick key: only the one transaction that moves next_run_at on from the tick it read
-- enqueues that tick (a racing one waits for the row, then finds it moved).
UPDATE schedules SET next_run_at = %(next_run_at)s, last_run_at = %(tick)s
WHERE name = %(name)s AND next_run_at = %(tick)s AND NOT paused;

-- name: record_tick_job
UPDATE schedules SET last_job_id = %(job_id)s WHERE name = %(name)s;

-- Retention: candidates by a read, then a short delete that checks the condition again, so
-- that a job retried meanwhile stays.

-- name: purge_candidates
SELECT seq FROM jobs
WHERE state = %(state)s AND seq > %(after)s AND updated_at < %(before)s
ORDER BY seq LIMIT %(limit)s;

-- name: purge_output_chunks
DELETE FROM output_chunks
WHERE job_id IN (SELECT id FROM jobs WHERE seq = ANY(%(seqs)s)
                 AND state = %(state)s AND updated_at < %(before)s);

-- name: purge_jobs
-- Attempts go with the job (ON DELETE CASCADE).
DELETE FROM jobs
WHERE seq = ANY(%(seqs)s) AND state = %(state)s AND updated_at < %(before)s;
