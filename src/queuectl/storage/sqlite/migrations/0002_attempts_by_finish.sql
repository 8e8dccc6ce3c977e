-- Finished runs by time, for stats, throughput charts and /metrics: a window of the last
-- hour reads only that hour's runs, not the whole history.
CREATE INDEX attempts_by_finish ON attempts (finished_at) WHERE finished_at IS NOT NULL;
