-- The rules that follow a job's row are kept by the database, as in the PostgreSQL store:
-- attempts opened and undone with the run count, and the counts of dependencies not
-- completed. Whatever finishes a job (a
-- worker, a rescue, a cancel), the database keeps them right, and the store's code is the
-- same for both databases. Each trigger's WHEN clause lets the jobs it does not concern
-- pass at the cost of one comparison. (No trigger on INSERT: it would cost a bulk enqueue
-- a third of its time, so the store writes the lookup tables of tags and dependencies.)

-- Set on a job once another depends on it: only such jobs fire jobs_dependency_changed.
ALTER TABLE jobs ADD COLUMN has_dependents INTEGER NOT NULL DEFAULT 0;
UPDATE jobs SET has_dependents = 1 WHERE id IN (SELECT depends_on FROM job_dependencies);

-- A claim (runs + 1) opens the run's attempt; a claim undone before the run started (runs - 1)
-- removes it. PostgreSQL does the same in its claim and unclaim statements. (One trigger for
-- both: every claim pays for each trigger it passes.)
CREATE TRIGGER jobs_run_changed AFTER UPDATE OF runs ON jobs WHEN NEW.runs <> OLD.runs
BEGIN
    INSERT INTO attempts (job_id, number, worker_id, started_at)
    SELECT NEW.id, NEW.runs, NEW.worker_id, NEW.updated_at WHERE NEW.runs > OLD.runs;
    DELETE FROM attempts WHERE NEW.runs < OLD.runs AND job_id = NEW.id AND number = OLD.runs;
END;

-- A dependency that completes: its dependents wait on one job fewer. One that ends dead or
-- canceled: its waiting dependents die, visible in the dead letter queue, and theirs in turn
-- (the UPDATE fires this trigger again: the driver sets PRAGMA recursive_triggers).
CREATE TRIGGER jobs_dependency_changed AFTER UPDATE OF state ON jobs
WHEN NEW.has_dependents AND NEW.state IS NOT OLD.state
BEGIN
    UPDATE jobs SET waiting_on = waiting_on - 1
    WHERE NEW.state = 'completed'
      AND id IN (SELECT job_id FROM job_dependencies WHERE depends_on = NEW.id);
    UPDATE jobs
    SET state = 'dead', last_error = 'dependency ' || NEW.id || ' dead',
        updated_at = NEW.updated_at
    WHERE NEW.state IN ('dead', 'canceled') AND OLD.state NOT IN ('dead', 'canceled')
      AND id IN (SELECT job_id FROM job_dependencies WHERE depends_on = NEW.id)
      AND +state IN ('pending', 'failed');  -- +: find the rows by id, not every waiting job
END;
