-- Steering running jobs and workers from outside (queuectl kill, pause, resume, parallel): a
-- request waits in the row until the worker holding the job (or the worker itself) checks
-- in, which a wake-up makes it do at once.

-- A signal for the running job's process group (TERM, STOP for pause, CONT for resume, ...).
ALTER TABLE jobs ADD COLUMN signal_request text;
-- The run the signal is for: a run that ended before its worker took it leaves it unsent.
ALTER TABLE jobs ADD COLUMN signal_run integer;
-- The run that a pause stopped: the job shows as paused while that run goes on.
ALTER TABLE jobs ADD COLUMN paused_run integer;
-- How many jobs a running worker should run at once from now on.
ALTER TABLE workers ADD COLUMN slots_wanted integer;
