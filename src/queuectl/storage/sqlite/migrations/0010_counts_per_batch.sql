-- A worker's batch of results counted at once (storage/run_counts.py), not by the triggers of
-- 0009 a row at a time: their upserts for each finished run and each job that moved on were a
-- quarter of the database work a worker does for a short job (issue 15).

-- Holds its one row only inside a worker's transaction that records results, from the first
-- result to the sums (storage/claims.py): meanwhile the triggers below leave the runs closed
-- and the jobs moved on from 'processing' to those sums. A transaction that fails takes the
-- row with it, so no other writer ever finds it.
CREATE TABLE counting_deferred (only INTEGER PRIMARY KEY CHECK (only = 1));

DROP TRIGGER attempts_finished;
CREATE TRIGGER attempts_finished AFTER UPDATE OF finished_at ON attempts
WHEN OLD.finished_at IS NULL AND NEW.finished_at IS NOT NULL
 AND NEW.error IS NOT 'interrupted by a forced stop (not counted as an attempt)'
 AND NOT EXISTS (SELECT 1 FROM counting_deferred)
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

-- The counts per queue and state, as in 0009; deaths in a trigger of their own below, so that
-- a claim runs two statements here rather than four.
DROP TRIGGER jobs_counted_update;
CREATE TRIGGER jobs_counted_update AFTER UPDATE OF state, queue ON jobs
WHEN (NEW.state IS NOT OLD.state OR NEW.queue IS NOT OLD.queue)
 AND NOT (OLD.state = 'processing' AND EXISTS (SELECT 1 FROM counting_deferred))
BEGIN
    UPDATE job_counts SET n = n - 1 WHERE queue = OLD.queue AND state = OLD.state AND shard = 0;
    INSERT INTO job_counts (queue, state, n) VALUES (NEW.queue, NEW.state, 1)
    ON CONFLICT (queue, state, shard) DO UPDATE SET n = n + 1;
END;

-- A run that ends its job dead counts as a death in its minute and hour.
CREATE TRIGGER jobs_died_running AFTER UPDATE OF state ON jobs
WHEN NEW.state = 'dead' AND OLD.state = 'processing'
 AND NOT EXISTS (SELECT 1 FROM counting_deferred)
BEGIN
    INSERT INTO run_minutes (minute, queue, dead)
    VALUES (CAST(NEW.updated_at / 60 AS INTEGER) * 60, NEW.queue, 1)
    ON CONFLICT (minute, queue, shard) DO UPDATE SET dead = dead + 1;
    INSERT INTO run_hours (hour, queue, kind, upper, n, total, top)
    VALUES (CAST(NEW.updated_at / 3600 AS INTEGER) * 3600, NEW.queue, 3, 0, 1, 0, 0)
    ON CONFLICT (hour, queue, kind, upper, shard) DO UPDATE SET n = n + 1;
END;
