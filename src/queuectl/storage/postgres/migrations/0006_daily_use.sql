-- What day-to-day use needs: numbered jobs, restarts.

-- Jobs enqueued without an id are numbered 1, 2, 3... (as pueue and tsp number theirs). The
-- next number starts above every id that is a number already, so that none is given twice.
-- (A row rather than a sequence: a sequence cannot hand out a run of numbers at once, and
-- its numbers would not follow the ids that imports and users give.)
CREATE TABLE job_numbers (next bigint NOT NULL);
INSERT INTO job_numbers (next)
SELECT COALESCE(MAX(id::bigint), 0) + 1 FROM jobs WHERE id ~ '^[1-9][0-9]{0,17}$';

-- queuectl restart: the job a job runs again.
ALTER TABLE jobs ADD COLUMN restarted_from text;
