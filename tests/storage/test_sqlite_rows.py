"""SQLite rows become jobs by column position, whatever the statement's columns."""

from __future__ import annotations

from pathlib import Path

from queuectl.models import NewJob
from queuectl.storage.sqlite import SqliteStorage
from queuectl.storage.sqlite_rows import job_of, jobs_of

T0 = 1_767_225_600.0


def test_rows_of_any_column_order_and_extra_columns_give_the_same_job(tmp_path: Path) -> None:
    store = SqliteStorage(tmp_path / "queue.db")
    store.enqueue([NewJob("dep", "true", 0)], T0)
    job = NewJob("j", "echo hi", 2, cwd="/tmp", env={"A": "1"}, timeout=1.5,
                 fatal_exit_codes=(3, 4), retry_on_timeout=False, output_limit=100, priority=5,
                 queue="q", depends_on=("dep",), unique_key="k", tags=("a", "b"),
                 backoff_base=3.0, backoff_max=60.0, jitter=0.5)
    [stored] = store.enqueue([job], T0)
    assert store.get("j") == stored
    reversed_columns = ", ".join(
        reversed([row[1] for row in store.db.execute("PRAGMA table_info(jobs)")]))
    rows = store.db.execute(
        f"SELECT 'extra' AS first, {reversed_columns}, 42 AS last FROM jobs ORDER BY seq"
    ).fetchall()
    assert job_of(rows[1]) == stored
    assert jobs_of(rows)[1] == stored
    assert jobs_of([]) == []
    store.close()
