-- Named statements of the PostgreSQL store, loaded by name (see storage/sql.py). Names match
-- sqlite.sql where the verb is the same. Tables are found through the connection's
-- search_path, which points at the store's own schema.

-- name: jobs_by_ids
SELECT * FROM jobs WHERE id = ANY(%(ids)s);

-- name: existing_job_ids
SELECT id FROM jobs WHERE id = ANY(%(ids)s);

-- name: claim_ready_jobs
-- One statement picks and takes the jobs, and opens their attempts. SKIP LOCKED lets
-- concurrent claimers pass over rows another transaction is taking instead of queueing behind
-- it; the row lock re-checks the WHERE clause on the newest row version, so a job taken
-- meanwhile is never taken twice.
WITH claimed AS (
    UPDATE jobs
    SET state = 'processing', attempts = attempts + 1, runs = runs + 1,
        worker_id = %(worker_id)s, lease_until = %(lease_until)s, updated_at = %(now)s
    WHERE seq IN (
        SELECT seq FROM jobs AS ready
        WHERE state IN ('pending', 'failed') AND run_at <= %(now)s
          -- The scheduling rules (0004_scheduling.sql), checked for each job the index walk
          -- reaches: every dependency completed, a queue this worker serves (NULL: all)...
          AND waiting_on = 0
          AND (%(queues)s::text[] IS NULL OR queue = ANY(%(queues)s::text[]))
          -- ...and a queue neither paused nor at its limit. A limited queue's jobs are taken
          -- one per statement (limit 1) under lock_limited_queues, so that the count sees
          -- every job taken before; a batch (limit > 1) passes over them.
          AND NOT EXISTS (
              SELECT 1 FROM queues AS q
              WHERE q.name = ready.queue
                AND (q.paused OR (q.max_running IS NOT NULL AND (%(limit)s > 1
                     OR q.max_running <= (SELECT COUNT(*) FROM jobs AS running
                                          WHERE running.queue = q.name
                                            AND running.state = 'processing')))))
        ORDER BY priority DESC, run_at, seq
        LIMIT %(limit)s
        FOR UPDATE SKIP LOCKED)
    RETURNING *
), opened AS (
    INSERT INTO attempts (job_id, number, worker_id, started_at)
    SELECT id, runs, %(worker_id)s, %(now)s FROM claimed
)
SELECT * FROM claimed;

-- name: claimed_in_call
-- After a commit whose outcome is unknown (the connection died during COMMIT): the jobs that
-- call claimed, recognised by its worker and its exact timestamp.
SELECT * FROM jobs
WHERE worker_id = %(worker_id)s AND state = 'processing' AND updated_at = %(now)s;

-- name: finish_run
-- Records a run's end: the job (fenced: only while this worker still holds this run), its
-- attempt, and the output chunks streamed meanwhile, in one statement. finished: 1 or 0.
WITH finished AS (
    UPDATE jobs
    SET state = %(state)s, run_at = COALESCE(%(run_at)s, run_at), exit_code = %(exit_code)s,
        last_error = %(error)s, worker_id = NULL, lease_until = NULL, updated_at = %(now)s
    WHERE id = %(job_id)s AND runs = %(attempt)s AND worker_id = %(worker_id)s
      AND state = 'processing'
    RETURNING id
), recorded AS (
    UPDATE attempts
    SET finished_at = %(now)s, exit_code = %(exit_code)s, error = %(error)s,
        output = %(output)s, output_dropped = %(output_dropped)s
    WHERE job_id = %(job_id)s AND number = %(attempt)s AND EXISTS (SELECT 1 FROM finished)
), folded AS (
    DELETE FROM output_chunks
    WHERE %(streamed)s AND job_id = %(job_id)s AND number = %(attempt)s
      AND EXISTS (SELECT 1 FROM finished)
)
SELECT COUNT(*)::int AS finished FROM finished;

-- name: finish_attempt
UPDATE attempts
SET finished_at = %(now)s, exit_code = %(exit_code)s, error = %(error)s, output = %(output)s,
    output_dropped = %(output_dropped)s
WHERE job_id = %(job_id)s AND number = %(attempt)s;

-- name: drop_output_chunks
DELETE FROM output_chunks WHERE job_id = %(job_id)s AND number = %(attempt)s;

-- name: append_output_chunk
-- Fenced like every write of a run: only while the worker still holds it.
INSERT INTO output_chunks (job_id, number, byte_offset, data)
SELECT %(job_id)s, %(attempt)s, %(offset)s, %(data)s
WHERE EXISTS (SELECT 1 FROM jobs WHERE id = %(job_id)s AND runs = %(attempt)s
              AND worker_id = %(worker_id)s AND state = 'processing')
ON CONFLICT DO NOTHING;

-- name: output_chunks_of_job
SELECT number, data FROM output_chunks WHERE job_id = %(job_id)s ORDER BY number, byte_offset;

-- name: cancel_waiting_job
UPDATE jobs SET state = 'canceled', updated_at = %(now)s, last_error = 'canceled'
WHERE id = %(job_id)s AND state IN ('pending', 'failed')
RETURNING *;

