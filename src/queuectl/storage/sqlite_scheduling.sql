-- Named statements of the SQLite store for scheduling: dependencies, unique keys, tags, named
-- queues, recurring schedules and retention. The claim rule itself is claim_ready_jobs in
-- sqlite.sql; the triggers that keep dependencies right are in 0004_scheduling.sql.

-- name: insert_job
-- The values come in the order of the columns (see _row in sqlite_scheduling.py). A job whose
-- unique_key matches a live job is not inserted (rowcount 0): see insert_jobs.
INSERT INTO jobs (id, command, state, max_retries, run_at, created_at, updated_at, cwd, env, timeout,
                  fatal_exit_codes, retry_on_timeout, output_limit,
                  priority, queue, unique_key, tags, depends_on, waiting_on, last_error,
                  backoff_base, backoff_max, jitter)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?,
        ?, ?, ?,
        ?, ?, ?, ?, ?, ?, ?,
        ?, ?, ?)
ON CONFLICT (unique_key)
    WHERE unique_key IS NOT NULL AND state IN ('pending', 'failed', 'processing') DO NOTHING;

-- name: insert_plain_job
-- A job whose other fields all have their defaults (NewJob.plain), as bulk enqueues mostly
-- are: every value bound costs, and this statement inserts 100,000 jobs in about half the
-- time of insert_job. Values: id, command, max_retries, cwd, now.
INSERT INTO jobs (id, command, max_retries, cwd, state, run_at, created_at, updated_at)
VALUES (?1, ?2, ?3, ?4, 'pending', ?5, ?5, ?5);

-- name: queue_limits_exist
SELECT EXISTS (SELECT 1 FROM queues WHERE max_running IS NOT NULL);

-- name: dependency_states
SELECT id, state FROM jobs WHERE id IN (SELECT value FROM json_each(:ids));

-- name: insert_dependency
INSERT INTO job_dependencies (depends_on, job_id) VALUES (?, ?);

-- name: insert_tag
INSERT INTO job_tags (tag, job_id) VALUES (?, ?);

-- name: live_job_with_unique_key
SELECT * FROM jobs
WHERE unique_key = ? AND state IN ('pending', 'failed', 'processing');

-- name: has_dependents
SELECT EXISTS (SELECT 1 FROM job_dependencies WHERE depends_on = ?);

-- name: any_has_dependents
SELECT EXISTS (SELECT 1 FROM json_each(:ids) AS done CROSS JOIN job_dependencies AS d
               WHERE d.depends_on = done.value);

-- name: complete_dependency
-- A job completed: its dependents wait on one job fewer.
UPDATE jobs SET waiting_on = waiting_on - 1
WHERE id IN (SELECT job_id FROM job_dependencies WHERE depends_on = ?)
RETURNING waiting_on, state;

-- name: complete_dependencies
-- Several jobs completed: a dependent of two of them waits on two jobs fewer.
UPDATE jobs
SET waiting_on = waiting_on - (
    SELECT COUNT(*) FROM job_dependencies AS d
    WHERE d.job_id = jobs.id AND d.depends_on IN (SELECT value FROM json_each(:ids)))
WHERE id IN (SELECT d.job_id FROM json_each(:ids) AS done
             CROSS JOIN job_dependencies AS d WHERE d.depends_on = done.value)
RETURNING waiting_on, state;

-- name: kill_dependents
-- Jobs ended dead or canceled: their waiting dependents become dead (the caller repeats this
-- for the jobs it returns, so that the dependents of those follow).
UPDATE jobs
SET state = 'dead', updated_at = :now,
    last_error = 'dependency ' || (
        SELECT d.depends_on FROM job_dependencies AS d
        WHERE d.job_id = jobs.id AND d.depends_on IN (SELECT value FROM json_each(:ids))
        LIMIT 1) || ' dead'
WHERE id IN (SELECT d.job_id FROM json_each(:ids) AS gone
             CROSS JOIN job_dependencies AS d WHERE d.depends_on = gone.value)
  AND +state IN ('pending', 'failed')  -- +: find the rows by id, not every waiting job
RETURNING id;

