-- Named statements of the SQLite store, loaded by name (see storage/sql.py).

-- name: claim_ready_jobs
-- One statement picks and takes the jobs, so two workers can never hold the same one.
UPDATE jobs
SET state = 'processing', attempts = attempts + 1, runs = runs + 1,
    worker_id = :worker_id, lease_until = :lease_until, updated_at = :now
WHERE seq IN (
    -- INDEXED BY: the planner would otherwise pick jobs_by_state and sort every ready row
    -- (8x slower at 5,000 pending); with it, SQLite fails loudly if the index cannot serve.
    SELECT seq FROM jobs AS ready INDEXED BY jobs_ready
    WHERE state IN ('pending', 'failed') AND run_at <= :now
      -- The scheduling rules (0004_scheduling.sql), checked for each job the walk reaches:
      -- every dependency completed, a queue this worker serves (:queues, JSON; NULL: all)...
      AND waiting_on = 0
      AND (:queues IS NULL OR queue IN (SELECT value FROM json_each(:queues)))
      -- ...and a queue that is neither paused nor at its limit. A limited queue's jobs are
      -- taken one per statement (:limit = 1), so that the count below sees every job taken
      -- before in the same transaction; a batch (:limit > 1) passes over them.
      AND NOT EXISTS (
          SELECT 1 FROM queues AS q
          WHERE q.name = ready.queue
            AND (q.paused OR (q.max_running IS NOT NULL AND (:limit > 1 OR q.max_running <= (
                -- jobs_held lists the running jobs (a few per worker slot): no index of
                -- running jobs per queue, which every claim and result would pay to keep.
                SELECT COUNT(*) FROM jobs AS running INDEXED BY jobs_held
                WHERE running.state = 'processing' AND running.queue = q.name)))))
    ORDER BY priority DESC, run_at, seq
    LIMIT :limit)
RETURNING *;

-- name: insert_attempt
INSERT INTO attempts (job_id, number, worker_id, started_at) VALUES (?, ?, ?, ?);

-- name: finish_job
-- Fenced: applies only while this worker still holds this run of the job.
UPDATE jobs
SET state = :state, run_at = COALESCE(:run_at, run_at), exit_code = :exit_code,
    last_error = :error, worker_id = NULL, lease_until = NULL, updated_at = :now
WHERE id = :job_id AND runs = :attempt AND worker_id = :worker_id AND state = 'processing';

-- name: finish_attempt
UPDATE attempts
SET finished_at = :now, exit_code = :exit_code, error = :error, output = :output,
    output_dropped = :output_dropped
WHERE job_id = :job_id AND number = :attempt;

-- name: drop_output_chunks
DELETE FROM output_chunks WHERE job_id = :job_id AND number = :attempt;

-- name: append_output_chunk
-- Fenced like every write of a run: only while the worker still holds it.
INSERT INTO output_chunks (job_id, number, offset, data)
SELECT :job_id, :attempt, :offset, :data
WHERE EXISTS (SELECT 1 FROM jobs WHERE id = :job_id AND runs = :attempt
              AND worker_id = :worker_id AND state = 'processing')
ON CONFLICT DO NOTHING;

-- name: output_chunks_of_job
SELECT number, data FROM output_chunks WHERE job_id = ? ORDER BY number, offset;

-- name: cancel_waiting_job
UPDATE jobs SET state = 'canceled', updated_at = :now, last_error = 'canceled'
WHERE id = :job_id AND state IN ('pending', 'failed')
RETURNING *;

-- name: request_cancel_of_running_job
UPDATE jobs SET cancel_requested = 1, updated_at = :now
WHERE id = :job_id AND state = 'processing'
RETURNING *;

-- name: cancel_requests_of_worker
SELECT id, runs FROM jobs
WHERE worker_id = :worker_id AND state = 'processing' AND cancel_requested = 1;

-- name: release_job
-- A forced stop gives the run back: the attempt does not count.
UPDATE jobs
SET state = CASE WHEN attempts > 1 THEN 'failed' ELSE 'pending' END,
    attempts = attempts - 1, worker_id = NULL, lease_until = NULL, updated_at = :now
WHERE id = :job_id AND runs = :attempt AND worker_id = :worker_id AND state = 'processing';