-- name: request_cancel_of_running_job
UPDATE jobs SET cancel_requested = true, updated_at = %(now)s
WHERE id = %(job_id)s AND state = 'processing'
RETURNING *;

-- name: cancel_requests_of_worker
SELECT id, runs FROM jobs
WHERE worker_id = %(worker_id)s AND state = 'processing' AND cancel_requested;

-- name: attempt_recorded
-- After a commit whose outcome is unknown: was this exact outcome stored by that commit?
SELECT 1 FROM attempts
WHERE job_id = %(job_id)s AND number = %(attempt)s AND worker_id = %(worker_id)s
  AND finished_at = %(now)s;

-- name: release_job
-- A forced stop gives the run back: the attempt does not count.
UPDATE jobs
SET state = CASE WHEN attempts > 1 THEN 'failed' ELSE 'pending' END,
    attempts = attempts - 1, worker_id = NULL, lease_until = NULL, updated_at = %(now)s
WHERE id = %(job_id)s AND runs = %(attempt)s AND worker_id = %(worker_id)s
  AND state = 'processing';

-- name: unclaim_job
-- A claimed run that never started is undone: the job is as it was before the claim.
UPDATE jobs
SET state = CASE WHEN attempts > 1 THEN 'failed' ELSE 'pending' END,
    attempts = attempts - 1, runs = runs - 1, worker_id = NULL, lease_until = NULL,
    updated_at = %(now)s
WHERE id = %(job_id)s AND runs = %(attempt)s AND worker_id = %(worker_id)s
  AND state = 'processing';

-- name: drop_attempt
DELETE FROM attempts WHERE job_id = %(job_id)s AND number = %(attempt)s;

-- name: next_run_at
SELECT MIN(run_at) FROM jobs WHERE state IN ('pending', 'failed');

-- name: renew_leases
UPDATE jobs SET lease_until = %(lease_until)s
WHERE worker_id = %(worker_id)s AND state = 'processing';

-- name: worker_heartbeat
UPDATE workers SET heartbeat_at = %(now)s WHERE id = %(worker_id)s RETURNING stop_requested;

-- name: held_jobs_expired
-- SKIP LOCKED: two hosts rescuing at once each take different rows instead of waiting.
SELECT * FROM jobs WHERE state = 'processing' AND lease_until < %(now)s
FOR UPDATE SKIP LOCKED;

-- name: held_jobs_of_worker
SELECT * FROM jobs WHERE state = 'processing' AND worker_id = %(worker_id)s
FOR UPDATE SKIP LOCKED;

-- name: get_job
SELECT * FROM jobs WHERE id = %(job_id)s;

-- name: list_jobs
SELECT * FROM jobs ORDER BY seq DESC LIMIT %(limit)s OFFSET %(offset)s;

-- name: list_jobs_in_state
SELECT * FROM jobs WHERE state = %(state)s ORDER BY seq DESC LIMIT %(limit)s OFFSET %(offset)s;

-- name: count_by_state
SELECT state, COUNT(*) AS count FROM jobs GROUP BY state;

-- name: list_attempts
SELECT * FROM attempts WHERE job_id = %(job_id)s ORDER BY number;

-- name: retry_job
UPDATE jobs
SET state = 'pending', attempts = 0, run_at = %(now)s, updated_at = %(now)s,
    cancel_requested = false
WHERE id = %(job_id)s AND (state = 'dead' OR (%(include_canceled)s AND state = 'canceled'))
RETURNING *;

