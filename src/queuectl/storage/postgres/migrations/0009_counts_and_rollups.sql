-- Counts and statistics kept as the jobs change, as in the SQLite store (see its 0009): jobs
-- per queue and state, finished runs per queue and minute, histograms per queue and hour.
-- Triggers run once per statement over its transition tables, so a batch claim pays once.
-- Every row has a shard, the writing session's backend pid modulo 64: workers that claim
-- and finish at the same time write rows of their own instead of queueing on one hot row
-- per queue (a single counter row would serialize every claim). Readers sum the shards.

CREATE TABLE job_counts (
    queue  text    NOT NULL,
    state  text    NOT NULL,
    shard  integer NOT NULL DEFAULT 0,
    n      bigint  NOT NULL,
    PRIMARY KEY (queue, state, shard)
);
INSERT INTO job_counts (queue, state, n) SELECT queue, state, COUNT(*) FROM jobs GROUP BY 1, 2;

CREATE TABLE run_minutes (
    minute      bigint  NOT NULL,
    queue       text    NOT NULL,
    shard       integer NOT NULL DEFAULT 0,
    completed   bigint  NOT NULL DEFAULT 0,
    failed      bigint  NOT NULL DEFAULT 0,
    dead        bigint  NOT NULL DEFAULT 0,
    waited      bigint  NOT NULL DEFAULT 0,
    wait_total  double precision NOT NULL DEFAULT 0,
    PRIMARY KEY (minute, queue, shard)
);

CREATE TABLE run_hours (
    hour   bigint  NOT NULL,
    queue  text    NOT NULL,
    kind   integer NOT NULL,
    upper  double precision NOT NULL,
    shard  integer NOT NULL DEFAULT 0,
    n      bigint  NOT NULL,
    total  double precision NOT NULL,
    top    double precision NOT NULL,
    PRIMARY KEY (hour, queue, kind, upper, shard)
);

CREATE TABLE duration_bounds (upper double precision PRIMARY KEY);
INSERT INTO duration_bounds (upper) VALUES
    (0.001), (0.00125), (0.0015), (0.002), (0.0025), (0.003), (0.004), (0.005), (0.006),
    (0.008), (0.01), (0.0125), (0.015), (0.02), (0.025), (0.03), (0.04), (0.05), (0.06),
    (0.08), (0.1), (0.125), (0.15), (0.2), (0.25), (0.3), (0.4), (0.5), (0.6), (0.8), (1),
    (1.25), (1.5), (2), (2.5), (3), (4), (5), (6), (8), (10), (12.5), (15), (20), (25), (30),
    (40), (50), (60), (80), (100), (125), (150), (200), (250), (300), (400), (500), (600),
    (800), (900), (1000), (1250), (1500), (2000), (2500), (3000), (3600), (4000), (5000),
    (6000), (8000), (10000), (12500), (15000), (20000), (25000), (30000), (40000), (50000),
    (60000), (80000), (100000), (125000), (150000), (200000), (250000), (300000), (400000),
    (500000), (600000), (604800), ('Infinity');

