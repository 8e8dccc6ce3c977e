-- Counts and statistics kept as the jobs change, read by status, the dashboard, /metrics
-- and stats instead of a scan of every job or run (issue 14: 1 to 7 s at a million jobs).
-- Triggers keep them in the transaction that changes a job, whoever changes it (a worker, a
-- rescue, a cancel), the same way as the PostgreSQL store (whose rows are also spread over
-- shards: see its 0009). New jobs and imported runs are counted by the statements that
-- store them (count_new_jobs, count_restored_runs). Finished runs are never taken out of the statistics:
-- purging a job leaves what its runs did in the counters, as Prometheus counters expect.

-- Jobs per queue and state. (shard: always 0 here, where writers take turns anyway.)
CREATE TABLE job_counts (
    queue  TEXT    NOT NULL,
    state  TEXT    NOT NULL,
    shard  INTEGER NOT NULL DEFAULT 0,
    n      INTEGER NOT NULL,
    PRIMARY KEY (queue, state, shard)
) WITHOUT ROWID;
INSERT INTO job_counts (queue, state, n) SELECT queue, state, COUNT(*) FROM jobs GROUP BY 1, 2;

-- Finished runs per queue and minute (its first second): what a chart and a window's counts
-- need. waited/wait_total: first runs and their wait from enqueue to start (seconds).
CREATE TABLE run_minutes (
    minute      INTEGER NOT NULL,
    queue       TEXT    NOT NULL,
    shard       INTEGER NOT NULL DEFAULT 0,
    completed   INTEGER NOT NULL DEFAULT 0,
    failed      INTEGER NOT NULL DEFAULT 0,
    dead        INTEGER NOT NULL DEFAULT 0,
    waited      INTEGER NOT NULL DEFAULT 0,
    wait_total  REAL    NOT NULL DEFAULT 0,
    PRIMARY KEY (minute, queue, shard)
) WITHOUT ROWID;

-- Histograms per queue and hour (its first second) of run time (kind 0: completed runs,
-- 1: failed runs) and of first runs' wait (kind 2); kind 3 counts jobs that died (upper 0).
-- upper is the bucket's bound from duration_bounds: n values at or under it and above the
-- bound before, totalling total, the largest top. Percentiles of long windows and /metrics'
-- histograms come from these (the bounds include every bound of stats.DURATION_BUCKETS).
CREATE TABLE run_hours (
    hour   INTEGER NOT NULL,
    queue  TEXT    NOT NULL,
    kind   INTEGER NOT NULL,
    upper  REAL    NOT NULL,
    shard  INTEGER NOT NULL DEFAULT 0,
    n      INTEGER NOT NULL,
    total  REAL    NOT NULL,
    top    REAL    NOT NULL,
    PRIMARY KEY (hour, queue, kind, upper, shard)
) WITHOUT ROWID;

-- Bucket bounds in seconds, 1 ms to a week, each at most 25% above the one before.
CREATE TABLE duration_bounds (upper REAL PRIMARY KEY) WITHOUT ROWID;
INSERT INTO duration_bounds (upper) VALUES
    (0.001), (0.00125), (0.0015), (0.002), (0.0025), (0.003), (0.004), (0.005), (0.006),
    (0.008), (0.01), (0.0125), (0.015), (0.02), (0.025), (0.03), (0.04), (0.05), (0.06),
    (0.08), (0.1), (0.125), (0.15), (0.2), (0.25), (0.3), (0.4), (0.5), (0.6), (0.8), (1),
    (1.25), (1.5), (2), (2.5), (3), (4), (5), (6), (8), (10), (12.5), (15), (20), (25), (30),
    (40), (50), (60), (80), (100), (125), (150), (200), (250), (300), (400), (500), (600),
    (800), (900), (1000), (1250), (1500), (2000), (2500), (3000), (3600), (4000), (5000),
    (6000), (8000), (10000), (12500), (15000), (20000), (25000), (30000), (40000), (50000),
    (60000), (80000), (100000), (125000), (150000), (200000), (250000), (300000), (400000),
    (500000), (600000), (604800), (9e999);

-- New jobs are counted by the store after it inserted them (count_new_jobs in queries.sql):
-- a trigger per row would cost a bulk enqueue half again the time of its inserts.
CREATE TRIGGER jobs_counted_delete AFTER DELETE ON jobs
BEGIN
    UPDATE job_counts SET n = n - 1 WHERE queue = OLD.queue AND state = OLD.state AND shard = 0;
END;

-- A job that changes state (or queue) moves from one count to another; a run that ends its
-- job dead counts as a death in its minute and hour.
CREATE TRIGGER jobs_counted_update AFTER UPDATE OF state, queue ON jobs
WHEN NEW.state IS NOT OLD.state OR NEW.queue IS NOT OLD.queue
BEGIN
    UPDATE job_counts SET n = n - 1 WHERE queue = OLD.queue AND state = OLD.state AND shard = 0;
    INSERT INTO job_counts (queue, state, n) VALUES (NEW.queue, NEW.state, 1)
    ON CONFLICT (queue, state, shard) DO UPDATE SET n = n + 1;
    INSERT INTO run_minutes (minute, queue, dead)
    SELECT CAST(NEW.updated_at / 60 AS INTEGER) * 60, NEW.queue, 1
    WHERE NEW.state = 'dead' AND OLD.state = 'processing'
    ON CONFLICT (minute, queue, shard) DO UPDATE SET dead = dead + 1;
    INSERT INTO run_hours (hour, queue, kind, upper, n, total, top)
    SELECT CAST(NEW.updated_at / 3600 AS INTEGER) * 3600, NEW.queue, 3, 0, 1, 0, 0
    WHERE NEW.state = 'dead' AND OLD.state = 'processing'
    ON CONFLICT (hour, queue, kind, upper, shard) DO UPDATE SET n = n + 1;
