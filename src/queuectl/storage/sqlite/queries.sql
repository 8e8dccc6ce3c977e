-- The SQLite store's statements, by name (see storage/sql.py): the same names, parameters and
-- result columns as postgres/queries.sql. A name may hold a short script where PostgreSQL
-- writes one statement with data-modifying CTEs: its statements run in order with the same
-- parameters, and the last one gives the result. Lists come as JSON text (json_each).

-- Claiming and finishing runs (storage/claims.py) ------------------------------------------

-- name: claim_ready_jobs
-- One statement picks and takes the jobs, so two workers can never hold the same one; the
-- jobs_run_changed trigger (0005) opens each run's attempt.
UPDATE jobs
SET state = 'processing', attempts = attempts + 1, runs = runs + 1,
    worker_id = :worker_id, lease_until = :lease_until, updated_at = :now
WHERE seq IN (
    -- INDEXED BY: the planner would otherwise pick jobs_by_state and sort every ready row
    -- (8x slower at 5,000 pending); with it, SQLite fails loudly if the index cannot serve.
    SELECT seq FROM jobs AS ready INDEXED BY jobs_ready
    WHERE state IN ('pending', 'failed') AND run_at <= :now
      -- The scheduling rules, checked for each job the walk reaches: every dependency
      -- completed, a queue this worker serves (:queues, JSON; NULL: all)...
      AND waiting_on = 0
      AND (:queues IS NULL OR queue IN (SELECT value FROM json_each(:queues)))
      -- ...and a queue that is neither paused nor at its limit. A limited queue's jobs are
      -- taken only from the queues named in :locked (JSON; see lock_queues), one per
      -- statement (:limit = 1), so that the count below sees every job taken before in the
      -- same transaction; a batch (:limit > 1) passes over them.
      AND NOT EXISTS (
          SELECT 1 FROM queues AS q
          WHERE q.name = ready.queue
            AND (q.paused OR (q.max_running IS NOT NULL AND (:limit > 1
                OR q.name NOT IN (SELECT value FROM json_each(:locked))
                OR q.max_running <= (
                -- jobs_held lists the running jobs (a few per worker slot): no index of
                -- running jobs per queue, which every claim and result would pay to keep.
                SELECT COUNT(*) FROM jobs AS running INDEXED BY jobs_held
                WHERE running.state = 'processing' AND running.queue = q.name)))))
    ORDER BY priority DESC, run_at, seq
    LIMIT :limit)
RETURNING *;

-- name: limited_queues_ahead
-- The limited queues that hold one of the best :limit ready jobs. Without any limited queue
-- the LIMIT is 0 and no job is read. (An EXISTS among the conditions, as on PostgreSQL, does
-- not stop SQLite's walk: false for every job, it read every ready job to find :limit of
-- them, 0.2 ms a claim at 1,500 ready jobs and 13 ms at 100,000.)
SELECT DISTINCT queue FROM (
    SELECT queue FROM jobs AS ready INDEXED BY jobs_ready
    WHERE state IN ('pending', 'failed') AND run_at <= :now AND waiting_on = 0
      AND (:queues IS NULL OR queue IN (SELECT value FROM json_each(:queues)))
      AND NOT EXISTS (SELECT 1 FROM queues AS q WHERE q.name = ready.queue AND q.paused)
    ORDER BY priority DESC, run_at, seq
    LIMIT CASE WHEN EXISTS (SELECT 1 FROM queues WHERE max_running IS NOT NULL)
               THEN :limit ELSE 0 END)
WHERE queue IN (SELECT name FROM queues WHERE max_running IS NOT NULL);

-- name: lock_queues
-- Nothing to lock: SQLite's writers take turns anyway (BEGIN IMMEDIATE).

-- name: claimed_in_call
-- After a commit whose outcome is unknown (PostgreSQL only; a local commit always knows).
SELECT * FROM jobs
WHERE worker_id = :worker_id AND state = 'processing' AND updated_at = :now;

-- name: close_attempts
-- The attempts of finished runs, closed, fenced: only while this worker still holds this run
-- of the job. Run for a whole batch of outcomes at once (executemany: one call, the values
-- bound in C, ~6 us a job less than a script per outcome), before finish_run moves each job
-- on. A run's start time, when the outcome knows it (a rescued run claimed ahead started
-- later than its claim), replaces the claim's.
UPDATE attempts
SET finished_at = :now, exit_code = :exit_code, error = :error, output = :output,
    output_dropped = :output_dropped, started_at = COALESCE(:started_at, started_at)
WHERE job_id = :job_id AND number = :attempt
  AND EXISTS (SELECT 1 FROM jobs WHERE id = :job_id AND runs = :attempt
              AND worker_id = :worker_id AND state = 'processing');

-- name: finish_run
-- Records a run's end, fenced as close_attempts (run before it, for the whole batch): the job
-- moves on. Returns has_dependents, or no row when the fence refused the outcome.
UPDATE jobs
SET state = :state, run_at = COALESCE(:run_at, run_at), exit_code = :exit_code,
    last_error = :error, worker_id = NULL, lease_until = NULL, updated_at = :now
WHERE id = :job_id AND runs = :attempt AND worker_id = :worker_id AND state = 'processing'
RETURNING has_dependents;

-- name: bury_unreadable_job
-- A job just claimed whose row cannot be read whole (edited by hand; storage/claims.py):
-- dead, fenced as finish_run, in the claim's transaction (finish_attempt closes its attempt).
UPDATE jobs
SET state = 'dead', last_error = :error, worker_id = NULL, lease_until = NULL,
    updated_at = :now
WHERE id = :job_id AND runs = :attempt AND worker_id = :worker_id
  AND state = 'processing';

-- name: defer_counting
-- Before a worker's batch of results: the triggers leave its runs and its jobs' moves to the
-- sums that follow (see storage/run_counts.py and migration 0010).
INSERT INTO counting_deferred (only) VALUES (1);

-- name: end_deferred_counting
DELETE FROM counting_deferred;

-- name: count_jobs_moved
-- A batch's jobs per queue and state, as jobs_counted_update counts them a job at a time.
INSERT INTO job_counts (queue, state, n) VALUES (:queue, :state, :n)
ON CONFLICT (queue, state, shard) DO UPDATE SET n = n + excluded.n;

