-- Completion hooks: a command and a webhook URL per job (the configured ones are copied
-- into each job enqueued while they are set), which of the job's runs the hook was taken
-- for, and what came of it (JSON). Only jobs with a hook not yet run are in the index, so
-- that looking for due hooks costs nothing where no job has one.
ALTER TABLE jobs ADD COLUMN on_finish text;
ALTER TABLE jobs ADD COLUMN webhook text;
ALTER TABLE jobs ADD COLUMN hook_run integer;
ALTER TABLE jobs ADD COLUMN hook_result text;
CREATE INDEX jobs_hooks_due ON jobs (state, updated_at)
WHERE (on_finish IS NOT NULL OR webhook IS NOT NULL) AND hook_run IS DISTINCT FROM runs;