-- name: unclaim_job
-- A claimed run that never started is undone: the job is as it was before the claim.
UPDATE jobs
SET state = CASE WHEN attempts > 1 THEN 'failed' ELSE 'pending' END,
    attempts = attempts - 1, runs = runs - 1, worker_id = NULL, lease_until = NULL,
    updated_at = :now
WHERE id = :job_id AND runs = :attempt AND worker_id = :worker_id AND state = 'processing';

-- name: drop_attempt
DELETE FROM attempts WHERE job_id = :job_id AND number = :attempt;

-- name: next_run_at
SELECT MIN(run_at) FROM jobs WHERE state IN ('pending', 'failed');

-- name: renew_leases
UPDATE jobs SET lease_until = :lease_until
WHERE worker_id = :worker_id AND state = 'processing';

-- name: worker_heartbeat
UPDATE workers SET heartbeat_at = :now WHERE id = :worker_id RETURNING stop_requested;

-- name: held_jobs_expired
SELECT * FROM jobs WHERE state = 'processing' AND lease_until < :now;

-- name: held_jobs_of_worker
SELECT * FROM jobs WHERE state = 'processing' AND worker_id = :worker_id;

-- name: get_job
SELECT * FROM jobs WHERE id = ?;

-- name: list_jobs
SELECT * FROM jobs ORDER BY seq DESC LIMIT :limit OFFSET :offset;

-- name: list_jobs_in_state
SELECT * FROM jobs WHERE state = :state ORDER BY seq DESC LIMIT :limit OFFSET :offset;

-- name: count_by_state
SELECT state, COUNT(*) FROM jobs GROUP BY state;

-- name: list_attempts
SELECT * FROM attempts WHERE job_id = ? ORDER BY number;

-- name: retry_job
UPDATE jobs
SET state = 'pending', attempts = 0, run_at = :now, updated_at = :now, cancel_requested = 0
WHERE id = :job_id AND (state = 'dead' OR (:include_canceled AND state = 'canceled'))
RETURNING *;

-- name: retry_all_dead
-- OR IGNORE: a dead job whose unique_key a live job holds stays dead.
UPDATE OR IGNORE jobs
SET state = 'pending', attempts = 0, run_at = :now, updated_at = :now
WHERE state = 'dead'
  AND (:tag IS NULL OR id IN (SELECT job_id FROM job_tags WHERE tag = :tag))
RETURNING id;

-- name: register_worker
INSERT INTO workers (id, host, pid, pid_started, slots, started_at, heartbeat_at)
VALUES (:id, :host, :pid, :pid_started, :slots, :now, :now);

-- name: unregister_worker
DELETE FROM workers WHERE id = ?;

-- name: list_workers
SELECT w.*, (SELECT COUNT(*) FROM jobs j WHERE j.worker_id = w.id AND j.state = 'processing')
       AS running
FROM workers w ORDER BY w.started_at;

-- name: request_stop_all
UPDATE workers SET stop_requested = :mode RETURNING id;

-- name: request_stop_one
UPDATE workers SET stop_requested = :mode WHERE id = :worker_id RETURNING id;

-- name: local_worker_ids
SELECT id FROM workers WHERE host = ?;

-- name: local_workers
SELECT id, pid, pid_started FROM workers WHERE host = ?;

-- name: forget_silent_workers
DELETE FROM workers WHERE heartbeat_at < ?;

-- name: config_items
SELECT key, value FROM config ORDER BY key;

-- name: set_config
INSERT INTO config (key, value) VALUES (?, ?)
ON CONFLICT (key) DO UPDATE SET value = excluded.value;

-- name: unset_config
DELETE FROM config WHERE key = ?;


-- name: restore_attempt
-- queuectl import: an attempt exactly as exported (the job row is inserted by restore.py).
INSERT INTO attempts (job_id, number, worker_id, started_at, finished_at, exit_code, error,
                      output, output_dropped)
VALUES (:job_id, :number, :worker_id, :started_at, :finished_at, :exit_code, :error,
        :output, :output_dropped);

-- name: restore_schedule
-- queuectl import: a schedule exactly as exported.
INSERT INTO schedules (name, job, cron, every, tz, paused, next_run_at, last_run_at,
                       last_job_id, created_at)
VALUES (:name, :job, :cron, :every, :tz, :paused, :next_run_at,
        :last_run_at, :last_job_id, :created_at);