-- name: count_runs_per_minute
-- A batch's runs (and deaths) per queue and minute, as attempts_finished counts them.
INSERT INTO run_minutes (minute, queue, completed, failed, dead, waited, wait_total)
VALUES (:minute, :queue, :completed, :failed, :dead, :waited, :wait_total)
ON CONFLICT (minute, queue, shard) DO UPDATE
SET completed = completed + excluded.completed, failed = failed + excluded.failed,
    dead = dead + excluded.dead, waited = waited + excluded.waited,
    wait_total = wait_total + excluded.wait_total;

-- name: count_runs_per_hour
-- A batch's runs per queue, hour, kind and bucket, as attempts_finished counts them.
INSERT INTO run_hours (hour, queue, kind, upper, n, total, top)
VALUES (:hour, :queue, :kind, :upper, :n, :total, :top)
ON CONFLICT (hour, queue, kind, upper, shard) DO UPDATE
SET n = n + excluded.n, total = total + excluded.total, top = max(top, excluded.top);

-- name: attempt_recorded
-- After a commit whose outcome is unknown: was this exact outcome stored by that commit?
SELECT 1 FROM attempts
WHERE job_id = :job_id AND number = :attempt AND worker_id = :worker_id
  AND finished_at = :now;

-- name: drop_output_chunks
-- A finished run's streamed output, folded into its attempt's output.
DELETE FROM output_chunks WHERE job_id = :job_id AND number = :attempt;

-- name: finish_attempt
UPDATE attempts
SET finished_at = :now, exit_code = :exit_code, error = :error, output = :output,
    output_dropped = :output_dropped
WHERE job_id = :job_id AND number = :attempt;

-- Storing jobs (storage/enqueue.py) --------------------------------------------------------

-- name: take_job_numbers
-- The next "count" numbers for jobs enqueued without an id; returns the first.
UPDATE job_numbers SET next = next + :count RETURNING next - :count;

-- name: keep_job_numbers_above
-- A job stored with an id that is a number: the numbers handed out from now on are above it.
UPDATE job_numbers SET next = :number + 1 WHERE next <= :number;

-- name: insert_plain_job
-- A job whose other fields all have their defaults (NewJob.plain), as bulk enqueues mostly
-- are: every value bound costs, and this statement inserts 100,000 jobs in about half the
-- time of insert_job. Values: id, command, max_retries, cwd, now.
INSERT INTO jobs (id, command, max_retries, cwd, state, run_at, created_at, updated_at)
VALUES (?1, ?2, ?3, ?4, 'pending', ?5, ?5, ?5);

-- name: insert_job
-- The values come in the order of the columns (see _row in storage/enqueue.py). A job whose
-- unique_key matches a live job is not inserted (no row changed).
INSERT INTO jobs (id, command, state, max_retries, run_at, created_at, updated_at, cwd, env,
                  timeout, fatal_exit_codes, retry_on_timeout, output_limit,
                  priority, queue, unique_key, tags, depends_on, waiting_on, last_error,
                  backoff_base, backoff_max, jitter, on_finish, webhook)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?,
        ?, ?, ?,
        ?, ?, ?, ?, ?, ?, ?,
        ?, ?, ?, ?, ?)
ON CONFLICT (unique_key)
    WHERE unique_key IS NOT NULL AND state IN ('pending', 'failed', 'processing') DO NOTHING;