END;

-- A run that finishes (its attempt gets finished_at) counts in its minute and hour, unless a
-- forced stop interrupted it (then it was no attempt: see stats.FinishedRun).
CREATE TRIGGER attempts_finished AFTER UPDATE OF finished_at ON attempts
WHEN OLD.finished_at IS NULL AND NEW.finished_at IS NOT NULL
 AND NEW.error IS NOT 'interrupted by a forced stop (not counted as an attempt)'
BEGIN
    INSERT INTO run_minutes (minute, queue, completed, failed, waited, wait_total)
    SELECT CAST(NEW.finished_at / 60 AS INTEGER) * 60, j.queue,
           NEW.exit_code IS 0 AND NEW.error IS NULL, NOT (NEW.exit_code IS 0 AND NEW.error IS NULL),
           NEW.number = 1, CASE WHEN NEW.number = 1 THEN max(NEW.started_at - j.created_at, 0) ELSE 0 END
    FROM jobs AS j WHERE j.id = NEW.job_id
    ON CONFLICT (minute, queue, shard) DO UPDATE
    SET completed = completed + excluded.completed, failed = failed + excluded.failed,
        waited = waited + excluded.waited, wait_total = wait_total + excluded.wait_total;
    INSERT INTO run_hours (hour, queue, kind, upper, n, total, top)
    SELECT CAST(NEW.finished_at / 3600 AS INTEGER) * 3600, j.queue,
           NOT (NEW.exit_code IS 0 AND NEW.error IS NULL),
           (SELECT min(upper) FROM duration_bounds WHERE upper >= max(NEW.finished_at - NEW.started_at, 0)),
           1, max(NEW.finished_at - NEW.started_at, 0), max(NEW.finished_at - NEW.started_at, 0)
    FROM jobs AS j WHERE j.id = NEW.job_id
    ON CONFLICT (hour, queue, kind, upper, shard) DO UPDATE
    SET n = n + 1, total = total + excluded.total, top = max(top, excluded.top);
    INSERT INTO run_hours (hour, queue, kind, upper, n, total, top)
    SELECT CAST(NEW.finished_at / 3600 AS INTEGER) * 3600, j.queue, 2,
           (SELECT min(upper) FROM duration_bounds WHERE upper >= max(NEW.started_at - j.created_at, 0)),
           1, max(NEW.started_at - j.created_at, 0), max(NEW.started_at - j.created_at, 0)
    FROM jobs AS j WHERE j.id = NEW.job_id AND NEW.number = 1
    ON CONFLICT (hour, queue, kind, upper, shard) DO UPDATE
    SET n = n + 1, total = total + excluded.total, top = max(top, excluded.top);
END;

-- The runs and deaths already stored.
INSERT INTO run_minutes (minute, queue, completed, failed, waited, wait_total)
SELECT CAST(a.finished_at / 60 AS INTEGER) * 60 AS minute, j.queue,
       SUM(a.exit_code IS 0 AND a.error IS NULL), SUM(NOT (a.exit_code IS 0 AND a.error IS NULL)),
       SUM(a.number = 1), TOTAL(CASE WHEN a.number = 1 THEN max(a.started_at - j.created_at, 0) ELSE 0 END)
FROM attempts AS a JOIN jobs AS j ON j.id = a.job_id
WHERE a.finished_at IS NOT NULL AND a.error IS NOT 'interrupted by a forced stop (not counted as an attempt)'
GROUP BY 1, 2;
INSERT INTO run_minutes (minute, queue, dead)
SELECT CAST(updated_at / 60 AS INTEGER) * 60 AS minute, queue, COUNT(*)
FROM jobs WHERE state = 'dead' AND runs > 0 GROUP BY 1, 2 ORDER BY 1, 2
ON CONFLICT (minute, queue, shard) DO UPDATE SET dead = excluded.dead;
INSERT INTO run_hours (hour, queue, kind, upper, n, total, top)
SELECT hour, queue, kind, (SELECT min(upper) FROM duration_bounds WHERE upper >= took) AS upper,
       COUNT(*), TOTAL(took), MAX(took)
FROM (
    SELECT CAST(a.finished_at / 3600 AS INTEGER) * 3600 AS hour, j.queue,
           NOT (a.exit_code IS 0 AND a.error IS NULL) AS kind,
           max(a.finished_at - a.started_at, 0) AS took
    FROM attempts AS a JOIN jobs AS j ON j.id = a.job_id
    WHERE a.finished_at IS NOT NULL AND a.error IS NOT 'interrupted by a forced stop (not counted as an attempt)'
    UNION ALL
    SELECT CAST(a.finished_at / 3600 AS INTEGER) * 3600, j.queue, 2,
           max(a.started_at - j.created_at, 0)
    FROM attempts AS a JOIN jobs AS j ON j.id = a.job_id
    WHERE a.finished_at IS NOT NULL AND a.error IS NOT 'interrupted by a forced stop (not counted as an attempt)' AND a.number = 1
) AS runs
GROUP BY 1, 2, 3, 4;
INSERT INTO run_hours (hour, queue, kind, upper, n, total, top)
SELECT CAST(updated_at / 3600 AS INTEGER) * 3600, queue, 3, 0, COUNT(*), 0, 0
FROM jobs WHERE state = 'dead' AND runs > 0 GROUP BY 1, 2;