-- Jobs in, out, or from one state (or queue) to another; a run that ends its job dead.
CREATE FUNCTION jobs_counted() RETURNS trigger LANGUAGE plpgsql
SET search_path FROM CURRENT
-- A claim turns sorting off for its own walk (driver.py); these small aggregates need it.
SET enable_sort = on AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO job_counts AS c (queue, state, shard, n)
        SELECT queue, state, pg_backend_pid() % 64, COUNT(*) FROM new_rows
        GROUP BY queue, state ORDER BY queue, state
        ON CONFLICT (queue, state, shard) DO UPDATE SET n = c.n + excluded.n;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO job_counts AS c (queue, state, shard, n)
        SELECT queue, state, pg_backend_pid() % 64, -COUNT(*) FROM old_rows
        GROUP BY queue, state ORDER BY queue, state
        ON CONFLICT (queue, state, shard) DO UPDATE SET n = c.n + excluded.n;
    ELSE
        INSERT INTO job_counts AS c (queue, state, shard, n)
        SELECT queue, state, pg_backend_pid() % 64, SUM(change) FROM (
            SELECT queue, state, 1 AS change FROM new_rows
            UNION ALL SELECT queue, state, -1 FROM old_rows) AS changes
        GROUP BY queue, state HAVING SUM(change) <> 0 ORDER BY queue, state
        ON CONFLICT (queue, state, shard) DO UPDATE SET n = c.n + excluded.n;
        IF NOT EXISTS (SELECT 1 FROM new_rows WHERE state = 'dead') THEN
            RETURN NULL;
        END IF;
        INSERT INTO run_minutes AS m (minute, queue, shard, dead)
        SELECT floor(n.updated_at / 60)::bigint * 60, n.queue, pg_backend_pid() % 64, COUNT(*)
        FROM new_rows AS n JOIN old_rows AS o ON o.seq = n.seq
        WHERE n.state = 'dead' AND o.state = 'processing'
        GROUP BY 1, 2 ORDER BY 1, 2
        ON CONFLICT (minute, queue, shard) DO UPDATE SET dead = m.dead + excluded.dead;
        INSERT INTO run_hours AS h (hour, queue, kind, upper, shard, n, total, top)
        SELECT floor(n.updated_at / 3600)::bigint * 3600, n.queue, 3, 0, pg_backend_pid() % 64,
               COUNT(*), 0, 0
        FROM new_rows AS n JOIN old_rows AS o ON o.seq = n.seq
        WHERE n.state = 'dead' AND o.state = 'processing'
        GROUP BY 1, 2 ORDER BY 1, 2
        ON CONFLICT (hour, queue, kind, upper, shard) DO UPDATE SET n = h.n + excluded.n;
    END IF;
    RETURN NULL;
END;
$$;
CREATE TRIGGER jobs_counted_insert AFTER INSERT ON jobs REFERENCING NEW TABLE AS new_rows
FOR EACH STATEMENT EXECUTE FUNCTION jobs_counted();
CREATE TRIGGER jobs_counted_delete AFTER DELETE ON jobs REFERENCING OLD TABLE AS old_rows
FOR EACH STATEMENT EXECUTE FUNCTION jobs_counted();
CREATE TRIGGER jobs_counted_update AFTER UPDATE ON jobs
REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
FOR EACH STATEMENT EXECUTE FUNCTION jobs_counted();

-- A run that finishes (its attempt gets finished_at) counts in its minute and hour, unless a
-- forced stop interrupted it (then it was no attempt: see stats.FinishedRun). Imported runs
-- are counted by the statement that restores them (count_restored_runs).
CREATE FUNCTION attempts_finished() RETURNS trigger LANGUAGE plpgsql
SET search_path FROM CURRENT
-- A claim turns sorting off for its own walk (driver.py); these small aggregates need it.
SET enable_sort = on AS $$
BEGIN
    WITH r AS (SELECT n.job_id, n.number, n.started_at, n.finished_at, (n.exit_code = 0
                 AND n.error IS NULL) IS TRUE AS ok
               FROM new_rows AS n JOIN old_rows AS o USING (job_id, number)
               WHERE o.finished_at IS NULL AND n.finished_at IS NOT NULL
                 AND n.error IS DISTINCT FROM 'interrupted by a forced stop (not counted as an attempt)')
    INSERT INTO run_minutes AS m (minute, queue, shard, completed, failed, waited, wait_total)
    SELECT floor(r.finished_at / 60)::bigint * 60, j.queue, pg_backend_pid() % 64,
           COUNT(*) FILTER (WHERE r.ok), COUNT(*) FILTER (WHERE NOT r.ok),
           COUNT(*) FILTER (WHERE r.number = 1),
           COALESCE(SUM(greatest(r.started_at - j.created_at, 0))
                    FILTER (WHERE r.number = 1), 0)
    FROM r JOIN jobs AS j ON j.id = r.job_id
    GROUP BY 1, 2 ORDER BY 1, 2
    ON CONFLICT (minute, queue, shard) DO UPDATE
    SET completed = m.completed + excluded.completed, failed = m.failed + excluded.failed,
        waited = m.waited + excluded.waited, wait_total = m.wait_total + excluded.wait_total;
    WITH r AS (SELECT n.job_id, n.number, n.started_at, n.finished_at, (n.exit_code = 0
                 AND n.error IS NULL) IS TRUE AS ok
               FROM new_rows AS n JOIN old_rows AS o USING (job_id, number)
               WHERE o.finished_at IS NULL AND n.finished_at IS NOT NULL
                 AND n.error IS DISTINCT FROM 'interrupted by a forced stop (not counted as an attempt)')
    INSERT INTO run_hours AS h (hour, queue, kind, upper, shard, n, total, top)
    SELECT hour, queue, kind, (SELECT min(upper) FROM duration_bounds WHERE upper >= took),
           pg_backend_pid() % 64, COUNT(*), SUM(took), MAX(took)
    FROM (
        SELECT floor(r.finished_at / 3600)::bigint * 3600 AS hour, j.queue,
               CASE WHEN r.ok THEN 0 ELSE 1 END AS kind,
               greatest(r.finished_at - r.started_at, 0) AS took
        FROM r JOIN jobs AS j ON j.id = r.job_id
        UNION ALL
        SELECT floor(r.finished_at / 3600)::bigint * 3600, j.queue, 2,
               greatest(r.started_at - j.created_at, 0)
        FROM r JOIN jobs AS j ON j.id = r.job_id
               WHERE r.number = 1
    ) AS runs
    GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
    ON CONFLICT (hour, queue, kind, upper, shard) DO UPDATE
    SET n = h.n + excluded.n, total = h.total + excluded.total,
        top = greatest(h.top, excluded.top);
    RETURN NULL;