-- name: count_new_jobs
-- The :count jobs this transaction inserted, counted per queue and state (0009's job_counts):
-- they are the newest seqs, for writers take turns (a trigger per row would cost a bulk
-- enqueue half again the time of its inserts).
INSERT INTO job_counts (queue, state, n)
SELECT queue, state, COUNT(*) FROM jobs WHERE seq > (SELECT MAX(seq) FROM jobs) - :count
GROUP BY queue, state ORDER BY queue, state
ON CONFLICT (queue, state, shard) DO UPDATE SET n = n + excluded.n;

-- name: insert_tags
-- The lookup table behind tags: (tag, job id).
INSERT OR IGNORE INTO job_tags (tag, job_id) VALUES (?, ?);

-- name: insert_dependencies
-- The lookup table behind dependencies: (dependency, job id). A dependency that is not
-- stored (purged before an export, then imported) has no link.
INSERT OR IGNORE INTO job_dependencies (depends_on, job_id)
SELECT ?1, ?2 WHERE EXISTS (SELECT 1 FROM jobs WHERE id = ?1);

-- name: live_job_with_unique_key
SELECT * FROM jobs
WHERE unique_key = ? AND state IN ('pending', 'failed', 'processing');

-- name: dependency_states
-- Marks the dependencies (their trigger now has work to do) and reads their states.
UPDATE jobs SET has_dependents = 1 WHERE id IN (SELECT value FROM json_each(:ids))
RETURNING id, state;

-- name: existing_job_ids
SELECT id FROM jobs WHERE id IN (SELECT value FROM json_each(:ids));

-- Workers (storage/workers.py) -------------------------------------------------------------

-- name: register_worker
-- Idempotent for the same process (which may repeat it after a lost commit, or once its
-- registration was removed); another process's row under the id is left alone, and no row
-- comes back (storage/workers.py decides).
INSERT INTO workers (id, host, pid, pid_started, slots, started_at, heartbeat_at)
VALUES (:id, :host, :pid, :pid_started, :slots, :now, :now)
ON CONFLICT (id) DO UPDATE SET heartbeat_at = excluded.heartbeat_at
WHERE workers.host = excluded.host AND workers.pid = excluded.pid
RETURNING id;

-- name: worker_holding_id
SELECT host, pid, heartbeat_at FROM workers WHERE id = :worker_id;

-- name: unregister_worker
DELETE FROM workers WHERE id = :worker_id;

-- name: is_housekeeper
-- The rule that elects the housekeeper, shared by worker_heartbeat (which tells the worker)
-- and list_workers (which tells a person): the row of ``workers`` at hand is the housekeeper
-- when it is live (its heartbeat younger than a lease: since alive_since) and no live worker
-- registered before it (ties by id). A condition, not a statement: sql.py puts it in.
-- A heartbeat after alive_until (now plus a lease: inf, or years ahead, by a hand edit) is
-- no live one either: such a registration, first in line for ever, left the queue without
-- a housekeeper, so that nothing forgot it.
workers.heartbeat_at >= :alive_since AND workers.heartbeat_at <= :alive_until
AND NOT EXISTS (SELECT 1 FROM workers AS older
                WHERE older.heartbeat_at >= :alive_since
                  AND older.heartbeat_at <= :alive_until
                  AND (older.started_at, older.id) < (workers.started_at, workers.id))

-- name: worker_heartbeat
-- Also: whether this worker is the housekeeper (is_housekeeper), and the stored settings
-- as one text, so that workers read them again only when they changed.
UPDATE workers SET heartbeat_at = :now WHERE id = :worker_id
RETURNING stop_requested, slots_wanted,
    {{is_housekeeper}},
    (SELECT group_concat(key || '=' || value, char(10))
     FROM (SELECT key, value FROM config ORDER BY key));

-- name: renew_leases
-- What is still this worker's, its lease renewed: a run missing was rescued (fenced).
UPDATE jobs SET lease_until = :lease_until
WHERE worker_id = :worker_id AND state = 'processing'
RETURNING id, runs;

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
-- A claimed run that never started is undone: the job is as it was before the claim, and
-- the jobs_run_changed trigger (0005) removes the run's attempt.
UPDATE jobs
SET state = CASE WHEN attempts > 1 THEN 'failed' ELSE 'pending' END,
    attempts = attempts - 1, runs = runs - 1, worker_id = NULL, lease_until = NULL,
    updated_at = :now
WHERE id = :job_id AND runs = :attempt AND worker_id = :worker_id AND state = 'processing';

-- name: append_output_chunk
-- Fenced like every write of a run: only while the worker still holds it.
INSERT INTO output_chunks (job_id, number, offset, data)
SELECT :job_id, :attempt, :offset, :data
WHERE EXISTS (SELECT 1 FROM jobs WHERE id = :job_id AND runs = :attempt
              AND worker_id = :worker_id AND state = 'processing')
ON CONFLICT DO NOTHING;

-- name: note_idle_worker
-- A worker whose claim came up short, with the jobs it would take. A row comes back only
-- when this wrote one (as PostgreSQL's, which needs to know).
INSERT INTO idle_workers (worker_id, free, since)
SELECT :worker_id, :free, :now
WHERE NOT EXISTS (SELECT 1 FROM idle_workers WHERE worker_id = :worker_id AND free = :free)
ON CONFLICT (worker_id) DO UPDATE SET free = excluded.free
RETURNING 1;

-- name: forget_idle_worker
DELETE FROM idle_workers WHERE worker_id = :worker_id;

-- name: forget_idle_workers_gone
DELETE FROM idle_workers WHERE worker_id NOT IN (SELECT id FROM workers);

-- name: idle_workers_of_host
-- The idle workers of this host, most recently idle first (as wake_idle_workers on
-- PostgreSQL): the driver wakes as many as an enqueue's jobs need, in its transaction.
SELECT i.worker_id, i.free FROM idle_workers AS i JOIN workers AS w ON w.id = i.worker_id
WHERE w.host = ? ORDER BY i.since DESC, i.worker_id;

-- name: next_run_at
-- When a worker serving :queues (JSON; NULL: all) could next claim a job: the earliest run_at
-- of the jobs not waiting on a dependency and not in a paused queue. With :pending_until,
-- pending jobs due after it are left out (a burst worker waits for retries, not for delays).
-- A limit of 0 or less (only by hand: `queue limit Q 0` lifts a limit) holds its queue as a
-- pause does, in the claim: a burst worker waited for its jobs for ever.
SELECT MIN(run_at) FROM jobs AS ready
WHERE state IN ('pending', 'failed') AND waiting_on = 0
  AND (:pending_until IS NULL OR state = 'failed' OR run_at <= :pending_until)
  AND (:queues IS NULL OR queue IN (SELECT value FROM json_each(:queues)))
  AND NOT EXISTS (SELECT 1 FROM queues AS q WHERE q.name = ready.queue
                  AND (q.paused OR q.max_running <= 0));

-- name: jobs_come_due
-- For the housekeeper (maintenance.py): how many jobs came due in (:since, :now] (a delay or
-- a retry's backoff ran out: no enqueue wakes anyone then), and when the next one comes due.
-- NOT MATERIALIZED puts the CTE's conditions into each read, as if written out twice (a CTE
-- named twice is materialized by default: every ready job copied to a temporary table first).
WITH ready AS NOT MATERIALIZED (  -- ready to run but for their time
    SELECT run_at FROM jobs AS job
    WHERE state IN ('pending', 'failed') AND waiting_on = 0
      AND NOT EXISTS (SELECT 1 FROM queues AS q WHERE q.name = job.queue AND q.paused))
SELECT (SELECT COUNT(*) FROM ready WHERE run_at > :since AND run_at <= :now),
       (SELECT MIN(run_at) FROM ready WHERE run_at > :now);

-- name: list_workers
-- The columns of WorkerInfo, in its order (its state aside: the caller judges it, with the
-- start marker for a worker of its own host), and whether it is the housekeeper: NULL
-- (not judged) without alive_since.
SELECT workers.id, workers.host, workers.pid, workers.slots, workers.started_at,
       workers.heartbeat_at,
       (SELECT COUNT(*) FROM jobs j WHERE j.worker_id = workers.id AND j.state = 'processing'),
       workers.stop_requested, workers.slots_wanted, workers.pid_started,
       {{is_housekeeper}}
FROM workers ORDER BY workers.started_at;

-- name: local_workers
SELECT id, pid, pid_started FROM workers WHERE host = ?;

-- name: request_stop_all
UPDATE workers SET stop_requested = :mode RETURNING id;

-- name: request_stop_one
UPDATE workers SET stop_requested = :mode WHERE id = :worker_id RETURNING id;

-- name: held_jobs_expired
-- The runs whose lease expired; and with :lease, those no heartbeat renews into a lease that
-- expires, as only a hand edit leaves them: a lease NULL or not a number, or no holder at all
-- (no fence then matches), held by no live worker (none registered under the holder's id
-- with a heartbeat within a lease of now, either side); or a lease further than a lease ahead
-- whose holder is not registered with a heartbeat that is a time. Such a holder keeps such a
-- run however late or far ahead its heartbeat, until it is forgotten: a lease cut by `config
-- set` while workers run leaves their leases ahead of the new one, a heartbeat late under load
-- must not hand a live run to another worker, and after a clock stepped back live workers'
-- heartbeats and leases read ahead until their next heartbeat. A heartbeat that is no time
-- (inf, NULL for NaN, text: only by hand) holds nothing. (:lease is also PostgreSQL's for its
-- restarts: a SQLite database has no server to restart.)
-- The holder's registration is joined once (workers.id is its key: one row at most); no
-- registration reads as a heartbeat that is NULL.
SELECT jobs.* FROM jobs LEFT JOIN workers AS holder ON holder.id = jobs.worker_id
WHERE jobs.state = 'processing'
  AND (jobs.lease_until < :now
       OR (:lease IS NOT NULL
           AND (jobs.worker_id IS NULL OR typeof(jobs.lease_until) NOT IN ('integer', 'real'))
           AND NOT coalesce(holder.heartbeat_at >= :now - :lease
                            AND holder.heartbeat_at <= :now + :lease, 0))
       OR (:lease IS NOT NULL AND jobs.lease_until > :now + :lease
           AND NOT coalesce(holder.heartbeat_at > -9e999 AND holder.heartbeat_at < 9e999, 0)));

-- name: adopt_unheld_run
-- A run in processing with no holder (by hand), about to be rescued: held by '' (what the
-- rescue fences its outcome with), since no fence matches NULL.
UPDATE jobs SET worker_id = ''
WHERE id = :job_id AND runs = :attempt AND state = 'processing' AND worker_id IS NULL;

-- name: held_jobs_of_worker
SELECT * FROM jobs WHERE state = 'processing' AND worker_id = :worker_id;

-- name: forget_silent_workers
-- Registrations whose heartbeat is older than :before, or later than :after, or no time at
-- all (NaN, inf, text by a hand edit): none of these ages past :before, so they stayed, and
-- each worker stop waited a lease for them again.
DELETE FROM workers
WHERE NOT coalesce(heartbeat_at >= :before AND heartbeat_at <= :after, 0);

-- Jobs (storage/jobs.py) -------------------------------------------------------------------

-- name: get_job
SELECT * FROM jobs WHERE id = ?;

-- name: jobs_by_ids
SELECT * FROM jobs WHERE id IN (SELECT value FROM json_each(:ids));

-- name: list_jobs
SELECT * FROM jobs ORDER BY seq DESC LIMIT :limit OFFSET :offset;

-- name: list_jobs_in_state
SELECT * FROM jobs WHERE state = :state ORDER BY seq DESC LIMIT :limit OFFSET :offset;

-- name: list_jobs_with_tag
SELECT j.* FROM job_tags AS t JOIN jobs AS j ON j.id = t.job_id
WHERE t.tag = :tag AND (:state IS NULL OR j.state = :state)
ORDER BY j.seq DESC LIMIT :limit OFFSET :offset;

-- name: count_by_state
-- From the counts the triggers keep (0009): no scan of the jobs.
SELECT state, SUM(n) FROM job_counts GROUP BY state HAVING SUM(n) <> 0;

-- name: list_attempts
-- The columns of Attempt, in its order.
SELECT job_id, number, worker_id, started_at, finished_at, exit_code, error, output,
       output_dropped
FROM attempts WHERE job_id = ? ORDER BY number;

-- name: output_chunks_of_job
SELECT number, data FROM output_chunks WHERE job_id = ? ORDER BY number, offset;

-- name: run_output_size
-- How far one run's output goes: the bytes folded into its attempt when it ended, else the
-- end of its last streamed chunk (lengths only: no bytes are read).
SELECT finished_at, output_dropped, coalesce(length(output), 0),
       coalesce((SELECT c.offset + length(c.data) FROM output_chunks c
                 WHERE c.job_id = a.job_id AND c.number = a.number
                 ORDER BY c.offset DESC LIMIT 1), 0)
FROM attempts a WHERE a.job_id = :job_id AND a.number = :number;

-- name: run_output_from
-- A finished run's output past byte `start` (substr() counts a blob's bytes from 1).
SELECT substr(CAST(output AS BLOB), :start + 1) FROM attempts
WHERE job_id = :job_id AND number = :number;

-- name: run_output_chunks_from
-- A running run's streamed output past byte `start`: the chunk holding it, cut, and those
-- after it, found by the primary key (an index range, not a scan of the run's chunks).
SELECT substr(data, max(:start - offset, 0) + 1) FROM output_chunks
WHERE job_id = :job_id AND number = :number
  AND offset >= coalesce((SELECT max(offset) FROM output_chunks
                          WHERE job_id = :job_id AND number = :number AND offset <= :start), 0)
ORDER BY offset;

-- name: cancel_waiting_job
UPDATE jobs SET state = 'canceled', updated_at = :now, last_error = 'canceled'
WHERE id = :job_id AND state IN ('pending', 'failed')
RETURNING *;

-- name: request_cancel_of_running_job
UPDATE jobs SET cancel_requested = 1, updated_at = :now
WHERE id = :job_id AND state = 'processing'
RETURNING *;

-- name: lock_dependencies_of_jobs
-- Nothing to lock: SQLite's writers take turns anyway (BEGIN IMMEDIATE).

-- name: lock_dependencies_of_dead
-- Nothing to lock: SQLite's writers take turns anyway (BEGIN IMMEDIATE).

-- name: retry_job
UPDATE jobs
SET state = 'pending', attempts = 0, run_at = :now, updated_at = :now, cancel_requested = 0
WHERE id = :job_id AND (state = 'dead' OR (:include_canceled AND state = 'canceled'));

-- name: retry_all_dead
-- OR IGNORE: a dead job whose unique_key a live job holds stays dead (and of dead jobs
-- sharing a key, only the first comes back).
UPDATE OR IGNORE jobs
SET state = 'pending', attempts = 0, run_at = :now, updated_at = :now
WHERE state = 'dead'
  AND (:tag IS NULL OR id IN (SELECT job_id FROM job_tags WHERE tag = :tag))
RETURNING id;

-- name: dependencies_not_completed
-- How many dependencies of the row of ``jobs`` at hand are not completed: what its
-- waiting_on should be. An expression, not a statement (see is_housekeeper).
(SELECT count(*) FROM job_dependencies AS d JOIN jobs AS p ON p.id = d.depends_on
 WHERE d.job_id = jobs.id AND p.state <> 'completed')

-- name: redo_dependency_deaths
-- Jobs a person retried while a dependency is still dead or canceled die again at once, so
-- that no waiting job can wait forever on a job that will never complete; so do those one of
-- whose dependencies was removed before it completed (waiting_on still counts it, and no
-- job_dependencies row is left to name it: the job's own depends_on does).
UPDATE jobs
SET state = 'dead', updated_at = :now,
    last_error = coalesce(
        'dependency ' || (
            SELECT d.depends_on FROM job_dependencies AS d JOIN jobs AS p ON p.id = d.depends_on
            WHERE d.job_id = jobs.id AND p.state IN ('dead', 'canceled')
            ORDER BY d.depends_on LIMIT 1) || ' dead',
        'dependency ' || (
            SELECT value
            FROM json_each(CASE WHEN json_valid(jobs.depends_on) THEN jobs.depends_on END)
            WHERE value NOT IN (SELECT id FROM jobs) ORDER BY value LIMIT 1) || ' removed',
        'a dependency was removed')
WHERE id IN (SELECT value FROM json_each(:ids)) AND +state = 'pending'  -- +: find by id
  AND (EXISTS (
        SELECT 1 FROM job_dependencies AS d JOIN jobs AS p ON p.id = d.depends_on
        WHERE d.job_id = jobs.id AND p.state IN ('dead', 'canceled'))
    OR waiting_on > {{dependencies_not_completed}});

-- name: jobs_waiting_in_vain
-- Waiting jobs whose waiting_on is negative (a hand edit: no completion counts it up to 0),
-- or counts more dependencies not completed than they have (one removed before it completed,
-- or the count or the rows edited by hand): nothing would ever count them down to 0. A read
-- over the waiting jobs (no index serves it: 70 ms at 100,000), done seldom (maintenance.py),
-- before bury_jobs_waiting_in_vain writes.
WITH waiting AS (
    SELECT id, waiting_on, {{dependencies_not_completed}} AS not_completed
    FROM jobs WHERE state IN ('pending', 'failed') AND waiting_on <> 0)
SELECT id FROM waiting WHERE waiting_on < 0 OR waiting_on > not_completed;

-- name: bury_jobs_waiting_in_vain
-- Those of :ids (jobs_waiting_in_vain) still so end dead, their error saying why; waiting_on
-- is counted again, so that a person's dlq retry runs them once their dependencies are done.
-- MATERIALIZED: counted once per job (inlined, each use of the count counted again).
WITH counted AS MATERIALIZED (
    SELECT id, {{dependencies_not_completed}} AS not_completed
    FROM jobs WHERE id IN (SELECT value FROM json_each(:ids)))
UPDATE jobs
SET state = 'dead', updated_at = :now, waiting_on = counted.not_completed,
    last_error = 'waiting_on ' || jobs.waiting_on || ', but dependencies not completed: '
        || counted.not_completed
        || CASE WHEN jobs.waiting_on < 0 THEN ' (a hand edit: a count is never negative)'
                ELSE ' (a dependency was removed before it completed, or a hand edit)' END
FROM counted
WHERE jobs.id = counted.id AND +jobs.state IN ('pending', 'failed')  -- +: find by id
  AND (jobs.waiting_on < 0 OR jobs.waiting_on > counted.not_completed)
RETURNING id, last_error;

-- name: delete_finished_job
-- Attempts go with the job (ON DELETE CASCADE).
DELETE FROM jobs WHERE id = :job_id AND state IN ('completed', 'dead', 'canceled')
RETURNING id;

-- name: config_items
SELECT key, value FROM config ORDER BY key;

-- name: set_config
INSERT INTO config (key, value) VALUES (:key, :value)
ON CONFLICT (key) DO UPDATE SET value = excluded.value;

-- name: unset_config
DELETE FROM config WHERE key = :key;

-- Reads for the dashboard, stats and status --watch (storage/reads.py) ---------------------
-- Each job listing walks the primary key, or jobs_by_state (state, seq) with a state. A
-- :queue or :text filter has no index of its own: it skips the rows that do not match on the
-- same walk, which stops at :floor (older) or :ceiling (newer) when the caller bounds it.
-- :error matches the error a job is in, as lists show it (Job.current_error): the stored
-- last_error of a failed or dead job only; a job retried or canceled since is in none.

-- name: search_jobs_older
SELECT * FROM jobs
WHERE seq < :cursor AND seq > :floor
  AND (:text IS NULL OR instr(lower(id || char(10) || command), :text) > 0)
  AND (:queue IS NULL OR queue = :queue)
  AND (:tag IS NULL OR id IN (SELECT job_id FROM job_tags WHERE tag = :tag))
  AND (:error IS NULL OR (state IN ('failed', 'dead')
                       AND instr(lower(coalesce(last_error, '')), :error) > 0))
ORDER BY seq DESC LIMIT :limit;

-- name: search_jobs_older_in_state
SELECT * FROM jobs
WHERE state = :state AND seq < :cursor AND seq > :floor
  AND (:text IS NULL OR instr(lower(id || char(10) || command), :text) > 0)
  AND (:queue IS NULL OR queue = :queue)
  AND (:tag IS NULL OR id IN (SELECT job_id FROM job_tags WHERE tag = :tag))
  AND (:error IS NULL OR (state IN ('failed', 'dead')
                       AND instr(lower(coalesce(last_error, '')), :error) > 0))
ORDER BY seq DESC LIMIT :limit;

-- name: search_jobs_newer
SELECT * FROM jobs
WHERE seq > :cursor AND seq < :ceiling
  AND (:text IS NULL OR instr(lower(id || char(10) || command), :text) > 0)
  AND (:queue IS NULL OR queue = :queue)
  AND (:tag IS NULL OR id IN (SELECT job_id FROM job_tags WHERE tag = :tag))
  AND (:error IS NULL OR (state IN ('failed', 'dead')
                       AND instr(lower(coalesce(last_error, '')), :error) > 0))
ORDER BY seq ASC LIMIT :limit;

-- name: search_jobs_newer_in_state
SELECT * FROM jobs
WHERE state = :state AND seq > :cursor AND seq < :ceiling
  AND (:text IS NULL OR instr(lower(id || char(10) || command), :text) > 0)
  AND (:queue IS NULL OR queue = :queue)
  AND (:tag IS NULL OR id IN (SELECT job_id FROM job_tags WHERE tag = :tag))
  AND (:error IS NULL OR (state IN ('failed', 'dead')
                       AND instr(lower(coalesce(last_error, '')), :error) > 0))
ORDER BY seq ASC LIMIT :limit;

-- name: last_job_seq
SELECT COALESCE(MAX(seq), 0) FROM jobs;

-- name: running_jobs
SELECT j.*, a.started_at AS run_started_at
FROM jobs j JOIN attempts a ON a.job_id = j.id AND a.number = j.runs
WHERE j.state = 'processing'
ORDER BY a.started_at LIMIT :limit;

-- name: finished_runs
-- The columns of FinishedRun, in its order. attempts_by_finish serves the range; attempts
-- being WITHOUT ROWID, that index also holds (job_id, number), so the keyset order needs no
-- sort.
SELECT a.job_id, a.number, j.queue, j.created_at, a.started_at, a.finished_at,
       (a.exit_code IS 0 AND a.error IS NULL) AS succeeded,
       (j.state = 'dead' AND a.number = j.runs) AS ended_dead,
       (a.error IS :interrupted) AS interrupted
FROM attempts a JOIN jobs j ON j.id = a.job_id
WHERE a.finished_at >= :after_at AND a.finished_at < :until
  AND (a.finished_at, a.job_id, a.number) > (:after_at, :after_job, :after_number)
ORDER BY a.finished_at, a.job_id, a.number
LIMIT :limit;

-- name: run_counts
-- What stats.summarize counts of the runs that finished in [:since, :until), per queue, for
-- the partial minutes at a window's ends: counted here, since a busy minute holds tens of
-- thousands of runs (interrupted runs do not count, as there).
SELECT j.queue,
       SUM(a.exit_code IS 0 AND a.error IS NULL),
       SUM(NOT (a.exit_code IS 0 AND a.error IS NULL)),
       SUM(j.state = 'dead' AND a.number = j.runs),
       SUM(a.number = 1),
       TOTAL(CASE WHEN a.number = 1 THEN MAX(a.started_at - j.created_at, 0.0) END)
FROM attempts a JOIN jobs j ON j.id = a.job_id
WHERE a.finished_at >= :since AND a.finished_at < :until AND a.error IS NOT :interrupted
GROUP BY j.queue ORDER BY j.queue;

-- name: run_minutes
-- Finished runs per queue, minutes starting in [since, until) (0009's rollups), summed into
-- bars of :step seconds from :origin: a week's 10,080 minutes per queue never leave SQL.
SELECT CAST((minute - :origin) / :step AS INTEGER) AS bar, queue, SUM(completed), SUM(failed), SUM(dead),
       SUM(waited), SUM(wait_total)
FROM run_minutes WHERE minute >= :since AND minute < :until
GROUP BY bar, queue ORDER BY bar, queue;

-- name: run_hour_bars
-- Finished runs per queue over the hours starting in [since, until), summed into bars of
-- :step seconds from :origin, each hour in the bar its start is in: run_minutes' columns,
-- for windows older than the minute rollups kept (rollups.MINUTE_WINDOW).
SELECT CAST((hour - :origin) / :step AS INTEGER) AS bar, queue,
       SUM(CASE WHEN kind = 0 THEN n ELSE 0 END), SUM(CASE WHEN kind = 1 THEN n ELSE 0 END),
       SUM(CASE WHEN kind = 3 THEN n ELSE 0 END), SUM(CASE WHEN kind = 2 THEN n ELSE 0 END),
       TOTAL(CASE WHEN kind = 2 THEN total ELSE 0 END)
FROM run_hours WHERE hour >= :since AND hour < :until
GROUP BY bar, queue ORDER BY bar, queue;

-- name: run_hour_counts
-- Finished runs per queue over the hours in [since, until) (hour starts), from the hourly
-- histograms: completed (kind 0), failed (1), dead (3), first runs and their waits (2).
SELECT queue,
       SUM(CASE WHEN kind = 0 THEN n ELSE 0 END), SUM(CASE WHEN kind = 1 THEN n ELSE 0 END),
       SUM(CASE WHEN kind = 3 THEN n ELSE 0 END), SUM(CASE WHEN kind = 2 THEN n ELSE 0 END),
       SUM(CASE WHEN kind = 2 THEN total ELSE 0 END)
FROM run_hours WHERE hour >= :since AND hour < :until
GROUP BY queue ORDER BY queue;

-- name: run_histograms
-- Histograms of run and wait times per queue over the hours in [since, until) (hour starts),
-- each bucket with its lower bound (the bound before it; 0 for the first).
SELECT queue, kind, upper,
       COALESCE((SELECT MAX(b.upper) FROM duration_bounds AS b WHERE b.upper < h.upper), 0),
       n, total, top
FROM (SELECT queue, kind, upper, SUM(n) AS n, SUM(total) AS total, MAX(top) AS top
      FROM run_hours WHERE hour >= :since AND hour < :until
      GROUP BY queue, kind, upper) AS h
ORDER BY queue, kind, upper;

-- name: latest_runs
-- The run numbered jobs.runs is the job's latest.
SELECT a.job_id, a.started_at, a.finished_at
FROM jobs j JOIN attempts a ON a.job_id = j.id AND a.number = j.runs
WHERE j.id IN (SELECT value FROM json_each(:ids));

-- name: pending_breakdown
SELECT COUNT(*) AS pending,
       COUNT(*) FILTER (WHERE run_at > :now) AS scheduled,
       COUNT(*) FILTER (WHERE run_at <= :now AND waiting_on > 0) AS blocked
FROM jobs WHERE state = 'pending';

-- Named queues (storage/queues.py). Only settings are stored. --------------------------------

-- name: jobs_per_queue
SELECT queue, state, SUM(n) AS n FROM job_counts GROUP BY queue, state HAVING SUM(n) <> 0;

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

-- Recurring schedules (storage/recurring.py) -----------------------------------------------

-- name: insert_schedule
INSERT INTO schedules (name, job, cron, every, tz, paused, next_run_at, created_at)
VALUES (:name, :job, :cron, :every, :tz, 0, :next_run_at, :now)
ON CONFLICT (name) DO NOTHING;

-- name: list_schedules
SELECT name, job, cron, every, tz, paused, next_run_at, last_run_at, last_job_id, created_at
FROM schedules ORDER BY name;

-- name: get_schedule
SELECT name, job, cron, every, tz, paused, next_run_at, last_run_at, last_job_id, created_at
FROM schedules WHERE name = ?;

-- name: delete_schedule
DELETE FROM schedules WHERE name = ?;

-- name: set_schedule_paused
UPDATE schedules SET paused = :paused, next_run_at = COALESCE(:next_run_at, next_run_at)
WHERE name = :name;

-- name: due_schedules
-- The schedules not paused whose tick has come, then the first whose tick is still to come:
-- what the housekeeper enqueues, and when it looks again (the first row's next_run_at, the
-- earliest of them all), in one read. Its last column says which rows are due.
-- A next_run_at that is not a number (text written by hand: SQLite keeps it) sorts after
-- every number, so it would never come due; it is due at once instead, for the housekeeper
-- to skip that tick alone and move the row on. The check costs nothing: the table is
-- scanned either way (no index on next_run_at, the plan is the same).
WITH active AS (
    SELECT name, job, cron, every, tz, paused, next_run_at, last_run_at, last_job_id,
           created_at,
           next_run_at <= :now OR typeof(next_run_at) NOT IN ('real', 'integer') AS due
    FROM schedules WHERE paused = 0)
SELECT * FROM active WHERE due
UNION ALL
SELECT * FROM (SELECT * FROM active WHERE NOT due ORDER BY next_run_at LIMIT 1)
ORDER BY next_run_at;

-- name: take_tick
-- The tick key: only the one transaction that moves next_run_at on from the tick it read
-- enqueues that tick. A tick skipped moves it too, but not last_run_at (record_tick_job).
UPDATE schedules SET next_run_at = :next_run_at
WHERE name = :name AND next_run_at = :tick AND paused = 0;

-- name: record_tick_job
-- The tick's job was enqueued: only then is it the schedule's last run.
UPDATE schedules SET last_run_at = :tick, last_job_id = :job_id WHERE name = :name;

-- Retention (storage/retention.py) ---------------------------------------------------------

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

-- name: prune_run_minutes
-- Minute rollups older than any read at minute resolution (rollups.MINUTES_KEPT), a batch.
DELETE FROM run_minutes WHERE (minute, queue, shard) IN (
    SELECT minute, queue, shard FROM run_minutes WHERE minute < :before
    ORDER BY minute LIMIT :limit);

-- name: oldest_rollups
-- The oldest minute rollup, and the oldest hourly one but hour 0, which holds the hours
-- folded already (see fold_run_hours): a read, so that a pass with nothing to prune writes
-- nothing.
SELECT (SELECT MIN(minute) FROM run_minutes), (SELECT MIN(hour) FROM run_hours WHERE hour > 0);

-- name: fold_run_hours
-- Hours before :until (rollups.HOURS_KEPT) are added into hour 0, whose rows only /metrics'
-- totals read (from 0 on): they keep counting every run, as Prometheus counters must.
-- Two statements: writers take turns here, so no other fold sees the rows in between.
INSERT INTO run_hours (hour, queue, kind, upper, shard, n, total, top)
SELECT 0, queue, kind, upper, shard, SUM(n), TOTAL(total), MAX(top)
FROM run_hours WHERE hour > 0 AND hour < :until
GROUP BY queue, kind, upper, shard ORDER BY queue, kind, upper, shard
ON CONFLICT (hour, queue, kind, upper, shard) DO UPDATE
SET n = n + excluded.n, total = total + excluded.total, top = max(top, excluded.top);
DELETE FROM run_hours WHERE hour > 0 AND hour < :until;

-- queuectl import (storage/restore.py) -----------------------------------------------------

-- name: restore_job
-- A job exactly as exported: every field of Job is a column of the same name.
INSERT INTO jobs (id, command, state, attempts, max_retries, created_at, updated_at, run_at,
                  runs, priority, cwd, env, timeout, exit_code, last_error, worker_id,
                  lease_until, fatal_exit_codes, retry_on_timeout, output_limit,
                  cancel_requested, queue, unique_key, tags, depends_on, waiting_on,
                  backoff_base, backoff_max, jitter, restarted_from, signal_request,
                  paused_run, on_finish, webhook, hook_run, hook_result)
VALUES (:id, :command, :state, :attempts, :max_retries, :created_at, :updated_at, :run_at,
        :runs, :priority, :cwd, :env, :timeout, :exit_code, :last_error, :worker_id,
        :lease_until, :fatal_exit_codes, :retry_on_timeout, :output_limit,
        :cancel_requested, :queue, :unique_key, :tags, :depends_on, :waiting_on,
        :backoff_base, :backoff_max, :jitter, :restarted_from, :signal_request,
        :paused_run, :on_finish, :webhook, :hook_run, :hook_result);

-- name: mark_dependencies
-- The jobs that imported jobs depend on.
UPDATE jobs SET has_dependents = 1
WHERE id IN (SELECT d.value FROM jobs AS j, json_each(j.depends_on) AS d
             WHERE j.id IN (SELECT value FROM json_each(:ids)));

-- name: restore_attempt
-- An attempt exactly as exported.
INSERT INTO attempts (job_id, number, worker_id, started_at, finished_at, exit_code, error,
                      output, output_dropped)
VALUES (:job_id, :number, :worker_id, :started_at, :finished_at, :exit_code, :error,
        :output, :output_dropped);

-- name: count_restored_runs
-- Imported jobs' finished runs into 0009's rollups, as attempts_finished counts a worker's
-- (and the migration counted the runs stored before it).
INSERT INTO run_minutes (minute, queue, completed, failed, waited, wait_total)
SELECT CAST(a.finished_at / 60 AS INTEGER) * 60 AS minute, j.queue,
       SUM(a.exit_code IS 0 AND a.error IS NULL), SUM(NOT (a.exit_code IS 0 AND a.error IS NULL)), SUM(a.number = 1),
       TOTAL(CASE WHEN a.number = 1 THEN max(a.started_at - j.created_at, 0) ELSE 0 END)
FROM attempts AS a JOIN jobs AS j ON j.id = a.job_id
WHERE a.job_id IN (SELECT value FROM json_each(:ids)) AND a.finished_at IS NOT NULL AND a.error IS NOT :interrupted
GROUP BY 1, 2 ORDER BY 1, 2
ON CONFLICT (minute, queue, shard) DO UPDATE
SET completed = completed + excluded.completed, failed = failed + excluded.failed,
    waited = waited + excluded.waited, wait_total = wait_total + excluded.wait_total;
INSERT INTO run_hours (hour, queue, kind, upper, n, total, top)
SELECT hour, queue, kind, (SELECT min(upper) FROM duration_bounds WHERE upper >= took),
       COUNT(*), TOTAL(took), MAX(took)
FROM (
    SELECT CAST(a.finished_at / 3600 AS INTEGER) * 3600 AS hour, j.queue,
           NOT (a.exit_code IS 0 AND a.error IS NULL) AS kind, max(a.finished_at - a.started_at, 0) AS took
    FROM attempts AS a JOIN jobs AS j ON j.id = a.job_id
    WHERE a.job_id IN (SELECT value FROM json_each(:ids)) AND a.finished_at IS NOT NULL AND a.error IS NOT :interrupted
    UNION ALL
    SELECT CAST(a.finished_at / 3600 AS INTEGER) * 3600, j.queue, 2,
           max(a.started_at - j.created_at, 0)
    FROM attempts AS a JOIN jobs AS j ON j.id = a.job_id
    WHERE a.job_id IN (SELECT value FROM json_each(:ids)) AND a.finished_at IS NOT NULL AND a.error IS NOT :interrupted
      AND a.number = 1
) AS runs
GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
ON CONFLICT (hour, queue, kind, upper, shard) DO UPDATE
SET n = n + excluded.n, total = total + excluded.total, top = max(top, excluded.top);

-- name: count_restored_deaths
-- Imported jobs that died after running, as jobs_counted_update counts a worker's.
INSERT INTO run_minutes (minute, queue, dead)
SELECT CAST(updated_at / 60 AS INTEGER) * 60 AS minute, queue, COUNT(*)
FROM jobs WHERE id IN (SELECT value FROM json_each(:ids)) AND state = 'dead' AND runs > 0
GROUP BY 1, 2 ORDER BY 1, 2
ON CONFLICT (minute, queue, shard) DO UPDATE SET dead = dead + excluded.dead;
INSERT INTO run_hours (hour, queue, kind, upper, n, total, top)
SELECT CAST(updated_at / 3600 AS INTEGER) * 3600 AS hour, queue, 3, 0, COUNT(*), 0, 0
FROM jobs WHERE id IN (SELECT value FROM json_each(:ids)) AND state = 'dead' AND runs > 0 GROUP BY 1, 2 ORDER BY 1, 2
ON CONFLICT (hour, queue, kind, upper, shard) DO UPDATE SET n = n + excluded.n;

-- name: restore_schedule
-- A schedule exactly as exported.
INSERT INTO schedules (name, job, cron, every, tz, paused, next_run_at, last_run_at,
                       last_job_id, created_at)
VALUES (:name, :job, :cron, :every, :tz, :paused, :next_run_at,
        :last_run_at, :last_job_id, :created_at);

-- Changing jobs on request (storage/changes.py) ---------------------------------------------

-- name: mark_restart
UPDATE jobs SET restarted_from = :restarted_from WHERE id = :job_id;

-- name: lock_jobs_to_remove
-- Nothing to lock: SQLite's writers take turns anyway (BEGIN IMMEDIATE).

-- name: live_dependents
-- Jobs that still wait on :job_id (removing it would leave them waiting for ever).
SELECT j.id FROM job_dependencies d JOIN jobs j ON j.id = d.job_id
WHERE d.depends_on = :job_id AND j.state IN ('pending', 'failed', 'processing');

-- name: remove_job
-- Attempts, tags and dependency links go with the job (ON DELETE CASCADE).
DELETE FROM jobs WHERE id = :job_id AND state <> 'processing' RETURNING id;

-- name: edit_job
UPDATE jobs
SET command = :command, priority = :priority, queue = :queue, run_at = :run_at,
    max_retries = :max_retries, timeout = :timeout, retry_on_timeout = :retry_on_timeout,
    fatal_exit_codes = :fatal_exit_codes, backoff_base = :backoff_base,
    backoff_max = :backoff_max, jitter = :jitter, updated_at = :now
WHERE id = :job_id AND state IN ('pending', 'failed')
RETURNING *;

-- Steering running jobs and workers (storage/control.py) -------------------------------------

-- name: request_signal
-- A signal for the worker that runs the job to send its process group at its next check-in.
UPDATE jobs SET signal_request = :signal, signal_run = runs
WHERE id = :job_id AND state = 'processing'
RETURNING *;

-- name: signal_requests_of_worker
SELECT id, runs, signal_request FROM jobs
WHERE worker_id = :worker_id AND state = 'processing' AND signal_request IS NOT NULL
  AND signal_run = runs;

-- name: take_signal_requests
-- Handed to the worker in its check-in: a STOP marks the run paused; any other signal
-- unmarks it (the worker continues a paused job after sending it one, so that it can act on
-- it). A request left from an earlier run is dropped unsent.
UPDATE jobs
SET paused_run = CASE WHEN signal_run <> runs THEN paused_run
                      WHEN signal_request = 'STOP' THEN runs ELSE NULL END,
    signal_request = NULL, signal_run = NULL
WHERE worker_id = :worker_id AND state = 'processing' AND signal_request IS NOT NULL;

-- name: request_slots
-- Workers (one, or those of a host, or all) to run this many jobs at once from now on.
UPDATE workers SET slots_wanted = :slots
WHERE (:worker_id IS NULL OR id = :worker_id)
  AND (:host IS NULL OR host = :host)
RETURNING id;

-- name: set_worker_slots
-- A worker now runs this many jobs at once.
UPDATE workers SET slots = :slots, slots_wanted = NULL WHERE id = :worker_id;

-- name: count_paused
SELECT COUNT(*) FROM jobs WHERE state = 'processing' AND paused_run = runs;

-- name: paused_jobs_of_workers
-- The jobs a graceful stop of these workers waits for until they are resumed (worker stop).
SELECT id FROM jobs
WHERE state = 'processing' AND paused_run = runs AND worker_id IN (SELECT value FROM json_each(:worker_ids))
ORDER BY id;

-- Completion hooks (storage/hooks.py, hooks.py) --------------------------------------------
-- A job with a hook is due once it is final and its hook has not been taken for this run;
-- the partial index jobs_hooks_due holds only jobs with hooks not yet run.

-- name: any_hook_due
SELECT 1 FROM jobs INDEXED BY jobs_hooks_due
WHERE (on_finish IS NOT NULL OR webhook IS NOT NULL) AND hook_run IS NOT runs
  AND state IN ('completed', 'dead', 'canceled') LIMIT 1;

-- name: take_due_hooks
-- Taken once (at most once: a worker that dies running one does not run it again).
UPDATE jobs SET hook_run = runs
WHERE id IN (SELECT id FROM jobs
             WHERE (on_finish IS NOT NULL OR webhook IS NOT NULL) AND hook_run IS NOT runs
               AND state IN ('completed', 'dead', 'canceled')
             ORDER BY updated_at LIMIT :limit)
RETURNING *;

-- name: record_hook
UPDATE jobs SET hook_result = :result WHERE id = :job_id;

