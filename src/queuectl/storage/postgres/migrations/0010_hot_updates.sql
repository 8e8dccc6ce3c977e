-- Updates that can be HOT (heap-only: no index touched, the old version pruned on the page
-- without VACUUM): a heartbeat renews the leases of every running job, many times a minute,
-- and changes lease_until only. jobs_held indexed lease_until, so every renewal wrote a new
-- entry in every index of the table; it now holds the worker alone (a rescue reads the few
-- running rows and compares their leases). A fillfactor of 70 leaves room on each page for
-- the new versions. Claims and results change the state, which the claim's indexes are built
-- on: those cannot be HOT, and are not meant to be.
DROP INDEX jobs_held;
CREATE INDEX jobs_held ON jobs (worker_id) WHERE state = 'processing';
ALTER TABLE jobs SET (fillfactor = 70);