END;
$$;
CREATE TRIGGER attempts_finished_update AFTER UPDATE ON attempts
REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
FOR EACH STATEMENT EXECUTE FUNCTION attempts_finished();

-- The runs and deaths already stored.
INSERT INTO run_minutes (minute, queue, completed, failed, waited, wait_total)
SELECT floor(a.finished_at / 60)::bigint * 60, j.queue,
       COUNT(*) FILTER (WHERE (a.exit_code = 0 AND a.error IS NULL) IS TRUE),
       COUNT(*) FILTER (WHERE (a.exit_code = 0 AND a.error IS NULL) IS NOT TRUE),
       COUNT(*) FILTER (WHERE a.number = 1),
       COALESCE(SUM(greatest(a.started_at - j.created_at, 0)) FILTER (WHERE a.number = 1), 0)
FROM attempts AS a JOIN jobs AS j ON j.id = a.job_id
WHERE a.finished_at IS NOT NULL AND a.error IS DISTINCT FROM 'interrupted by a forced stop (not counted as an attempt)'
GROUP BY 1, 2;
INSERT INTO run_minutes AS m (minute, queue, dead)
SELECT floor(updated_at / 60)::bigint * 60, queue, COUNT(*)
FROM jobs WHERE state = 'dead' AND runs > 0 GROUP BY 1, 2
ON CONFLICT (minute, queue, shard) DO UPDATE SET dead = excluded.dead;
INSERT INTO run_hours (hour, queue, kind, upper, n, total, top)
SELECT hour, queue, kind, (SELECT min(upper) FROM duration_bounds WHERE upper >= took),
       COUNT(*), SUM(took), MAX(took)
FROM (
    SELECT floor(a.finished_at / 3600)::bigint * 3600 AS hour, j.queue,
           CASE WHEN (a.exit_code = 0 AND a.error IS NULL) IS TRUE THEN 0 ELSE 1 END AS kind,
           greatest(a.finished_at - a.started_at, 0) AS took
    FROM attempts AS a JOIN jobs AS j ON j.id = a.job_id
    WHERE a.finished_at IS NOT NULL AND a.error IS DISTINCT FROM 'interrupted by a forced stop (not counted as an attempt)'
    UNION ALL
    SELECT floor(a.finished_at / 3600)::bigint * 3600, j.queue, 2,
           greatest(a.started_at - j.created_at, 0)
    FROM attempts AS a JOIN jobs AS j ON j.id = a.job_id
    WHERE a.finished_at IS NOT NULL AND a.error IS DISTINCT FROM 'interrupted by a forced stop (not counted as an attempt)'
      AND a.number = 1
) AS runs
GROUP BY 1, 2, 3, 4;
INSERT INTO run_hours (hour, queue, kind, upper, n, total, top)
SELECT floor(updated_at / 3600)::bigint * 3600, queue, 3, 0, COUNT(*), 0, 0
FROM jobs WHERE state = 'dead' AND runs > 0 GROUP BY 1, 2;
