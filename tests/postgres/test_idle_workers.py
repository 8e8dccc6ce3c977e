"""Issue 12, idle cost on PostgreSQL: an idle worker that hears every wake-up polls once a
heartbeat, and one housekeeper wakes idle workers for jobs whose time came without any
wake-up (a delay or a retry's backoff ran out). A job due then still starts on time while
the housekeeper itself is busy."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from queuectl import Queue
from tests.helpers import Cli, WorkerPool, wait_until

pytestmark = pytest.mark.postgres


def test_a_job_whose_time_comes_unannounced_starts_on_time_while_the_housekeeper_is_busy(
    pg_url: str, cli: Cli, tmp_path: Path
) -> None:
    cli.env["QUEUECTL_DB"] = pg_url
    pool = WorkerPool(cli, pg_url, tmp_path)  # type: ignore[arg-type]  # a URL, not a path
    try:
        with Queue(pg_url, environ={}) as queue:
            queue.enqueue({"id": "long", "command": "sleep 60"})
            pool.start(1)  # the first registered: the housekeeper, busy from now on
            wait_until(lambda: queue.get("long").state.value == "processing", timeout=30,
                       message="the housekeeper to start the long job")
            pool.start(1)  # idle, and told at once that it is not the housekeeper
            schema = pg_url.rsplit("schema=", 1)[1]
            with psycopg.connect(pg_url.split("?", 1)[0], autocommit=True) as conn:

                def listed_idle() -> int:
                    row = conn.execute(f"SELECT count(*) FROM {schema}.idle_workers").fetchone()
                    return int(row[0]) if row else 0

                wait_until(lambda: listed_idle() == 1, timeout=30, message="one idle worker")
                # Known to the idle worker, whom its enqueue woke (and took off the list
                # until it looked): due in an hour.
                queue.enqueue({"id": "moved", "command": "true", "delay": "1h"})
                wait_until(lambda: listed_idle() == 1, timeout=30,
                           message="the idle worker to look, and list itself again")
                # Moved behind the workers' backs, as nothing in queuectl does: no wake-up.
                # The idle worker would find it at its next heartbeat, up to 10 s late.
                due = queue.storage.clock().now() + 2
                conn.execute(f"UPDATE {schema}.jobs SET run_at = %s WHERE id = 'moved'",
                             (due,))
            wait_until(lambda: queue.get("moved").state.value == "completed", timeout=30,
                       interval=0.05, message="the moved job to run")
            [attempt] = queue.attempts("moved")
            assert attempt.started_at is not None
            assert attempt.started_at - due < 3.0  # the heartbeat's poll would be up to 10 s
    finally:
        pool.close()