-- name: redo_dependency_deaths
-- Jobs a person retried while a dependency is still dead or canceled die again at once, so
-- that no waiting job can wait forever on a job that will never complete.
UPDATE jobs
SET state = 'dead', updated_at = :now,
    last_error = 'dependency ' || (
        SELECT d.depends_on FROM job_dependencies AS d JOIN jobs AS p ON p.id = d.depends_on
        WHERE d.job_id = jobs.id AND p.state IN ('dead', 'canceled') LIMIT 1) || ' dead'
WHERE id IN (SELECT value FROM json_each(:ids)) AND +state = 'pending'  -- +: find by id
  AND EXISTS (
        SELECT 1 FROM job_dependencies AS d JOIN jobs AS p ON p.id = d.depends_on
        WHERE d.job_id = jobs.id AND p.state IN ('dead', 'canceled'))
RETURNING id;

-- name: list_jobs_with_tag
SELECT j.* FROM job_tags AS t JOIN jobs AS j ON j.id = t.job_id
WHERE t.tag = :tag AND (:state IS NULL OR j.state = :state)
ORDER BY j.seq DESC LIMIT :limit OFFSET :offset;

-- name: pending_breakdown
SELECT COUNT(*) AS pending,
       COUNT(*) FILTER (WHERE run_at > :now) AS scheduled,
       COUNT(*) FILTER (WHERE run_at <= :now AND waiting_on > 0) AS blocked
FROM jobs WHERE state = 'pending';

-- Named queues. A queue exists while it has jobs or a setting; only settings are stored.

-- name: jobs_per_queue
SELECT queue, state, COUNT(*) AS n FROM jobs GROUP BY queue, state;

-- name: queue_settings
SELECT name, paused, max_running FROM queues ORDER BY name;

-- name: set_queue_paused
INSERT INTO queues (name, paused) VALUES (:name, :paused)
ON CONFLICT (name) DO UPDATE SET paused = excluded.paused;

-- name: set_queue_limit
INSERT INTO queues (name, max_running) VALUES (:name, :max_running)
ON CONFLICT (name) DO UPDATE SET max_running = excluded.max_running;

-- name: drop_plain_queues
-- A queue back to its defaults needs no row (and the claim no probe that finds one).
DELETE FROM queues WHERE paused = 0 AND max_running IS NULL;

-- Recurring schedules.

-- name: insert_schedule
INSERT INTO schedules (name, job, cron, every, tz, paused, next_run_at, created_at)
VALUES (:name, :job, :cron, :every, :tz, 0, :next_run_at, :now);

-- name: list_schedules
SELECT * FROM schedules ORDER BY name;

-- name: get_schedule
SELECT * FROM schedules WHERE name = ?;

-- name: delete_schedule
DELETE FROM schedules WHERE name = ?;

-- name: set_schedule_paused
UPDATE schedules SET paused = :paused, next_run_at = COALESCE(:next_run_at, next_run_at)
WHERE name = :name;

-- name: due_schedules
SELECT * FROM schedules WHERE paused = 0 AND next_run_at <= :now ORDER BY next_run_at;

-- name: next_schedule_at
SELECT MIN(next_run_at) FROM schedules WHERE paused = 0;

-- name: take_tick
-- The tick key: only the one transaction that moves next_run_at on from the tick it read
-- enqueues that tick.
UPDATE schedules SET next_run_at = :next_run_at, last_run_at = :tick
WHERE name = :name AND next_run_at = :tick AND paused = 0;

-- name: record_tick_job
UPDATE schedules SET last_job_id = :job_id WHERE name = :name;

-- Retention. Candidates are found by a read (which never holds the write lock), then deleted
-- by a short write that checks the condition again, so a job retried meanwhile stays.

-- name: purge_candidates
SELECT seq FROM jobs INDEXED BY jobs_by_state
WHERE state = :state AND seq > :after AND updated_at < :before
ORDER BY seq LIMIT :limit;

-- name: purge_output_chunks
DELETE FROM output_chunks
WHERE job_id IN (SELECT id FROM jobs WHERE seq IN (SELECT value FROM json_each(:seqs))
                 AND state = :state AND updated_at < :before);

-- name: purge_jobs
-- Attempts, tags and dependency links go with the job (ON DELETE CASCADE).
DELETE FROM jobs
WHERE seq IN (SELECT value FROM json_each(:seqs)) AND state = :state AND updated_at < :before;
