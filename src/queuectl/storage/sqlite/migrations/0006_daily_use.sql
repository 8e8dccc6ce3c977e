-- What day-to-day use needs: numbered jobs, restarts.

-- Jobs enqueued without an id are numbered 1, 2, 3... (as pueue and tsp number theirs). The
-- next number starts above every id that is a number already, so that none is given twice.
CREATE TABLE job_numbers (next INTEGER NOT NULL);
INSERT INTO job_numbers (next)
SELECT COALESCE(MAX(CAST(id AS INTEGER)), 0) + 1 FROM jobs
WHERE id NOT GLOB '*[^0-9]*' AND id NOT GLOB '0*' AND length(id) BETWEEN 1 AND 18;

-- queuectl restart: the job a job runs again.
ALTER TABLE jobs ADD COLUMN restarted_from TEXT;
