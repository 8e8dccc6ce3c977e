-- The PostgreSQL store's statements, by name (see storage/sql.py): the same names, parameters
-- and result columns as sqlite/queries.sql. Tables are found through the connection's
-- search_path, which points at the store's own schema. Lists come as arrays (= ANY). An empty
-- statement does nothing: this database needs no such step.

-- Claiming and finishing runs (storage/claims.py) ------------------------------------------

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
          -- The scheduling rules, checked for each job the index walk reaches: every
          -- dependency completed, a queue this worker serves (NULL: all)...
          AND waiting_on = 0
          AND (%(queues)s::text[] IS NULL OR queue = ANY(%(queues)s::text[]))
          -- ...and a queue neither paused nor at its limit. A limited queue's jobs are taken
          -- only from the queues this transaction locked (%(locked)s: claimers take turns on
          -- them, see lock_queues), one per statement (limit 1), so that the count sees every
          -- job taken before; a batch (limit > 1) passes over them.
          AND NOT EXISTS (
              SELECT 1 FROM queues AS q
              WHERE q.name = ready.queue
                AND (q.paused OR (q.max_running IS NOT NULL AND (%(limit)s > 1
                     OR q.name <> ALL(%(locked)s::text[])
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

-- name: limited_queues_ahead
-- The limited queues that hold one of the best %(limit)s ready jobs: the claim locks those
-- queues only (a claim on unlimited queues locks none). Without any limited queue the
-- one-time EXISTS ends it before the jobs are read.
SELECT DISTINCT queue FROM (
    SELECT queue FROM jobs AS ready
    WHERE state IN ('pending', 'failed') AND run_at <= %(now)s AND waiting_on = 0
      AND (%(queues)s::text[] IS NULL OR queue = ANY(%(queues)s::text[]))
      AND NOT EXISTS (SELECT 1 FROM queues AS q WHERE q.name = ready.queue AND q.paused)
      AND EXISTS (SELECT 1 FROM queues WHERE max_running IS NOT NULL)
    ORDER BY priority DESC, run_at, seq
    LIMIT %(limit)s) AS ahead
WHERE queue IN (SELECT name FROM queues WHERE max_running IS NOT NULL);

-- name: lock_queues
-- Claimers of one limited queue take turns (row locks until the commit), so that each counts
-- the jobs the others took: the limit holds across hosts. In name order: no deadlock.
SELECT name FROM queues WHERE name = ANY(%(names)s::text[]) ORDER BY name FOR UPDATE;

-- name: claimed_in_call
-- After a commit whose outcome is unknown (the connection died during COMMIT): the jobs that
-- call claimed, recognised by its worker and its exact timestamp.
SELECT * FROM jobs
WHERE worker_id = %(worker_id)s AND state = 'processing' AND updated_at = %(now)s;

-- name: close_attempts
-- Nothing here: finish_run closes the attempt in the statement that moves the job on (one
-- round trip; SQLite closes a batch's attempts first, with one call).

-- name: defer_counting
-- Nothing here: 0009's triggers count a whole statement's rows at once already (SQLite's
-- count a row at a time, so a worker there sums a batch itself: storage/run_counts.py).

-- name: end_deferred_counting
-- Nothing here: see defer_counting.

-- name: count_jobs_moved
-- Nothing here: see defer_counting.

-- name: count_runs_per_minute
-- Nothing here: see defer_counting.

-- name: count_runs_per_hour
-- Nothing here: see defer_counting.

-- name: finish_run
-- Records a run's end, fenced: only while this worker still holds this run of the job; its
-- attempt is closed in the same statement. Returns has_dependents, or no row when the fence
-- refused the outcome.
WITH finished AS (
    UPDATE jobs
    SET state = %(state)s, run_at = COALESCE(%(run_at)s, run_at), exit_code = %(exit_code)s,
        last_error = %(error)s, worker_id = NULL, lease_until = NULL, updated_at = %(now)s
    WHERE id = %(job_id)s AND runs = %(attempt)s AND worker_id = %(worker_id)s
      AND state = 'processing'
    RETURNING has_dependents
), recorded AS (
    UPDATE attempts
    SET finished_at = %(now)s, exit_code = %(exit_code)s, error = %(error)s,
        output = %(output)s, output_dropped = %(output_dropped)s,
        started_at = COALESCE(%(started_at)s, started_at)
    WHERE job_id = %(job_id)s AND number = %(attempt)s AND EXISTS (SELECT 1 FROM finished)
)
SELECT has_dependents FROM finished;

-- name: bury_unreadable_job
-- A job just claimed whose row cannot be read whole (edited by hand; storage/claims.py):
-- dead, fenced as finish_run, in the claim's transaction (finish_attempt closes its attempt).
UPDATE jobs
SET state = 'dead', last_error = %(error)s, worker_id = NULL, lease_until = NULL,
    updated_at = %(now)s
WHERE id = %(job_id)s AND runs = %(attempt)s AND worker_id = %(worker_id)s
  AND state = 'processing';

-- name: attempt_recorded
-- After a commit whose outcome is unknown: was this exact outcome stored by that commit?
SELECT 1 FROM attempts
WHERE job_id = %(job_id)s AND number = %(attempt)s AND worker_id = %(worker_id)s
  AND finished_at = %(now)s;

-- name: drop_output_chunks
-- A finished run's streamed output, folded into its attempt's output.
DELETE FROM output_chunks WHERE job_id = %(job_id)s AND number = %(attempt)s;

-- name: finish_attempt
UPDATE attempts
SET finished_at = %(now)s, exit_code = %(exit_code)s, error = %(error)s, output = %(output)s,
    output_dropped = %(output_dropped)s
WHERE job_id = %(job_id)s AND number = %(attempt)s;

-- Storing jobs (storage/enqueue.py) --------------------------------------------------------

-- name: take_job_numbers
-- The next "count" numbers for jobs enqueued without an id; returns the first.
UPDATE job_numbers SET next = next + %(count)s RETURNING next - %(count)s;

-- name: keep_job_numbers_above
-- A job stored with an id that is a number: the numbers handed out from now on are above it.
UPDATE job_numbers SET next = %(number)s + 1 WHERE next <= %(number)s;

-- name: insert_plain_job
-- A job whose other fields all have their defaults (NewJob.plain), as bulk enqueues mostly
-- are. Values: id, command, max_retries, cwd, now.
INSERT INTO jobs (id, command, max_retries, cwd, state, run_at, created_at, updated_at)
SELECT v.id, v.command, v.max_retries, v.cwd, 'pending', v.now, v.now, v.now
FROM (VALUES (%s::text, %s::text, %s::integer, %s::text, %s::double precision))
    AS v (id, command, max_retries, cwd, now);

-- name: insert_job
-- The values come in the order of the columns (see _row in storage/enqueue.py). A job whose
-- unique_key matches a live job is not inserted (no row changed).
INSERT INTO jobs (id, command, state, max_retries, run_at, created_at, updated_at, cwd, env,
                  timeout, fatal_exit_codes, retry_on_timeout, output_limit,
                  priority, queue, unique_key, tags, depends_on, waiting_on, last_error,
                  backoff_base, backoff_max, jitter, on_finish, webhook)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s,
        %s, %s, %s,
        %s, %s, %s, %s, %s, %s, %s,
        %s, %s, %s, %s, %s)
ON CONFLICT (unique_key)
    WHERE unique_key IS NOT NULL AND state IN ('pending', 'failed', 'processing') DO NOTHING;

-- name: count_new_jobs
-- Nothing to do: 0009's statement trigger counts new jobs (SQLite counts them here).

-- name: insert_tags
-- Nothing: a job's tags are the array in its row, searched through the jobs_tags GIN index.

-- name: insert_dependencies
-- Nothing: a job's dependencies are the array in its row (jobs_dependents GIN index).

-- name: live_job_with_unique_key
SELECT * FROM jobs
WHERE unique_key = %s AND state IN ('pending', 'failed', 'processing');

-- name: dependency_states
-- Marks the dependencies (their trigger now has work to do) and reads their states. The row
-- locks also keep a dependency from completing (or dying) until this enqueue commits, so that
-- its trigger sees the new dependent and counts it; else the dependent could wait forever.
UPDATE jobs SET has_dependents = true WHERE id = ANY(%(ids)s)
RETURNING id, state;

-- name: existing_job_ids
SELECT id FROM jobs WHERE id = ANY(%(ids)s);

-- Workers (storage/workers.py) -------------------------------------------------------------

-- name: register_worker
-- Idempotent for the same process (which may repeat it after a lost commit, or once its
-- registration was removed); another process's row under the id is left alone, and no row
-- comes back (storage/workers.py decides).
INSERT INTO workers (id, host, pid, pid_started, slots, started_at, heartbeat_at)
VALUES (%(id)s, %(host)s, %(pid)s, %(pid_started)s, %(slots)s, %(now)s, %(now)s)
ON CONFLICT (id) DO UPDATE SET heartbeat_at = excluded.heartbeat_at
WHERE workers.host = excluded.host AND workers.pid = excluded.pid
RETURNING id;

-- name: worker_holding_id
SELECT host, pid, heartbeat_at FROM workers WHERE id = %(worker_id)s;

-- name: unregister_worker
DELETE FROM workers WHERE id = %(worker_id)s;

-- name: is_housekeeper
-- The rule that elects the housekeeper, shared by worker_heartbeat (which tells the worker)
-- and list_workers (which tells a person): the row of ``workers`` at hand is the housekeeper
-- when it is live (its heartbeat younger than a lease: since alive_since) and no live worker
-- registered before it (ties by id). A condition, not a statement: sql.py puts it in.
-- A heartbeat after alive_until (now plus a lease: inf, or years ahead, by a hand edit) is
-- no live one either: such a registration, first in line for ever, left the queue without
-- a housekeeper, so that nothing forgot it.
workers.heartbeat_at >= %(alive_since)s AND workers.heartbeat_at <= %(alive_until)s
AND NOT EXISTS (SELECT 1 FROM workers AS older
                WHERE older.heartbeat_at >= %(alive_since)s
                  AND older.heartbeat_at <= %(alive_until)s
                  AND (older.started_at, older.id) < (workers.started_at, workers.id))

-- name: worker_heartbeat
-- Also: whether this worker is the housekeeper (is_housekeeper), and a digest of the stored
-- settings, so that workers read them again only when they changed.
UPDATE workers SET heartbeat_at = %(now)s WHERE id = %(worker_id)s
RETURNING stop_requested, slots_wanted,
    {{is_housekeeper}},
    (SELECT md5(string_agg(key || '=' || value, chr(10) ORDER BY key)) FROM config);

-- name: renew_leases
-- What is still this worker's, its lease renewed: a run missing was rescued (fenced).
UPDATE jobs SET lease_until = %(lease_until)s
WHERE worker_id = %(worker_id)s AND state = 'processing'
RETURNING id, runs;

-- name: cancel_requests_of_worker
SELECT id, runs FROM jobs
WHERE worker_id = %(worker_id)s AND state = 'processing' AND cancel_requested;

-- name: release_job
-- A forced stop gives the run back: the attempt does not count.
UPDATE jobs
SET state = CASE WHEN attempts > 1 THEN 'failed' ELSE 'pending' END,
    attempts = attempts - 1, worker_id = NULL, lease_until = NULL, updated_at = %(now)s
WHERE id = %(job_id)s AND runs = %(attempt)s AND worker_id = %(worker_id)s
  AND state = 'processing';

-- name: unclaim_job
-- A claimed run that never started is undone: the job is as it was before the claim, and
-- the run's attempt goes.
WITH undone AS (
    UPDATE jobs
    SET state = CASE WHEN attempts > 1 THEN 'failed' ELSE 'pending' END,
        attempts = attempts - 1, runs = runs - 1, worker_id = NULL, lease_until = NULL,
        updated_at = %(now)s
    WHERE id = %(job_id)s AND runs = %(attempt)s AND worker_id = %(worker_id)s
      AND state = 'processing'
    RETURNING id
)
DELETE FROM attempts
WHERE job_id = %(job_id)s AND number = %(attempt)s AND EXISTS (SELECT 1 FROM undone);

-- name: append_output_chunk
-- Fenced like every write of a run: only while the worker still holds it.
INSERT INTO output_chunks (job_id, number, byte_offset, data)
SELECT %(job_id)s, %(attempt)s, %(offset)s, %(data)s
WHERE EXISTS (SELECT 1 FROM jobs WHERE id = %(job_id)s AND runs = %(attempt)s
              AND worker_id = %(worker_id)s AND state = 'processing')
ON CONFLICT DO NOTHING;

-- name: note_idle_worker
-- A worker whose claim came up short, with the jobs it would take (wakeup.py). A row comes
-- back only when this wrote one: the worker was not listed, or listed with another count.
-- An unchanged row is not even locked, so that it never holds up a wake_idle_workers.
INSERT INTO idle_workers (worker_id, free, since)
SELECT %(worker_id)s, %(free)s, %(now)s
WHERE NOT EXISTS (SELECT 1 FROM idle_workers
                  WHERE worker_id = %(worker_id)s AND free = %(free)s)
ON CONFLICT (worker_id) DO UPDATE SET free = excluded.free
RETURNING 1;

-- name: forget_idle_worker
DELETE FROM idle_workers WHERE worker_id = %(worker_id)s;

-- name: forget_idle_workers_gone
DELETE FROM idle_workers WHERE worker_id NOT IN (SELECT id FROM workers);

-- name: idle_workers_of_host
-- Nothing: wake_idle_workers() picks them, after the commit (see 0007_idle_workers.sql).

-- name: next_run_at
-- When a worker serving the given queues (NULL: all) could next claim a job: the earliest
-- run_at of the jobs not waiting on a dependency and not in a paused queue. With
-- pending_until, pending jobs due after it are left out (a burst worker waits for retries,
-- not for delays).
-- A limit of 0 or less (only by hand: `queue limit Q 0` lifts a limit) holds its queue as a
-- pause does, in the claim: a burst worker waited for its jobs for ever.
SELECT MIN(run_at) FROM jobs AS ready
WHERE state IN ('pending', 'failed') AND waiting_on = 0
  AND (%(pending_until)s::double precision IS NULL OR state = 'failed'
       OR run_at <= %(pending_until)s::double precision)
  AND (%(queues)s::text[] IS NULL OR queue = ANY(%(queues)s::text[]))
  AND NOT EXISTS (SELECT 1 FROM queues AS q WHERE q.name = ready.queue
                  AND (q.paused OR q.max_running <= 0));

-- name: jobs_come_due
-- For the housekeeper (maintenance.py): how many jobs came due in (since, now] (a delay or a
-- retry's backoff ran out: no enqueue wakes anyone then), and when the next one comes due.
-- Both walk jobs_next_run from a bound, never the whole backlog: NOT MATERIALIZED puts the
-- CTE's conditions into each read, as if written out twice (a CTE named twice is materialized
-- by default: every ready job read first; test_claim_index checks the plan).
WITH ready AS NOT MATERIALIZED (  -- ready to run but for their time
    SELECT run_at FROM jobs AS job
    WHERE state IN ('pending', 'failed') AND waiting_on = 0
      AND NOT EXISTS (SELECT 1 FROM queues AS q WHERE q.name = job.queue AND q.paused))
SELECT (SELECT COUNT(*) FROM ready WHERE run_at > %(since)s AND run_at <= %(now)s),
       (SELECT MIN(run_at) FROM ready WHERE run_at > %(now)s);

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
SELECT id, pid, pid_started FROM workers WHERE host = %s;

-- name: request_stop_all
UPDATE workers SET stop_requested = %(mode)s RETURNING id;

-- name: request_stop_one
UPDATE workers SET stop_requested = %(mode)s WHERE id = %(worker_id)s RETURNING id;

-- name: held_jobs_expired
-- SKIP LOCKED: two hosts rescuing at once each take different rows instead of waiting.
-- Nothing while the server has been up for less than ``lease`` seconds (by its own clock):
-- a restart is an outage, and the holders, alive and reconnecting, renew their leases within
-- a heartbeat of it (issue 12).
-- With a lease, also the runs no heartbeat renews into a lease that expires, as only a hand
-- edit leaves them: a lease NULL or NaN, or no holder at all (no fence then matches), held by
-- no live worker (none registered under the holder's id with a heartbeat within a lease of
-- now, either side); or a lease further than a lease ahead whose holder is not registered
-- with a heartbeat that is a time. Such a holder keeps such a run however late or far ahead
-- its heartbeat, until it is forgotten: a lease cut by `config set` while workers run leaves
-- their leases ahead of the new one, a heartbeat late under load must not hand a live run to
-- another worker, and after the server's clock stepped back live workers' heartbeats and
-- leases read ahead until their next heartbeat. A heartbeat that is no time (inf, NaN: only
-- by hand) holds nothing. NaN sorts above every number here, Infinity included.
-- The holder's registration is joined once (workers.id is its key: one row at most); no
-- registration reads as a heartbeat that is NULL. Only the jobs' rows are locked.
SELECT jobs.* FROM jobs LEFT JOIN workers AS holder ON holder.id = jobs.worker_id
WHERE jobs.state = 'processing'
  AND (jobs.lease_until < %(now)s
       OR (%(lease)s::double precision IS NOT NULL
           AND (jobs.worker_id IS NULL OR jobs.lease_until IS NULL
                OR jobs.lease_until = 'NaN'::float8)
           AND NOT coalesce(holder.heartbeat_at >= %(now)s - %(lease)s::double precision
                            AND holder.heartbeat_at <= %(now)s + %(lease)s::double precision,
                            FALSE))
       OR (%(lease)s::double precision IS NOT NULL
           AND jobs.lease_until > %(now)s + %(lease)s::double precision
           AND NOT coalesce(holder.heartbeat_at > '-Infinity'::float8
                            AND holder.heartbeat_at < 'Infinity'::float8, FALSE)))
  AND (%(lease)s::double precision IS NULL
       OR clock_timestamp() >= pg_postmaster_start_time()
                               + make_interval(secs => %(lease)s::double precision))
FOR UPDATE OF jobs SKIP LOCKED;

-- name: held_jobs_of_worker
SELECT * FROM jobs WHERE state = 'processing' AND worker_id = %(worker_id)s
FOR UPDATE SKIP LOCKED;

-- name: adopt_unheld_run
-- A run in processing with no holder (by hand), about to be rescued: held by '' (what the
-- rescue fences its outcome with), since no fence matches NULL.
UPDATE jobs SET worker_id = ''
WHERE id = %(job_id)s AND runs = %(attempt)s AND state = 'processing' AND worker_id IS NULL;

-- name: forget_silent_workers
-- Registrations whose heartbeat is older than :before, or later than :after, or no time at
-- all (NaN, inf, text by a hand edit): none of these ages past :before, so they stayed, and
-- each worker stop waited a lease for them again.
DELETE FROM workers
WHERE NOT coalesce(heartbeat_at >= %(before)s AND heartbeat_at <= %(after)s, FALSE);

-- Jobs (storage/jobs.py) -------------------------------------------------------------------

-- name: get_job
SELECT * FROM jobs WHERE id = %s;

-- name: jobs_by_ids
SELECT * FROM jobs WHERE id = ANY(%(ids)s);

-- name: list_jobs
SELECT * FROM jobs ORDER BY seq DESC LIMIT %(limit)s OFFSET %(offset)s;

-- name: list_jobs_in_state
SELECT * FROM jobs WHERE state = %(state)s ORDER BY seq DESC LIMIT %(limit)s OFFSET %(offset)s;

-- name: list_jobs_with_tag
SELECT * FROM jobs
WHERE tags @> ARRAY[%(tag)s::text] AND (%(state)s::text IS NULL OR state = %(state)s)
ORDER BY seq DESC LIMIT %(limit)s OFFSET %(offset)s;

-- name: count_by_state
-- From the counts the triggers keep (0009): no scan of the jobs.
SELECT state, SUM(n)::bigint FROM job_counts GROUP BY state HAVING SUM(n) <> 0;

-- name: list_attempts
-- The columns of Attempt, in its order.
SELECT job_id, number, worker_id, started_at, finished_at, exit_code, error, output,
       output_dropped
FROM attempts WHERE job_id = %s ORDER BY number;

-- name: output_chunks_of_job
SELECT number, data FROM output_chunks WHERE job_id = %s ORDER BY number, byte_offset;

-- name: run_output_size
-- How far one run's output goes: the bytes folded into its attempt when it ended, else the
-- end of its last streamed chunk (lengths only: no bytes are sent).
SELECT finished_at, output_dropped, coalesce(octet_length(output), 0),
       coalesce((SELECT c.byte_offset + octet_length(c.data) FROM output_chunks c
                 WHERE c.job_id = a.job_id AND c.number = a.number
                 ORDER BY c.byte_offset DESC LIMIT 1), 0)
FROM attempts a WHERE a.job_id = %(job_id)s AND a.number = %(number)s;

-- name: run_output_from
-- A finished run's output past byte `start` (substring() counts bytea's bytes from 1).
SELECT substring(output FROM %(start)s::integer + 1) FROM attempts
WHERE job_id = %(job_id)s AND number = %(number)s;

-- name: run_output_chunks_from
-- A running run's streamed output past byte `start`: the chunk holding it, cut, and those
-- after it, found by the primary key (an index range, not a scan of the run's chunks).
SELECT substring(data FROM greatest(%(start)s::bigint - byte_offset, 0)::integer + 1)
FROM output_chunks
WHERE job_id = %(job_id)s AND number = %(number)s
  AND byte_offset >= coalesce((SELECT max(byte_offset) FROM output_chunks
                               WHERE job_id = %(job_id)s AND number = %(number)s
                                 AND byte_offset <= %(start)s::bigint), 0)
ORDER BY byte_offset;

-- name: cancel_waiting_job
UPDATE jobs SET state = 'canceled', updated_at = %(now)s, last_error = 'canceled'
WHERE id = %(job_id)s AND state IN ('pending', 'failed')
RETURNING *;

-- name: request_cancel_of_running_job
UPDATE jobs SET cancel_requested = true, updated_at = %(now)s
WHERE id = %(job_id)s AND state = 'processing'
RETURNING *;

-- name: lock_dependencies_of_jobs
-- Before a retry: waits for a transaction in flight that ends one of their dependencies (its
-- trigger killed no dependent that its snapshot saw dead or canceled), so that
-- redo_dependency_deaths, a statement of its own, sees the end; one that begins meanwhile
-- waits for the retry instead, and its trigger sees the job waiting. In id order: no deadlock.
SELECT id FROM jobs
WHERE id IN (SELECT unnest(depends_on) FROM jobs WHERE id = ANY(%(ids)s))
ORDER BY id FOR SHARE;

-- name: lock_dependencies_of_dead
-- The same before retry_all_dead, for the dead jobs it may retry.
SELECT id FROM jobs
WHERE id IN (SELECT unnest(depends_on) FROM jobs
             WHERE state = 'dead' AND depends_on IS NOT NULL
               AND (%(tag)s::text IS NULL OR tags @> ARRAY[%(tag)s::text]))
ORDER BY id FOR SHARE;

-- name: retry_job
UPDATE jobs
SET state = 'pending', attempts = 0, run_at = %(now)s, updated_at = %(now)s,
    cancel_requested = false
WHERE id = %(job_id)s AND (state = 'dead' OR (%(include_canceled)s AND state = 'canceled'));

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

-- name: dependencies_not_completed
-- How many dependencies of the row of ``jobs`` at hand are not completed: what its
-- waiting_on should be. An expression, not a statement (see is_housekeeper).
(SELECT count(*) FROM jobs AS p WHERE p.id = ANY(jobs.depends_on) AND p.state <> 'completed')

-- name: redo_dependency_deaths
-- Jobs a person retried while a dependency is still dead or canceled die again at once, so
-- that no waiting job can wait forever on a job that will never complete; so do those one of
-- whose dependencies was removed before it completed (waiting_on still counts it).
UPDATE jobs
SET state = 'dead', updated_at = %(now)s,
    last_error = coalesce(
        'dependency ' || (
            SELECT p.id FROM jobs AS p
            WHERE p.id = ANY(jobs.depends_on) AND p.state IN ('dead', 'canceled')
            ORDER BY p.id LIMIT 1) || ' dead',
        'dependency ' || (
            SELECT d FROM unnest(jobs.depends_on) AS d
            WHERE NOT EXISTS (SELECT 1 FROM jobs AS p WHERE p.id = d) ORDER BY d LIMIT 1)
            || ' removed',
        'a dependency was removed')
WHERE id = ANY(%(ids)s) AND state = 'pending'
  AND (EXISTS (SELECT 1 FROM jobs AS p
               WHERE p.id = ANY(jobs.depends_on) AND p.state IN ('dead', 'canceled'))
    OR waiting_on > {{dependencies_not_completed}});

-- name: jobs_waiting_in_vain
-- Waiting jobs whose waiting_on is negative (a hand edit: no completion counts it up to 0),
-- or counts more dependencies not completed than they have (one removed before it completed,
-- or the count or the list edited by hand): nothing would ever count them down to 0. A read
-- over the waiting jobs (no index serves it), done seldom (maintenance.py), before
-- bury_jobs_waiting_in_vain writes.
WITH waiting AS (
    SELECT id, waiting_on, {{dependencies_not_completed}} AS not_completed
    FROM jobs WHERE state IN ('pending', 'failed') AND waiting_on <> 0)
SELECT id FROM waiting WHERE waiting_on < 0 OR waiting_on > not_completed;

-- name: bury_jobs_waiting_in_vain
-- Those of ids (jobs_waiting_in_vain) still so end dead, their error saying why; waiting_on
-- is counted again, so that a person's dlq retry runs them once their dependencies are done.
-- A dependency completing meanwhile counts the job down after this statement's snapshot
-- counted it as not completed: the job is then left alone (never buried by a race).
WITH counted AS MATERIALIZED (
    SELECT id, {{dependencies_not_completed}} AS not_completed
    FROM jobs WHERE id = ANY(%(ids)s))
UPDATE jobs
SET state = 'dead', updated_at = %(now)s, waiting_on = counted.not_completed,
    last_error = 'waiting_on ' || jobs.waiting_on || ', but dependencies not completed: '
        || counted.not_completed
        || CASE WHEN jobs.waiting_on < 0 THEN ' (a hand edit: a count is never negative)'
                ELSE ' (a dependency was removed before it completed, or a hand edit)' END
FROM counted
WHERE jobs.id = counted.id AND jobs.state IN ('pending', 'failed')
  AND (jobs.waiting_on < 0 OR jobs.waiting_on > counted.not_completed)
RETURNING jobs.id, jobs.last_error;

-- name: delete_finished_job
-- Attempts go with the job (ON DELETE CASCADE).
DELETE FROM jobs WHERE id = %(job_id)s AND state IN ('completed', 'dead', 'canceled')
RETURNING id;

-- name: config_items
SELECT key, value FROM config ORDER BY key;

-- name: set_config
INSERT INTO config (key, value) VALUES (%(key)s, %(value)s)
ON CONFLICT (key) DO UPDATE SET value = excluded.value;

-- name: unset_config
DELETE FROM config WHERE key = %(key)s;

-- Reads for the dashboard, stats and status --watch (storage/reads.py) ---------------------
-- Each job listing walks the primary key, or jobs_by_state (state, seq) with a state. A
-- queue or text filter has no index of its own: it skips the rows that do not match on the
-- same walk, which stops at floor (older) or ceiling (newer) when the caller bounds it.
-- error matches the error a job is in, as lists show it (Job.current_error): the stored
-- last_error of a failed or dead job only; a job retried or canceled since is in none.

-- name: search_jobs_older
SELECT * FROM jobs
WHERE seq < %(cursor)s AND seq > %(floor)s
  AND (%(text)s::text IS NULL OR strpos(lower(id || chr(10) || command), %(text)s) > 0)
  AND (%(queue)s::text IS NULL OR queue = %(queue)s)
  AND (%(tag)s::text IS NULL OR tags @> ARRAY[%(tag)s::text])
  AND (%(error)s::text IS NULL OR (state IN ('failed', 'dead')
       AND strpos(lower(coalesce(last_error, '')), %(error)s) > 0))
ORDER BY seq DESC LIMIT %(limit)s;

-- name: search_jobs_older_in_state
SELECT * FROM jobs
WHERE state = %(state)s AND seq < %(cursor)s AND seq > %(floor)s
  AND (%(text)s::text IS NULL OR strpos(lower(id || chr(10) || command), %(text)s) > 0)
  AND (%(queue)s::text IS NULL OR queue = %(queue)s)
  AND (%(tag)s::text IS NULL OR tags @> ARRAY[%(tag)s::text])
  AND (%(error)s::text IS NULL OR (state IN ('failed', 'dead')
       AND strpos(lower(coalesce(last_error, '')), %(error)s) > 0))
ORDER BY seq DESC LIMIT %(limit)s;

-- name: search_jobs_newer
SELECT * FROM jobs
WHERE seq > %(cursor)s AND seq < %(ceiling)s
  AND (%(text)s::text IS NULL OR strpos(lower(id || chr(10) || command), %(text)s) > 0)
  AND (%(queue)s::text IS NULL OR queue = %(queue)s)
  AND (%(tag)s::text IS NULL OR tags @> ARRAY[%(tag)s::text])
  AND (%(error)s::text IS NULL OR (state IN ('failed', 'dead')
       AND strpos(lower(coalesce(last_error, '')), %(error)s) > 0))
ORDER BY seq ASC LIMIT %(limit)s;

-- name: search_jobs_newer_in_state
SELECT * FROM jobs
WHERE state = %(state)s AND seq > %(cursor)s AND seq < %(ceiling)s
  AND (%(text)s::text IS NULL OR strpos(lower(id || chr(10) || command), %(text)s) > 0)
  AND (%(queue)s::text IS NULL OR queue = %(queue)s)
  AND (%(tag)s::text IS NULL OR tags @> ARRAY[%(tag)s::text])
  AND (%(error)s::text IS NULL OR (state IN ('failed', 'dead')
       AND strpos(lower(coalesce(last_error, '')), %(error)s) > 0))
ORDER BY seq ASC LIMIT %(limit)s;

-- name: last_job_seq
SELECT COALESCE(MAX(seq), 0) FROM jobs;

-- name: running_jobs
SELECT j.*, a.started_at AS run_started_at
FROM jobs j JOIN attempts a ON a.job_id = j.id AND a.number = j.runs
WHERE j.state = 'processing'
ORDER BY a.started_at LIMIT %(limit)s;

-- name: finished_runs
-- The columns of FinishedRun, in its order. attempts_by_finish holds the whole keyset
-- (finished_at, job_id, number): no sort needed.
SELECT a.job_id, a.number, j.queue, j.created_at, a.started_at, a.finished_at,
       (COALESCE(a.exit_code = 0, false) AND a.error IS NULL) AS succeeded,
       (j.state = 'dead' AND a.number = j.runs) AS ended_dead,
       COALESCE(a.error = %(interrupted)s, false) AS interrupted
FROM attempts a JOIN jobs j ON j.id = a.job_id
WHERE a.finished_at >= %(after_at)s AND a.finished_at < %(until)s
  AND (a.finished_at, a.job_id, a.number) > (%(after_at)s, %(after_job)s, %(after_number)s)
ORDER BY a.finished_at, a.job_id, a.number
LIMIT %(limit)s;

-- name: run_counts
-- What stats.summarize counts of the runs that finished in [:since, :until), per queue, for
-- the partial minutes at a window's ends: counted here, since a busy minute holds tens of
-- thousands of runs (interrupted runs do not count, as there).
SELECT j.queue,
       COUNT(*) FILTER (WHERE COALESCE(a.exit_code = 0, false) AND a.error IS NULL),
       COUNT(*) FILTER (WHERE NOT (COALESCE(a.exit_code = 0, false) AND a.error IS NULL)),
       COUNT(*) FILTER (WHERE j.state = 'dead' AND a.number = j.runs),
       COUNT(*) FILTER (WHERE a.number = 1),
       COALESCE(SUM(GREATEST(a.started_at - j.created_at, 0.0)) FILTER (WHERE a.number = 1), 0.0)
FROM attempts a JOIN jobs j ON j.id = a.job_id
WHERE a.finished_at >= %(since)s AND a.finished_at < %(until)s
  AND a.error IS DISTINCT FROM %(interrupted)s
GROUP BY j.queue ORDER BY j.queue;

-- name: run_minutes
-- Finished runs per queue, minutes starting in [since, until) (0009's rollups), summed into
-- bars of :step seconds from :origin: a week's 10,080 minutes per queue never leave SQL.
SELECT floor((minute - %(origin)s) / %(step)s)::bigint AS bar, queue, SUM(completed)::bigint, SUM(failed)::bigint, SUM(dead)::bigint,
       SUM(waited)::bigint, SUM(wait_total)
FROM run_minutes WHERE minute >= %(since)s AND minute < %(until)s
GROUP BY bar, queue ORDER BY bar, queue;

-- name: run_hour_bars
-- Finished runs per queue over the hours starting in [since, until), summed into bars of
-- :step seconds from :origin, each hour in the bar its start is in: run_minutes' columns,
-- for windows older than the minute rollups kept (rollups.MINUTE_WINDOW).
SELECT floor((hour - %(origin)s) / %(step)s)::bigint AS bar, queue,
       SUM(CASE WHEN kind = 0 THEN n ELSE 0 END)::bigint, SUM(CASE WHEN kind = 1 THEN n ELSE 0 END)::bigint,
       SUM(CASE WHEN kind = 3 THEN n ELSE 0 END)::bigint, SUM(CASE WHEN kind = 2 THEN n ELSE 0 END)::bigint,
       SUM(CASE WHEN kind = 2 THEN total ELSE 0 END)
FROM run_hours WHERE hour >= %(since)s AND hour < %(until)s
GROUP BY bar, queue ORDER BY bar, queue;

-- name: run_hour_counts
-- Finished runs per queue over the hours in [since, until) (hour starts), from the hourly
-- histograms: completed (kind 0), failed (1), dead (3), first runs and their waits (2).
SELECT queue,
       SUM(CASE WHEN kind = 0 THEN n ELSE 0 END)::bigint, SUM(CASE WHEN kind = 1 THEN n ELSE 0 END)::bigint,
       SUM(CASE WHEN kind = 3 THEN n ELSE 0 END)::bigint, SUM(CASE WHEN kind = 2 THEN n ELSE 0 END)::bigint,
       SUM(CASE WHEN kind = 2 THEN total ELSE 0 END)
FROM run_hours WHERE hour >= %(since)s AND hour < %(until)s
GROUP BY queue ORDER BY queue;

-- name: run_histograms
-- Histograms of run and wait times per queue over the hours in [since, until) (hour starts),
-- each bucket with its lower bound (the bound before it; 0 for the first).
SELECT queue, kind, upper,
       COALESCE((SELECT MAX(b.upper) FROM duration_bounds AS b WHERE b.upper < h.upper), 0),
       n, total, top
FROM (SELECT queue, kind, upper, SUM(n)::bigint AS n, SUM(total) AS total, MAX(top) AS top
      FROM run_hours WHERE hour >= %(since)s AND hour < %(until)s
      GROUP BY queue, kind, upper) AS h
ORDER BY queue, kind, upper;

-- name: latest_runs
-- The run numbered jobs.runs is the job's latest.
SELECT a.job_id, a.started_at, a.finished_at
FROM jobs j JOIN attempts a ON a.job_id = j.id AND a.number = j.runs
WHERE j.id = ANY(%(ids)s);

-- name: pending_breakdown
SELECT COUNT(*) AS pending,
       COUNT(*) FILTER (WHERE run_at > %(now)s) AS scheduled,
       COUNT(*) FILTER (WHERE run_at <= %(now)s AND waiting_on > 0) AS blocked
FROM jobs WHERE state = 'pending';

-- Named queues (storage/queues.py). Only settings are stored. --------------------------------

-- name: jobs_per_queue
SELECT queue, state, SUM(n)::bigint AS n FROM job_counts GROUP BY queue, state HAVING SUM(n) <> 0;

-- name: queue_settings
SELECT name, paused, max_running FROM queues ORDER BY name;

-- name: set_queue_paused
INSERT INTO queues (name, paused) VALUES (%(name)s, %(paused)s)
ON CONFLICT (name) DO UPDATE SET paused = excluded.paused;

-- name: set_queue_limit
INSERT INTO queues (name, max_running) VALUES (%(name)s, %(max_running)s)
ON CONFLICT (name) DO UPDATE SET max_running = excluded.max_running;

-- name: drop_plain_queues
-- A queue back to its defaults needs no row (and the claim no probe that finds one).
DELETE FROM queues WHERE NOT paused AND max_running IS NULL;

-- Recurring schedules (storage/recurring.py) -----------------------------------------------

-- name: insert_schedule
INSERT INTO schedules (name, job, cron, every, tz, paused, next_run_at, created_at)
VALUES (%(name)s, %(job)s, %(cron)s, %(every)s, %(tz)s, false, %(next_run_at)s, %(now)s)
ON CONFLICT (name) DO NOTHING;

-- name: list_schedules
SELECT name, job, cron, every, tz, paused, next_run_at, last_run_at, last_job_id, created_at
FROM schedules ORDER BY name;

-- name: get_schedule
SELECT name, job, cron, every, tz, paused, next_run_at, last_run_at, last_job_id, created_at
FROM schedules WHERE name = %s;

-- name: delete_schedule
DELETE FROM schedules WHERE name = %s;

-- name: set_schedule_paused
UPDATE schedules SET paused = %(paused)s, next_run_at = COALESCE(%(next_run_at)s, next_run_at)
WHERE name = %(name)s;

-- name: due_schedules
-- The schedules not paused whose tick has come, then the first whose tick is still to come:
-- what the housekeeper enqueues, and when it looks again (the first row's next_run_at, the
-- earliest of them all), in one read. Its last column says which rows are due.
WITH active AS (
    SELECT name, job, cron, every, tz, paused, next_run_at, last_run_at, last_job_id,
           created_at, next_run_at <= %(now)s AS due
    FROM schedules WHERE NOT paused)
SELECT * FROM active WHERE due
UNION ALL
SELECT * FROM (SELECT * FROM active WHERE NOT due ORDER BY next_run_at LIMIT 1) AS coming
ORDER BY next_run_at;

-- name: take_tick
-- The tick key: only the one transaction that moves next_run_at on from the tick it read
-- enqueues that tick (a racing one waits for the row, then finds it moved). A tick skipped
-- moves it too, but not last_run_at (record_tick_job).
UPDATE schedules SET next_run_at = %(next_run_at)s
WHERE name = %(name)s AND next_run_at = %(tick)s AND NOT paused;

-- name: record_tick_job
-- The tick's job was enqueued: only then is it the schedule's last run.
UPDATE schedules SET last_run_at = %(tick)s, last_job_id = %(job_id)s WHERE name = %(name)s;

-- Retention (storage/retention.py) ---------------------------------------------------------

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

-- name: prune_run_minutes
-- Minute rollups older than any read at minute resolution (rollups.MINUTES_KEPT), a batch.
DELETE FROM run_minutes WHERE (minute, queue, shard) IN (
    SELECT minute, queue, shard FROM run_minutes WHERE minute < %(before)s
    ORDER BY minute LIMIT %(limit)s);

-- name: oldest_rollups
-- The oldest minute rollup, and the oldest hourly one but hour 0, which holds the hours
-- folded already (see fold_run_hours): a read, so that a pass with nothing to prune writes
-- nothing.
SELECT (SELECT MIN(minute) FROM run_minutes), (SELECT MIN(hour) FROM run_hours WHERE hour > 0);

-- name: fold_run_hours
-- Hours before :until (rollups.HOURS_KEPT) are added into hour 0, whose rows only /metrics'
-- totals read (from 0 on): they keep counting every run, as Prometheus counters must.
-- One statement that adds what it deleted: two workers folding at once cannot both add the
-- same rows (the second's DELETE waits for the first and then finds them gone).
WITH folded AS (
    DELETE FROM run_hours WHERE hour > 0 AND hour < %(until)s
    RETURNING queue, kind, upper, shard, n, total, top
)
INSERT INTO run_hours AS h (hour, queue, kind, upper, shard, n, total, top)
SELECT 0, queue, kind, upper, shard, SUM(n), SUM(total), MAX(top)
FROM folded
GROUP BY queue, kind, upper, shard ORDER BY queue, kind, upper, shard
ON CONFLICT (hour, queue, kind, upper, shard) DO UPDATE
SET n = h.n + excluded.n, total = h.total + excluded.total, top = GREATEST(h.top, excluded.top);

-- queuectl import (storage/restore.py) -----------------------------------------------------

-- name: restore_job
-- A job exactly as exported: every field of Job is a column of the same name.
INSERT INTO jobs (id, command, state, attempts, max_retries, created_at, updated_at, run_at,
                  runs, priority, cwd, env, timeout, exit_code, last_error, worker_id,
                  lease_until, fatal_exit_codes, retry_on_timeout, output_limit,
                  cancel_requested, queue, unique_key, tags, depends_on, waiting_on,
                  backoff_base, backoff_max, jitter, restarted_from, signal_request,
                  paused_run, on_finish, webhook, hook_run, hook_result)
VALUES (%(id)s, %(command)s, %(state)s, %(attempts)s, %(max_retries)s, %(created_at)s,
        %(updated_at)s, %(run_at)s, %(runs)s, %(priority)s, %(cwd)s, %(env)s, %(timeout)s,
        %(exit_code)s, %(last_error)s, %(worker_id)s, %(lease_until)s, %(fatal_exit_codes)s,
        %(retry_on_timeout)s, %(output_limit)s, %(cancel_requested)s, %(queue)s,
        %(unique_key)s, %(tags)s, %(depends_on)s, %(waiting_on)s, %(backoff_base)s,
        %(backoff_max)s, %(jitter)s, %(restarted_from)s, %(signal_request)s,
        %(paused_run)s, %(on_finish)s, %(webhook)s, %(hook_run)s, %(hook_result)s);

-- name: mark_dependencies
-- The jobs that imported jobs depend on.
UPDATE jobs SET has_dependents = true
WHERE id IN (SELECT unnest(depends_on) FROM jobs WHERE id = ANY(%(ids)s)) AND NOT has_dependents;

-- name: restore_attempt
-- An attempt exactly as exported.
INSERT INTO attempts (job_id, number, worker_id, started_at, finished_at, exit_code, error,
                      output, output_dropped)
VALUES (%(job_id)s, %(number)s, %(worker_id)s, %(started_at)s, %(finished_at)s, %(exit_code)s,
        %(error)s, %(output)s, %(output_dropped)s);

-- name: count_restored_runs
-- Imported jobs' finished runs into 0009's rollups, as attempts_finished counts a worker's
-- (and the migration counted the runs stored before it).
WITH runs AS (
    SELECT a.finished_at, a.started_at, a.number, j.queue, j.created_at, (a.exit_code = 0 AND a.error IS NULL) IS TRUE AS ok
    FROM attempts AS a JOIN jobs AS j ON j.id = a.job_id
    WHERE a.job_id = ANY(%(ids)s) AND a.finished_at IS NOT NULL
      AND a.error IS DISTINCT FROM %(interrupted)s
), minutes AS (
    INSERT INTO run_minutes AS m (minute, queue, shard, completed, failed, waited, wait_total)
    SELECT floor(finished_at / 60)::bigint * 60, queue, pg_backend_pid() %% 64,
           COUNT(*) FILTER (WHERE ok), COUNT(*) FILTER (WHERE NOT ok),
           COUNT(*) FILTER (WHERE number = 1),
           COALESCE(SUM(greatest(started_at - created_at, 0)) FILTER (WHERE number = 1), 0)
    FROM runs GROUP BY 1, 2 ORDER BY 1, 2
    ON CONFLICT (minute, queue, shard) DO UPDATE
    SET completed = m.completed + excluded.completed, failed = m.failed + excluded.failed,
        waited = m.waited + excluded.waited, wait_total = m.wait_total + excluded.wait_total
), hours AS (
    INSERT INTO run_hours AS h (hour, queue, kind, upper, shard, n, total, top)
    SELECT hour, queue, kind, (SELECT min(upper) FROM duration_bounds WHERE upper >= took),
           pg_backend_pid() %% 64, COUNT(*), SUM(took), MAX(took)
    FROM (
        SELECT floor(finished_at / 3600)::bigint * 3600 AS hour, queue,
               CASE WHEN ok THEN 0 ELSE 1 END AS kind,
               greatest(finished_at - started_at, 0) AS took
        FROM runs
        UNION ALL
        SELECT floor(finished_at / 3600)::bigint * 3600, queue, 2,
               greatest(started_at - created_at, 0)
        FROM runs WHERE number = 1
    ) AS measured
    GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
    ON CONFLICT (hour, queue, kind, upper, shard) DO UPDATE
    SET n = h.n + excluded.n, total = h.total + excluded.total,
        top = greatest(h.top, excluded.top)
    RETURNING 1
)
SELECT COUNT(*) FROM hours;

-- name: count_restored_deaths
-- Imported jobs that died after running, as jobs_counted counts a worker's.
WITH dead AS (
    SELECT updated_at, queue FROM jobs WHERE id = ANY(%(ids)s) AND state = 'dead' AND runs > 0
), dead_minutes AS (
    INSERT INTO run_minutes AS m (minute, queue, shard, dead)
    SELECT floor(updated_at / 60)::bigint * 60, queue, pg_backend_pid() %% 64, COUNT(*)
    FROM dead GROUP BY 1, 2 ORDER BY 1, 2
    ON CONFLICT (minute, queue, shard) DO UPDATE SET dead = m.dead + excluded.dead
)
INSERT INTO run_hours AS h (hour, queue, kind, upper, shard, n, total, top)
SELECT floor(updated_at / 3600)::bigint * 3600, queue, 3, 0, pg_backend_pid() %% 64, COUNT(*), 0, 0
FROM dead GROUP BY 1, 2 ORDER BY 1, 2
ON CONFLICT (hour, queue, kind, upper, shard) DO UPDATE SET n = h.n + excluded.n;

-- name: restore_schedule
-- A schedule exactly as exported.
INSERT INTO schedules (name, job, cron, every, tz, paused, next_run_at, last_run_at,
                       last_job_id, created_at)
VALUES (%(name)s, %(job)s, %(cron)s, %(every)s, %(tz)s, %(paused)s, %(next_run_at)s,
        %(last_run_at)s, %(last_job_id)s, %(created_at)s);

-- Changing jobs on request (storage/changes.py) ---------------------------------------------

-- name: mark_restart
UPDATE jobs SET restarted_from = %(restarted_from)s WHERE id = %(job_id)s;

-- name: lock_jobs_to_remove
-- Waits for a transaction in flight that locked one of them (an enqueue naming it a
-- dependency: dependency_states), so that live_dependents, a statement of its own, sees the
-- dependent it added; else the remove deleted the job it waits on. In id order: no deadlock.
SELECT id FROM jobs WHERE id = ANY(%(ids)s) ORDER BY id FOR UPDATE;

-- name: live_dependents
-- Jobs that still wait on the job (removing it would leave them waiting for ever).
SELECT id FROM jobs
WHERE depends_on @> ARRAY[%(job_id)s::text] AND state IN ('pending', 'failed', 'processing');

-- name: remove_job
-- Attempts go with the job (ON DELETE CASCADE).
DELETE FROM jobs WHERE id = %(job_id)s AND state <> 'processing' RETURNING id;

-- name: edit_job
UPDATE jobs
SET command = %(command)s, priority = %(priority)s, queue = %(queue)s, run_at = %(run_at)s,
    max_retries = %(max_retries)s, timeout = %(timeout)s,
    retry_on_timeout = %(retry_on_timeout)s, fatal_exit_codes = %(fatal_exit_codes)s,
    backoff_base = %(backoff_base)s, backoff_max = %(backoff_max)s, jitter = %(jitter)s,
    updated_at = %(now)s
WHERE id = %(job_id)s AND state IN ('pending', 'failed')
RETURNING *;

-- Steering running jobs and workers (storage/control.py) -------------------------------------

-- name: request_signal
-- A signal for the worker that runs the job to send its process group at its next check-in.
UPDATE jobs SET signal_request = %(signal)s, signal_run = runs
WHERE id = %(job_id)s AND state = 'processing'
RETURNING *;

-- name: signal_requests_of_worker
SELECT id, runs, signal_request FROM jobs
WHERE worker_id = %(worker_id)s AND state = 'processing' AND signal_request IS NOT NULL
  AND signal_run = runs;

-- name: take_signal_requests
-- Handed to the worker in its check-in: a STOP marks the run paused; any other signal
-- unmarks it (the worker continues a paused job after sending it one, so that it can act on
-- it). A request left from an earlier run is dropped unsent.
UPDATE jobs
SET paused_run = CASE WHEN signal_run <> runs THEN paused_run
                      WHEN signal_request = 'STOP' THEN runs ELSE NULL END,
    signal_request = NULL, signal_run = NULL
WHERE worker_id = %(worker_id)s AND state = 'processing' AND signal_request IS NOT NULL;

-- name: request_slots
-- Workers (one, or those of a host, or all) to run this many jobs at once from now on.
UPDATE workers SET slots_wanted = %(slots)s
WHERE (%(worker_id)s::text IS NULL OR id = %(worker_id)s)
  AND (%(host)s::text IS NULL OR host = %(host)s)
RETURNING id;

-- name: set_worker_slots
-- A worker now runs this many jobs at once.
UPDATE workers SET slots = %(slots)s, slots_wanted = NULL WHERE id = %(worker_id)s;

-- name: count_paused
SELECT COUNT(*) FROM jobs WHERE state = 'processing' AND paused_run = runs;

-- name: paused_jobs_of_workers
-- The jobs a graceful stop of these workers waits for until they are resumed (worker stop).
SELECT id FROM jobs
WHERE state = 'processing' AND paused_run = runs AND worker_id = ANY(%(worker_ids)s)
ORDER BY id;

-- Completion hooks (storage/hooks.py, hooks.py) --------------------------------------------
-- A job with a hook is due once it is final and its hook has not been taken for this run;
-- the partial index jobs_hooks_due holds only jobs with hooks not yet run.

-- name: any_hook_due
SELECT 1 FROM jobs
WHERE (on_finish IS NOT NULL OR webhook IS NOT NULL) AND hook_run IS DISTINCT FROM runs
  AND state IN ('completed', 'dead', 'canceled') LIMIT 1;

-- name: take_due_hooks
-- Taken once (at most once: a worker that dies running one does not run it again).
UPDATE jobs SET hook_run = runs
WHERE id IN (SELECT id FROM jobs
             WHERE (on_finish IS NOT NULL OR webhook IS NOT NULL)
               AND hook_run IS DISTINCT FROM runs
               AND state IN ('completed', 'dead', 'canceled')
             ORDER BY updated_at LIMIT %(limit)s FOR UPDATE SKIP LOCKED)
RETURNING *;

-- name: record_hook
UPDATE jobs SET hook_result = %(result)s WHERE id = %(job_id)s;

