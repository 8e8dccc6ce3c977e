-- Named statements of the SQLite store's reads for the dashboard, stats and status --watch
-- (see sqlite_reads.py). Job listings page by keyset on seq (newest first): each page walks
-- the primary key, or jobs_by_state (state, seq) when a state is given, and stops after :limit
-- rows, so page 1000 costs what page 1 costs. A :queue filter has no index of its own: it
-- skips other queues' rows on the same walk.

-- name: search_jobs_older
SELECT * FROM jobs
WHERE seq < :cursor
  AND (:text IS NULL OR instr(lower(id || char(10) || command), :text) > 0)
  AND (:queue IS NULL OR queue = :queue)
ORDER BY seq DESC LIMIT :limit;

-- name: search_jobs_older_in_state
SELECT * FROM jobs
WHERE state = :state AND seq < :cursor
  AND (:text IS NULL OR instr(lower(id || char(10) || command), :text) > 0)
  AND (:queue IS NULL OR queue = :queue)
ORDER BY seq DESC LIMIT :limit;

-- name: search_jobs_newer
SELECT * FROM jobs
WHERE seq > :cursor
  AND (:text IS NULL OR instr(lower(id || char(10) || command), :text) > 0)
  AND (:queue IS NULL OR queue = :queue)
ORDER BY seq ASC LIMIT :limit;

-- name: search_jobs_newer_in_state
SELECT * FROM jobs
WHERE state = :state AND seq > :cursor
  AND (:text IS NULL OR instr(lower(id || char(10) || command), :text) > 0)
  AND (:queue IS NULL OR queue = :queue)
ORDER BY seq ASC LIMIT :limit;

-- name: running_jobs
SELECT j.*, a.started_at AS run_started_at
FROM jobs j JOIN attempts a ON a.job_id = j.id AND a.number = j.runs
WHERE j.state = 'processing'
ORDER BY a.started_at LIMIT :limit;

-- name: finished_runs
-- attempts_by_finish serves the range; attempts being WITHOUT ROWID, that index also holds
-- (job_id, number), so the keyset order needs no sort.
SELECT a.job_id, a.number, j.queue, j.created_at, a.started_at, a.finished_at,
       (a.exit_code IS 0 AND a.error IS NULL) AS succeeded,
       (j.state = 'dead' AND a.number = j.runs) AS ended_dead,
       (a.error IS :interrupted) AS interrupted
FROM attempts a JOIN jobs j ON j.id = a.job_id
WHERE a.finished_at >= :after_at AND a.finished_at < :until
  AND (a.finished_at, a.job_id, a.number) > (:after_at, :after_job, :after_number)
ORDER BY a.finished_at, a.job_id, a.number
LIMIT :limit;

-- name: latest_runs
-- The run numbered jobs.runs is the job's latest; :ids is a JSON array of job ids.
SELECT a.job_id, a.started_at, a.finished_at
FROM jobs j JOIN attempts a ON a.job_id = j.id AND a.number = j.runs
WHERE j.id IN (SELECT value FROM json_each(:ids));

-- name: delete_finished_job
-- Attempts go with the job (ON DELETE CASCADE).
DELETE FROM jobs WHERE id = :job_id AND state IN ('completed', 'dead', 'canceled')
RETURNING id;
