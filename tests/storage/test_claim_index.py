"""The claim must read the ready-jobs index in order, not sort every ready row.

With 100,000 pending jobs a sort would cost every claim a scan of all of them; the query plan
shows which one the database chose, so this checks the plan (EXPLAIN), never a timing.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from queuectl import Queue
from queuectl.models import NewJob
from queuectl.storage import Storage

from .conftest import execute_raw

if TYPE_CHECKING:
    import psycopg

T0 = 1_767_225_600.0
PENDING = 100_000


def _plan(storage: Storage, name: str = "claim_ready_jobs", **more: object) -> str:
    from queuectl.storage.sqlite.driver import QUERIES, SqliteDriver

    params: dict[str, object] = {"worker_id": "w", "lease_until": T0 + 30, "now": T0,
                                 "limit": 8, "queues": None, "locked": [], **more}
    driver = getattr(storage, "db", None)
    if isinstance(driver, SqliteDriver):
        params.update(locked="[]")
        query = QUERIES[name]
        assert isinstance(query, str)
        rows = driver.connection().execute("EXPLAIN QUERY PLAN " + query, params)
        return "\n".join(row[3] for row in rows)
    from queuectl.storage.postgres.driver import QUERIES as POSTGRES
    from queuectl.storage.postgres.driver import PostgresDriver

    assert isinstance(driver, PostgresDriver)
    execute_raw(storage, "ANALYZE jobs")

    def explain(conn: psycopg.Connection[Any], in_doubt: bool) -> list[Any]:
        return conn.execute(b"EXPLAIN " + POSTGRES[name], params).fetchall()

    return "\n".join(row[0] for row in driver.connector.run(explain, transaction=False))


def _enqueue_plain(storage: Storage, count: int, batch: int, first_at: float) -> None:
    """Store jobs j0..j<count-1>, ``batch`` at a time, batch k enqueued at first_at + k*batch.

    On PostgreSQL a bulk enqueue through the store runs at some 6,000 rows a second (16 s
    here for 100,000); one INSERT ... SELECT writes the rows insert_plain_job would (same
    columns, same values, seq in id order) in under a second, and 0009's statement trigger
    counts them as it counts any insert. SQLite's enqueue is fast enough to use as is.
    """
    from queuectl.storage.postgres.driver import PostgresDriver

    if not isinstance(getattr(storage, "db", None), PostgresDriver):
        for start in range(0, count, batch):
            storage.enqueue([NewJob(f"j{n}", "true", 0) for n in range(start, start + batch)],
                            first_at + start)
        return
    execute_raw(storage, f"""
        INSERT INTO jobs (id, command, max_retries, cwd, state, run_at, created_at, updated_at)
        SELECT 'j' || n, 'true', 0, NULL, 'pending', at, at, at
        FROM generate_series(0, {count - 1}) AS n,
             LATERAL (SELECT {first_at}::double precision + n / {batch} * {batch} AS at) AS t
        ORDER BY n""")


def test_the_claim_walks_the_ready_index_with_100k_pending_jobs(storage: Storage) -> None:
    _enqueue_plain(storage, PENDING, 20_000, T0 - PENDING)
    storage.record_and_claim("w", [], 1, T0, T0 + 30)  # some history in other states too
    for name in ("claim_ready_jobs", "limited_queues_ahead"):  # the latter: limited queues
        plan = _plan(storage, name)
        assert "jobs_ready" in plan, plan
        assert "TEMP B-TREE FOR ORDER BY" not in plan.upper(), plan  # SQLite's sort
        assert "Sort" not in plan.split("Subquery Scan")[-1], plan  # PostgreSQL's sort


def test_without_a_limited_queue_the_claim_reads_no_ready_job_to_find_limited_ones(
    tmp_path: Path,
) -> None:
    """limited_queues_ahead runs before every claim. An EXISTS among its conditions that is
    false for every job (no queue has a limit) made SQLite read every ready job looking for
    :limit rows that never came: 13 ms a claim at 100,000 pending. Counted in the virtual
    machine's steps, not timed."""
    from queuectl.storage.sqlite.driver import QUERIES, SqliteDriver

    with Queue(tmp_path / "queue.db") as queue:
        queue.storage.enqueue([NewJob(f"j{n}", "true", 0) for n in range(20_000)], T0 - 1)
        driver = getattr(queue.storage, "db", None)
        assert isinstance(driver, SqliteDriver)
        db = driver.connection()
        query = QUERIES["limited_queues_ahead"]
        assert isinstance(query, str)
        steps = [0]

        def count() -> int:
            steps[0] += 1
            return 0  # go on

        db.set_progress_handler(count, 100)  # called every 100 instructions
        try:
            found = db.execute(query, {"now": T0, "limit": 8, "queues": None}).fetchall()
        finally:
            db.set_progress_handler(None, 0)
    assert found == []
    assert steps[0] < 20, f"{100 * steps[0]} instructions: the ready jobs were read"


def test_the_housekeepers_look_for_jobs_come_due_walks_the_index_from_its_bounds(
    storage: Storage,
) -> None:
    """jobs_come_due says its rule once, in a CTE, inlined into both of its reads (NOT
    MATERIALIZED): on PostgreSQL each walks jobs_next_run from its bound. Materialized, the
    CTE would first read all 20,000 jobs that are ready now. (SQLite searches by state, as
    it did before; it never runs this in a worker: its wake-ups are not reliable.)"""
    _enqueue_plain(storage, 20_000, 20_000, T0 - 60)
    storage.enqueue([NewJob(f"d{n}", "true", 0, delay=n) for n in range(100)], T0)
    plan = _plan(storage, "jobs_come_due", since=T0 + 10, now=T0 + 20)
    reads = [line for line in plan.splitlines()
             if "SEARCH job USING INDEX" in line or "using jobs_next_run on jobs" in line]
    assert len(reads) == 2, plan
    assert "MATERIALIZE ready" not in plan and "CTE Scan" not in plan, plan
    assert storage.jobs_come_due(T0 + 10, T0 + 20) == (10, T0 + 21)
