"""Issue 12 item 7: how many updates of the jobs table are HOT (heap-only), before and after
migration 0010 (jobs_held without lease_until, fillfactor 70).

    .venv/bin/python bench/pg_hot.py [--url postgresql://postgres@127.0.0.1:5432/test]
        [--jobs 500] [--heartbeats 20]

A worker's life in storage calls, with no command run: --jobs jobs enqueued and claimed,
--heartbeats heartbeats renewing all their leases, then every result recorded. "before" is
the same schema with 0001-0009's layout put back (the bench recreates the old index and resets
the fillfactor before the jobs are written); "after" is the schema as migrated. Figures from
pg_stat_user_tables (n_tup_upd, n_tup_hot_upd), read once the store's session has ended.
"""

from __future__ import annotations

import argparse
import os
import secrets
import time
from typing import Any

import psycopg

from queuectl import JobState, Queue
from queuectl.models import Outcome
from queuectl.storage.postgres.driver import PostgresDriver

OLD_LAYOUT = """
DROP INDEX jobs_held;
CREATE INDEX jobs_held ON jobs (worker_id, lease_until) WHERE state = 'processing';
ALTER TABLE jobs RESET (fillfactor);
"""


def _stats(conn: psycopg.Connection[Any], schema: str) -> tuple[int, int]:
    row = conn.execute("SELECT n_tup_upd, n_tup_hot_upd FROM pg_stat_user_tables"
                       " WHERE schemaname = %s AND relname = 'jobs'", (schema,)).fetchone()
    return (int(row[0]), int(row[1])) if row else (0, 0)


def _run(url: str, old_layout: bool, jobs: int, heartbeats: int) -> dict[str, float]:
    schema = "qhot_" + secrets.token_hex(4)
    db = f"{url}{'&' if '?' in url else '?'}schema={schema}"
    with psycopg.connect(url, autocommit=True) as admin:
        try:
            with Queue(db, environ={}) as queue:
                if old_layout:
                    driver = queue.storage.db
                    assert isinstance(driver, PostgresDriver)
                    driver.connector.run(lambda conn, _: conn.execute(OLD_LAYOUT),
                                         transaction=False)
                queue.enqueue_many([{"command": "true"}] * jobs)
                storage, now = queue.storage, time.time()
                claimed, _ = storage.record_and_claim("w", [], jobs, now, now + 30)
                for beat in range(heartbeats):
                    storage.heartbeat("w", now + beat, now + beat + 30)
                done = [Outcome(job.id, job.runs, JobState.COMPLETED, now + heartbeats,
                                exit_code=0) for job in claimed]
                storage.record_and_claim("w", done, 0, now + heartbeats, now + heartbeats)
            expected = jobs * (2 + heartbeats)  # claim, each renewal, the result
            deadline = time.monotonic() + 30
            while (stats := _stats(admin, schema))[0] < expected:  # flushed at session end
                if time.monotonic() > deadline:
                    raise RuntimeError(f"statistics show {stats[0]} of {expected} updates")
                admin.execute("SELECT pg_stat_clear_snapshot()")
                time.sleep(0.1)
            updates, hot = stats
            return {"updates": updates, "hot": hot, "hot_share": hot / updates}
        finally:
            admin.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default=os.environ.get(
        "QUEUECTL_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test"))
    parser.add_argument("--jobs", type=int, default=500)
    parser.add_argument("--heartbeats", type=int, default=20)
    args = parser.parse_args()
    print(f"{args.jobs} jobs claimed, {args.heartbeats} heartbeats, results recorded; "
          f"load average {os.getloadavg()[0]:.1f}")
    for name, old in (("before (0001-0009)", True), ("after (0010)", False)):
        figures = _run(args.url, old, args.jobs, args.heartbeats)
        print(f"  {name:20} updates {figures['updates']:7.0f}  HOT {figures['hot']:7.0f}"
              f"  ({figures['hot_share']:.0%})")


if __name__ == "__main__":
    main()