-- name: retry_all_dead
-- A dead job whose unique_key a live job holds stays dead; of dead jobs sharing a key, only
-- the oldest comes back (the SQLite store's UPDATE OR IGNORE does the same).
UPDATE jobs
SET state = 'pending', attempts = 0, run_at = %(now)s, updated_at = %(now)s,
    cancel_requested = false
WHERE state = 'dead'
  AND (%(tag)s::text IS NULL OR tags @> ARRAY[%(tag)s::text])
  AND (unique_key IS NULL OR (
        NOT EXISTS (SELECT 1 FROM jobs AS live WHERE live.unique_key = jobs.unique_key
                    AND live.state IN ('pending', 'failed', 'processing'))
        AND seq = (SELECT MIN(seq) FROM jobs AS other WHERE other.unique_key = jobs.unique_key
                   AND other.state = 'dead'
                   AND (%(tag)s::text IS NULL OR other.tags @> ARRAY[%(tag)s::text]))))
RETURNING id;

-- name: register_worker
-- Idempotent, so that a worker may repeat it after losing the connection mid-commit.
INSERT INTO workers (id, host, pid, pid_started, slots, started_at, heartbeat_at)
VALUES (%(id)s, %(host)s, %(pid)s, %(pid_started)s, %(slots)s, %(now)s, %(now)s)
ON CONFLICT (id) DO UPDATE SET heartbeat_at = excluded.heartbeat_at;

-- name: unregister_worker
DELETE FROM workers WHERE id = %(worker_id)s;

-- name: list_workers
SELECT w.*, (SELECT COUNT(*) FROM jobs j WHERE j.worker_id = w.id AND j.state = 'processing')
       AS running
FROM workers w ORDER BY w.started_at;

-- name: request_stop_all
UPDATE workers SET stop_requested = %(mode)s RETURNING id;

-- name: request_stop_one
UPDATE workers SET stop_requested = %(mode)s WHERE id = %(worker_id)s RETURNING id;

-- name: local_workers
SELECT id, pid, pid_started FROM workers WHERE host = %(host)s;

-- name: forget_silent_workers
DELETE FROM workers WHERE heartbeat_at < %(before)s;

-- name: notify_workers
-- Delivered when the transaction commits (and only if it does).
SELECT pg_notify(%(channel)s, %(message)s);

-- name: config_items
SELECT key, value FROM config ORDER BY key;

-- name: set_config
INSERT INTO config (key, value) VALUES (%(key)s, %(value)s)
ON CONFLICT (key) DO UPDATE SET value = excluded.value;

-- name: unset_config
DELETE FROM config WHERE key = %(key)s;

-- Reads for the dashboard, stats and status --watch. Job listings page by keyset on seq
-- (newest first), through the primary key or jobs_by_state (state, seq).
-- A queue filter has no index of its own: it skips other queues' rows on the same walk.

-- name: search_jobs_older
SELECT * FROM jobs
WHERE seq < %(cursor)s
  AND (%(text)s::text IS NULL OR strpos(lower(id || chr(10) || command), %(text)s) > 0)
  AND (%(queue)s::text IS NULL OR queue = %(queue)s)
ORDER BY seq DESC LIMIT %(limit)s;

-- name: search_jobs_older_in_state
SELECT * FROM jobs
WHERE state = %(state)s AND seq < %(cursor)s
  AND (%(text)s::text IS NULL OR strpos(lower(id || chr(10) || command), %(text)s) > 0)
  AND (%(queue)s::text IS NULL OR queue = %(queue)s)
ORDER BY seq DESC LIMIT %(limit)s;

-- name: search_jobs_newer
SELECT * FROM jobs
WHERE seq > %(cursor)s
  AND (%(text)s::text IS NULL OR strpos(lower(id || chr(10) || command), %(text)s) > 0)
  AND (%(queue)s::text IS NULL OR queue = %(queue)s)
ORDER BY seq ASC LIMIT %(limit)s;

-- name: search_jobs_newer_in_state
SELECT * FROM jobs
WHERE state = %(state)s AND seq > %(cursor)s
  AND (%(text)s::text IS NULL OR strpos(lower(id || chr(10) || command), %(text)s) > 0)
  AND (%(queue)s::text IS NULL OR queue = %(queue)s)
ORDER BY seq ASC LIMIT %(limit)s;

-- name: running_jobs
SELECT j.*, a.started_at AS run_started_at
FROM jobs j JOIN attempts a ON a.job_id = j.id AND a.number = j.runs
WHERE j.state = 'processing'
ORDER BY a.started_at LIMIT %(limit)s;

-- name: finished_runs
-- attempts_by_finish holds the whole keyset (finished_at, job_id, number): no sort needed.
SELECT a.job_id, a.number, j.queue, j.created_at, a.started_at, a.finished_at,
       (COALESCE(a.exit_code = 0, false) AND a.error IS NULL) AS succeeded,
       (j.state = 'dead' AND a.number = j.runs) AS ended_dead,
       COALESCE(a.error = %(interrupted)s, false) AS interrupted
FROM attempts a JOIN jobs j ON j.id = a.job_id
WHERE a.finished_at >= %(after_at)s AND a.finished_at < %(until)s
  AND (a.finished_at, a.job_id, a.number) > (%(after_at)s, %(after_job)s, %(after_number)s)
ORDER BY a.finished_at, a.job_id, a.number
LIMIT %(limit)s;

-- name: latest_runs
-- The run numbered jobs.runs is the job's latest.
SELECT a.job_id, a.started_at, a.finished_at
FROM jobs j JOIN attempts a ON a.job_id = j.id AND a.number = j.runs
WHERE j.id = ANY(%(ids)s);

-- name: delete_finished_job
-- Attempts go with the job (ON DELETE CASCADE).
DELETE FROM jobs WHERE id = %(job_id)s AND state IN ('completed', 'dead', 'canceled')
RETURNING id;

-- name: restore_attempt
-- queuectl import: an attempt exactly as exported (the job row is inserted by restore.py).
INSERT INTO attempts (job_id, number, worker_id, started_at, finished_at, exit_code, error,
                      output, output_dropped)
VALUES (%(job_id)s, %(number)s, %(worker_id)s, %(started_at)s, %(finished_at)s, %(exit_code)s,
        %(error)s, %(output)s, %(output_dropped)s);

-- name: restore_schedule
-- queuectl import: a schedule exactly as exported.
INSERT INTO schedules (name, job, cron, every, tz, paused, next_run_at, last_run_at,
                       last_job_id, created_at)
VALUES (%(name)s, %(job)s, %(cron)s, %(every)s, %(tz)s, %(paused)s, %(next_run_at)s,
        %(last_run_at)s, %(last_job_id)s, %(created_at)s);
