-- The rules that follow a job's row, the same as in the SQLite store (whose 0005 brings its
-- triggers level with these): the dependency trigger counts dependents down and kills them,
-- and the store, not the trigger, wakes the workers when a job with dependents completes
-- (both stores do it the same way, one NOTIFY per transaction).
CREATE OR REPLACE FUNCTION jobs_dependency_changed() RETURNS trigger LANGUAGE plpgsql
-- The store's schema, whatever the search_path of the session that fires the trigger.
SET search_path FROM CURRENT AS $$
BEGIN
    IF NEW.state = 'completed' AND OLD.state <> 'completed' THEN
        UPDATE jobs SET waiting_on = waiting_on - 1
        WHERE depends_on @> ARRAY[NEW.id];
    ELSIF NEW.state IN ('dead', 'canceled') AND OLD.state NOT IN ('dead', 'canceled') THEN
        UPDATE jobs
        SET state = 'dead', last_error = 'dependency ' || NEW.id || ' dead',
            updated_at = NEW.updated_at
        WHERE depends_on @> ARRAY[NEW.id] AND state IN ('pending', 'failed');
    END IF;
    RETURN NULL;
END;
$$;
