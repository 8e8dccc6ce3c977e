-- Finished runs by time, for stats, throughput charts and /metrics: a window of the last
-- hour reads only that hour's runs. The key includes (job_id, number) so that paging in
-- (finished_at, job_id, number) order needs no sort.
CREATE INDEX attempts_by_finish ON attempts (finished_at, job_id, number)
    WHERE finished_at IS NOT NULL;
