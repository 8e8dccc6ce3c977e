-- Targeted wake-ups. A worker whose claim came up short (it has free slots and found nothing
-- to run) is listed here with how many jobs it would take; an enqueue, after its commit,
-- wakes only as many of them as its jobs need (wake_idle_workers), each on a channel of its
-- own, instead of every idle worker on every host.
CREATE TABLE idle_workers (
    worker_id  text PRIMARY KEY,
    free       integer NOT NULL,           -- jobs it would claim now
    since      double precision NOT NULL
);

-- Wake idle workers until their free slots cover ``jobs`` (NULL: all of them), each taken off
-- the list as it is woken; the most recently idle first (a worker that died idle, whose row
-- stays until its registration is forgotten, is the last one tried). Called after the commit that made the jobs visible, so that a
-- worker listed too late to be seen here claimed after that commit, and found them. Two
-- callers at once wake different workers (SKIP LOCKED). It never fails: it runs after a
-- COMMIT, in the same round trip, where an error would read as a failed commit.
CREATE FUNCTION wake_idle_workers(jobs integer) RETURNS integer LANGUAGE plpgsql
SET search_path FROM CURRENT AS $$
DECLARE
    woken integer := 0;
    covered integer := 0;
    idle record;
BEGIN
    FOR idle IN
        SELECT worker_id, free FROM idle_workers ORDER BY since DESC, worker_id
        FOR UPDATE SKIP LOCKED
    LOOP
        EXIT WHEN jobs IS NOT NULL AND covered >= jobs;
        DELETE FROM idle_workers WHERE worker_id = idle.worker_id;
        -- The channel is worker_channel() in storage/postgres/wakeup.py.
        PERFORM pg_notify('qw' || substr(md5(current_schema() || '/' || idle.worker_id), 1, 24),
                          'j');
        covered := covered + idle.free;
        woken := woken + 1;
    END LOOP;
    RETURN woken;
EXCEPTION WHEN OTHERS THEN
    RETURN -1;  -- the workers' fallback poll finds the jobs
END;
$$;
